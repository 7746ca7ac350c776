from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    return render(request, "content/feed.html")


@login_required
def library(request: HttpRequest) -> HttpResponse:
    if not request.user.can_edit_content:
        raise Http404
    return render(request, "content/library.html")


@login_required
def review(request: HttpRequest) -> HttpResponse:
    if not request.user.can_review:
        raise Http404
    return render(request, "content/review.html")

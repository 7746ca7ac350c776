from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def dashboards(request: HttpRequest) -> HttpResponse:
    if not request.user.can_see_dashboards:
        raise Http404
    return render(request, "analytics/dashboards.html")

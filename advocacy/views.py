from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def my_shares(request: HttpRequest) -> HttpResponse:
    return render(request, "advocacy/my_shares.html")

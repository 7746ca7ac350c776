"""The URLconf of bench.dashboards: Portevoix's own routes plus two floors served through
the same middleware stack, so a ratio says what the dashboard's own work costs.

- `bench/bare/`: a logged-in page that renders base.html and nothing else;
- `bench/bare-api/`: a DRF view with the analytics API's permission answering a constant.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations.api import HasOrganization


@login_required
def bare_page(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {})


class BareApiView(APIView):
    permission_classes = [HasOrganization]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns: list[Any | URLPattern | URLResolver] = [
    path("bench/bare/", bare_page),
    path("bench/bare-api/", BareApiView.as_view()),
    path("", include("config.urls")),
]

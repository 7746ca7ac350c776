"""The app's routes under /api/v1/ (config/urls.py includes them)."""

from __future__ import annotations

from django.urls import URLPattern, path

from digests.api import MyDigestPreviewView, MyDigestView

urlpatterns: list[URLPattern] = [
    path("me/digest/", MyDigestView.as_view(), name="api_my_digest"),
    path("me/digest/preview/", MyDigestPreviewView.as_view(), name="api_my_digest_preview"),
]

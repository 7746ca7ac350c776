"""The app's pages (config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

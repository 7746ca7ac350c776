"""The app's pages (config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import URLPattern, path

from digests import views

urlpatterns: list[URLPattern] = [
    path("digest/", views.digest_preferences, name="digest_preferences"),
    path("digest/share/<str:token>/", views.digest_share, name="digest_share"),
    path("digest/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
    path("admin/digest/", views.digest_admin, name="digest_admin"),
    path(
        "admin/digest/preview/<int:pk>/",
        views.digest_admin_preview_html,
        name="digest_admin_preview_html",
    ),
]

"""The org admin's page and the page that explains why a second factor is required
(config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import path

from twofactor import views

urlpatterns = [
    path("admin/two-factor/", views.two_factor_admin, name="two_factor_admin"),
    path(
        "admin/two-factor/<int:pk>/reset/",
        views.two_factor_reset_confirm,
        name="two_factor_reset",
    ),
    path("two-factor/required/", views.two_factor_required, name="two_factor_required"),
]

"""The app's pages (config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import path

from nudges import views

urlpatterns = [
    path("nudges/", views.nudge_preferences, name="nudge_preferences"),
    path(
        "nudges/scheduled/<int:content_id>/",
        views.nudge_scheduled_share,
        name="nudge_scheduled_share",
    ),
    path("admin/nudges/", views.nudges_admin, name="nudges_admin"),
]

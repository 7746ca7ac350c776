"""The app's pages (config/urls.py includes them at the root)."""

from __future__ import annotations

from django.urls import path

from messaging import views

urlpatterns = [
    path("admin/channels/", views.channels_admin, name="channels_admin"),
    path("admin/channels/<int:pk>/", views.destination_edit, name="channels_destination_edit"),
]

"""Pages of the archive app."""

from __future__ import annotations

from django.urls import path

from archive import views

urlpatterns = [
    path("archive/", views.archive_search, name="archive_search"),
    path("archive/<int:pk>/", views.archive_detail, name="archive_detail"),
    path("archive/exports/", views.archive_exports, name="archive_exports"),
    path("archive/exports/<int:pk>/", views.archive_export_detail, name="archive_export_detail"),
    path(
        "archive/exports/<int:pk>/download/",
        views.archive_export_download,
        name="archive_export_download",
    ),
    path("admin/archive/", views.archive_settings, name="archive_settings"),
]

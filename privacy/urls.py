"""Pages of the privacy app (config/urls.py includes them at the root, before the
organisations' pages, so that /admin/people/<id>/erase/ is ours)."""

from __future__ import annotations

from django.urls import path

from privacy import views

urlpatterns = [
    path("me/data/", views.my_data, name="privacy_my_data"),
    path("me/data/download/", views.my_data_download, name="privacy_my_data_download"),
    path("me/data/join/", views.join, name="privacy_join"),
    path("me/data/leave/", views.leave, name="privacy_leave"),
    path("privacy/", views.privacy_page, name="privacy_page"),
    path("admin/privacy/", views.privacy_admin, name="privacy_admin"),
    path("admin/people/<int:pk>/erase/", views.person_erase_page, name="privacy_person_erase"),
]

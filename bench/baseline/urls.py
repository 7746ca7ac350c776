from __future__ import annotations

from django.urls import path

from bench.baseline import views

urlpatterns = [
    path("healthz", views.healthz),
    path("s/<str:code>", views.redirect),
    path("api/v1/feed/", views.feed),
    path("feed/", views.page),
]

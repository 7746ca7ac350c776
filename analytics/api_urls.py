"""The app's routes under /api/v1/ (config/urls.py includes them)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from analytics import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("analytics/summary/", api.SummaryView.as_view(), name="api_analytics_summary"),
    path("analytics/timeseries/", api.TimeseriesView.as_view(), name="api_analytics_timeseries"),
    path(
        "analytics/top-contents/",
        api.TopContentsView.as_view(),
        name="api_analytics_top_contents",
    ),
    path(
        "analytics/top-ambassadors/",
        api.TopAmbassadorsView.as_view(),
        name="api_analytics_top_ambassadors",
    ),
    path("analytics/teams/", api.TeamsView.as_view(), name="api_analytics_teams"),
]

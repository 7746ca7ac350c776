from django.urls import path

from analytics import views

urlpatterns = [
    path("dashboards/", views.dashboards, name="dashboards"),
    path("dashboards/contents/<int:pk>/", views.content_dashboard, name="dashboard_content"),
    path("dashboards/challenges/<int:pk>/", views.challenge_dashboard, name="dashboard_challenge"),
    path("dashboards/what-works/", views.what_works, name="dashboard_what_works"),
    path("dashboards/report/", views.report, name="dashboard_report"),
    path("dashboards/export/<slug:table>.csv", views.export, name="dashboard_export"),
    path("admin/analytics/", views.analytics_settings, name="analytics_settings"),
]

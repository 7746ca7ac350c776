from django.urls import path

from analytics import views

urlpatterns = [
    path("dashboards/", views.dashboards, name="dashboards"),
]

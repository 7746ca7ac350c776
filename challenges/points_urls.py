from django.urls import path

from challenges.views import points

urlpatterns = [
    path("leaderboard/", points.leaderboard, name="leaderboard"),
    path("me/points/", points.points_history, name="points_history"),
    path("me/points/privacy/", points.points_privacy, name="points_privacy"),
    path("admin/points/", points.points_admin, name="points_admin"),
]

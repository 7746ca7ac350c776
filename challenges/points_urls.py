from django.urls import path

from challenges.views import points

urlpatterns = [
    path("leaderboard/", points.leaderboard, name="leaderboard"),
]

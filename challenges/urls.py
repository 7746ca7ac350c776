from django.urls import path

from challenges import views

urlpatterns = [
    path("challenges/", views.challenges, name="challenges"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
]

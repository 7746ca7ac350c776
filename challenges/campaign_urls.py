from django.urls import path

from challenges.views import campaigns

urlpatterns = [
    path("challenges/", campaigns.challenges, name="challenges"),
]

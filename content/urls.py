from django.urls import path

from content import views

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("library/", views.library, name="library"),
    path("review/", views.review, name="review"),
]

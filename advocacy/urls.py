from django.urls import path

from advocacy import tracking, views

urlpatterns = [
    path("s/<str:code>", tracking.follow_link, name="tracked_link"),
    path("shares/", views.my_shares, name="my_shares"),
]

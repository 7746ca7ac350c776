from django.urls import path

from advocacy import views

urlpatterns = [
    path("shares/", views.my_shares, name="my_shares"),
]

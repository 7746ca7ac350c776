from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list, name="notifications"),
    path("bell/", views.notification_badge, name="notification_badge"),
    path("read/", views.notification_mark_read, name="notification_mark_read"),
    path("preferences/", views.notification_preferences, name="notification_preferences"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
]

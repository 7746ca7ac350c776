from django.urls import path

from challenges import campaign_urls, display_views, points_urls

# The lobby screen and its widget: the secret in the URL is the only key.
display_urlpatterns = [
    path("display/<str:secret>/", display_views.display_screen, name="display_screen"),
    path("display/<str:secret>/live/", display_views.display_live, name="display_live"),
    path("display/<str:secret>/widget/", display_views.display_widget, name="display_widget"),
    path(
        "display/<str:secret>/widget/live/",
        display_views.display_widget_live,
        name="display_widget_live",
    ),
    path("admin/display/", display_views.display_admin, name="display_admin"),
    path("admin/display/preview/", display_views.display_preview, name="display_preview"),
]

urlpatterns = [*points_urls.urlpatterns, *campaign_urls.urlpatterns, *display_urlpatterns]

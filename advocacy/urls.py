from django.urls import path

from advocacy import tracking, views

urlpatterns = [
    path("s/<str:code>", tracking.follow_link, name="tracked_link"),
    path("share/<int:pk>/", views.share_content, name="share_content"),
    path("share/<int:pk>/preview/", views.share_preview, name="share_preview"),
    # "<url_name>_sheet": the feed card's Share opens it in a sheet (content.extensions).
    path("share/<int:pk>/sheet/", views.share_sheet, name="share_content_sheet"),
    path("share/<int:pk>/sheet/link/", views.share_sheet_link, name="share_sheet_link"),
    path("share/<int:pk>/sheet/pending/", views.share_sheet_pending, name="share_sheet_pending"),
    path("shares/", views.my_shares, name="my_shares"),
    path("shares/<int:pk>/", views.share_detail, name="share_detail"),
    path("shares/<int:pk>/<str:verb>/", views.share_action, name="share_action"),
    path("networks/", views.networks, name="networks"),
    path("networks/<str:network>/reconnect/", views.network_reconnect, name="network_reconnect"),
    path("admin/networks/", views.network_apps_admin, name="network_apps_admin"),
    path("admin/sharing/", views.sharing_admin, name="sharing_admin"),
]

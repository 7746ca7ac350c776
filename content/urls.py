from django.urls import path

from content import views

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("content/<int:pk>/", views.content_detail, name="content_detail"),
    path("content/<int:pk>/edit/", views.content_edit, name="content_edit"),
    path("content/<int:pk>/link-preview/", views.content_link_preview, name="content_link_preview"),
    path("content/<int:pk>/versions/<int:number>/", views.content_version, name="content_version"),
    path("content/<int:pk>/<str:verb>/", views.content_action, name="content_action"),
    path("library/", views.library, name="library"),
    path("library/new/", views.content_create, name="content_create"),
    path("library/preview/", views.caption_preview, name="caption_preview"),
    path("library/calendar/", views.content_calendar, name="content_calendar"),
    path("library/feeds/", views.feeds, name="feeds"),
    path("library/feeds/<int:pk>/edit/", views.feed_edit, name="feed_edit"),
    path("library/feeds/<int:pk>/<str:verb>/", views.feed_action, name="feed_action"),
    path("review/", views.review_queue, name="review_queue"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("suggestions/<int:pk>/<str:verb>/", views.suggestion_decide, name="suggestion_decide"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("guidelines/charter/accept/", views.charter_accept, name="charter_accept"),
    path("guidelines/<str:kind>/", views.guideline_page, name="guideline_page"),
    path("guidelines/<str:kind>/edit/", views.guideline_edit, name="guideline_edit"),
    path("admin/compliance/", views.compliance_settings, name="compliance_settings"),
    path("admin/approval-chains/", views.approval_chains_admin, name="approval_chains_admin"),
    path("admin/approval-chains/<int:pk>/", views.approval_chain_edit, name="approval_chain_edit"),
    path(
        "admin/approval-chains/groups/<int:pk>/",
        views.reviewer_group_edit,
        name="reviewer_group_edit",
    ),
]

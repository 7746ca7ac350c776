from django.urls import path

from organizations import views

urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.set_language, name="set_language"),
    path("me/", views.profile, name="profile"),
    path("design/", views.design, name="design_system"),
    path(
        "me/api-tokens/revoke-all/",
        views.profile_api_tokens_revoke_all,
        name="profile_api_tokens_revoke_all",
    ),
    path(
        "me/api-tokens/<str:prefix>/revoke/",
        views.profile_api_token_revoke,
        name="profile_api_token_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("organizations/switch/", views.organization_switch, name="organization_switch"),
    path("agency/", views.agency, name="agency"),
    path("operator/organizations/", views.operator_organizations, name="operator_organizations"),
    path("admin/", views.admin_home, name="org_admin_home"),
    path("admin/teams/", views.admin_teams, name="org_admin_teams"),
    path("admin/teams/<int:pk>/", views.admin_team_edit, name="org_admin_team_edit"),
    path("admin/people/", views.admin_users, name="org_admin_users"),
    path("admin/people/<int:pk>/", views.admin_user_edit, name="org_admin_user_edit"),
    path("admin/invitations/", views.admin_invitations, name="org_admin_invitations"),
    path(
        "admin/invitations/<int:pk>/<str:verb>/",
        views.admin_invitation_action,
        name="org_admin_invitation_action",
    ),
    path("admin/import/", views.admin_import, name="org_admin_import"),
    path("admin/audit/", views.admin_audit, name="org_admin_audit"),
]

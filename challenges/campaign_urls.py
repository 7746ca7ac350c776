from django.urls import path

from challenges.views import campaigns

urlpatterns = [
    path("challenges/", campaigns.challenges, name="challenges"),
    path("challenges/new/", campaigns.challenge_create, name="challenge_create"),
    path("challenges/<int:pk>/", campaigns.challenge_detail, name="challenge_detail"),
    path("challenges/<int:pk>/edit/", campaigns.challenge_edit, name="challenge_edit"),
    path("challenges/<int:pk>/<str:verb>/", campaigns.challenge_action, name="challenge_action"),
    path("rewards/", campaigns.rewards, name="rewards"),
    path("rewards/mine/", campaigns.my_redemptions, name="my_redemptions"),
    path("rewards/<int:pk>/redeem/", campaigns.reward_redeem, name="reward_redeem"),
    path("admin/rewards/", campaigns.reward_admin, name="reward_admin"),
    path("admin/rewards/new/", campaigns.reward_create, name="reward_create"),
    path("admin/rewards/<int:pk>/", campaigns.reward_edit, name="reward_edit"),
    path("admin/redemptions/", campaigns.redemption_queue, name="redemption_queue"),
    path(
        "admin/redemptions/<int:pk>/<str:verb>/",
        campaigns.redemption_decide,
        name="redemption_decide",
    ),
]

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = _("Challenges and points")

    def ready(self) -> None:
        from organizations.navigation import nav_register

        nav_register(
            url_name="challenges",
            label=_("Challenges"),
            order=20,
            visible=lambda user: True,
        )
        nav_register(
            url_name="leaderboard",
            label=_("Leaderboard"),
            order=30,
            visible=lambda user: True,
        )

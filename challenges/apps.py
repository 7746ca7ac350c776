from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = _("Challenges and points")

    def ready(self) -> None:
        from challenges.audit_sentences import register as audit_sentences_register

        audit_sentences_register()

        from challenges import campaign_wiring, points_wiring

        # Points first: the campaigns' demo and receivers build on the ledger.
        points_wiring.connect()
        campaign_wiring.connect()
        from challenges import feed_card  # noqa: F401  (registers the feed card's extras)

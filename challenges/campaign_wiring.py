"""Challenges and rewards: navigation, notification kinds, signal receivers and demo
data, connected from ChallengesConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def connect() -> None:
    from challenges.demo_campaigns import seed_demo_campaigns
    from challenges.services.campaigns import KIND_LAUNCHED, KIND_RESULTS
    from challenges.services.rewards import KIND_DECIDED, KIND_REQUESTED
    from notifications.kinds import kind_register
    from organizations.navigation import nav_register
    from organizations.signals import demo_seeded

    nav_register(url_name="challenges", label=_("Challenges"), order=20)
    nav_register(url_name="rewards", label=_("Rewards"), order=35)
    kind_register(KIND_LAUNCHED, _("A challenge I can join starts"))
    kind_register(KIND_RESULTS, _("The results of a challenge I joined are out"))
    kind_register(KIND_DECIDED, _("My reward request is fulfilled or refused"))
    kind_register(
        KIND_REQUESTED, _("Someone asks for a reward (administrators)"), email_default=False
    )
    # Connected after the points demo: the active challenge's points come from its ledger.
    demo_seeded.connect(seed_demo_campaigns, dispatch_uid="campaigns-demo")

    _register_media()


def _register_media() -> None:
    from challenges.campaign_selectors import challenges_visible, rewards_all, rewards_catalogue
    from challenges.models import Challenge, Reward
    from organizations.media import media_register

    # A banner is seen by whoever sees the challenge (drafts: editors only); a reward image
    # by whoever sees the reward (inactive ones: administrators only).
    media_register(
        folder="challenges",
        model=Challenge,
        field="banner",
        organization_id=lambda challenge: challenge.organization_id,
        can_view=lambda viewer, challenge: (
            challenges_visible(viewer).filter(pk=challenge.pk).exists()
        ),
    )
    media_register(
        folder="rewards",
        model=Reward,
        field="image",
        organization_id=lambda reward: reward.organization_id,
        can_view=lambda viewer, reward: (
            (rewards_all(viewer) if viewer.is_org_admin else rewards_catalogue(viewer))
            .filter(pk=reward.pk)
            .exists()
        ),
    )

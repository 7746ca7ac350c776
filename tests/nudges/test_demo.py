"""The demo organisation's nudge settings (a receiver of demo_seeded), idempotent."""

from __future__ import annotations

import pytest

from nudges.models import NudgeSettings
from organizations.signals import demo_seeded
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_demo_seeded_sets_the_nudges_once():
    organization = OrganizationFactory()
    NudgeSettings.objects.create(organization=organization, weekly_cap=4, charter_enabled=False)

    for _ in range(2):
        demo_seeded.send(sender=None, organization=organization)

    config = NudgeSettings.objects.get(organization=organization)
    assert NudgeSettings.objects.filter(organization=organization).count() == 1
    assert config.enabled_kinds() == [
        "scheduled_share",
        "challenge_ending",
        "charter",
        "inactive",
    ]
    assert (config.inactivity_weeks, config.weekly_cap) == (3, 1)

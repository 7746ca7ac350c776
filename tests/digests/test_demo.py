"""The demo's digest: the organisation's schedule and a few people's choices, written
again by a second seed without duplicates, and never an email."""

from __future__ import annotations

import pytest
from django.core import mail

from digests.models import DigestDelivery, DigestPreference, DigestSettings, Frequency
from organizations.models import Role
from organizations.signals import demo_seeded
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_demo_seeded_sets_schedule_and_a_few_choices_idempotently():
    organization = OrganizationFactory()
    people = [UserFactory(organization=organization, role=Role.EMPLOYEE) for _ in range(4)]

    demo_seeded.send(sender=None, organization=organization)
    demo_seeded.send(sender=None, organization=organization)

    settings = DigestSettings.objects.get(organization=organization)
    assert (settings.default_frequency, settings.weekday, settings.hour) == ("weekly", 0, 9)
    choices = dict(DigestPreference.objects.values_list("user_id", "frequency"))
    assert choices == {
        people[0].pk: Frequency.DAILY,
        people[1].pk: Frequency.WEEKLY,
        people[2].pk: Frequency.NEVER,
    }
    assert mail.outbox == [] and not DigestDelivery.objects.exists()

"""Joining is explicit (accepting the charter records it, with the time and version);
leaving keeps the history (no digests or reminders, off the leaderboards, waiting shares
cancelled, joining again restores the choices) or erases it."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from advocacy.models import Share, ShareStatus
from challenges.models import Score
from content.models import CharterAcceptance, Guideline, GuidelineKind
from content.selectors import charter_pending
from content.services import charter_accept
from digests.models import DigestPreference, Frequency
from nudges.models import NudgeKind, NudgeOptOut
from organizations.models import AuditLogEntry, User
from privacy.models import Participation
from tests.challenges.conftest import make_share
from tests.conftest import client_for
from tests.privacy.conftest import EMAIL, NOW

pytestmark = pytest.mark.django_db


def _charter(organization, version: int = 2) -> Guideline:
    return Guideline.objects.create(
        organization=organization,
        kind=GuidelineKind.CHARTER,
        title="Charter",
        body="Be kind.",
        version=version,
    )


def test_accepting_the_charter_records_joining(personas, clock, django_capture_on_commit_callbacks):
    _charter(personas.organization)
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=personas.teammate)
    found = Participation.objects.get(user=personas.teammate)
    assert (found.joined_at, found.charter_version, found.left_at) == (NOW, 2, None)
    assert AuditLogEntry.objects.filter(action="privacy.joined", actor=personas.teammate).exists()


def test_existing_acceptances_migrate_as_joined(personas, clock):
    charter = _charter(personas.organization)
    CharterAcceptance.objects.create(user=personas.teammate, guideline=charter, version=1)
    CharterAcceptance.objects.create(user=personas.teammate, guideline=charter, version=2)
    migration = importlib.import_module("privacy.migrations.0002_participation_from_charter")
    migration.forwards(apps, None)
    migration.forwards(apps, None)  # idempotent
    found = Participation.objects.get(user=personas.teammate)
    assert found.charter_version == 2 and found.left_at is None
    assert not Participation.objects.filter(user=personas.owner).exists()


def test_leaving_with_history_kept_then_joining_again(
    personas, clock, django_capture_on_commit_callbacks
):
    user = personas.teammate
    _charter(personas.organization)
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=user)
    DigestPreference.objects.create(
        user=user, organization=personas.organization, frequency=Frequency.DAILY
    )
    NudgeOptOut.objects.create(user=user, kind=NudgeKind.INACTIVE)
    waiting = make_share(user, at=NOW + timedelta(days=1), status=ShareStatus.SCHEDULED)
    published = make_share(user, at=NOW - timedelta(days=1))
    client = client_for(user)

    answer = client.post("/me/data/leave/", {"history": "keep"}, follow=True)
    assert "You have left the programme." in answer.content.decode()
    assert DigestPreference.objects.get(user=user).frequency == Frequency.NEVER
    assert set(NudgeOptOut.objects.filter(user=user).values_list("kind", flat=True)) == set(
        NudgeKind.values
    )
    assert Score.objects.get(user=user).hidden_from_rankings
    assert Share.objects.get(pk=waiting.pk).status == ShareStatus.CANCELLED
    assert Share.objects.get(pk=published.pk).status == ShareStatus.PUBLISHED
    assert Participation.objects.get(user=user).left_at == NOW
    assert "Join again" in client.get("/me/data/").content.decode()

    # The consent is withdrawn: sharing asks for the charter again, and joining again is
    # accepting it.
    assert not CharterAcceptance.objects.filter(user=user).exists()
    assert charter_pending(user) is not None
    answer = client.post("/me/data/join/")
    assert answer.status_code == 302 and answer["Location"].endswith("/guidelines/charter/")
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=user)
    participation = Participation.objects.get(user=user)
    assert participation.left_at is None and participation.charter_version == 2
    assert DigestPreference.objects.get(user=user).frequency == Frequency.DAILY
    assert list(NudgeOptOut.objects.filter(user=user).values_list("kind", flat=True)) == [
        NudgeKind.INACTIVE
    ]
    assert not Score.objects.get(user=user).hidden_from_rankings


def test_leaving_and_erasing_needs_the_typed_address(rich, personas):
    client = client_for(rich.user)
    answer = client.post("/me/data/leave/", {"history": "erase", "confirm_email": "x"}, follow=True)
    assert "Type the person" in answer.content.decode()
    assert User.objects.get(pk=rich.user.pk).email == EMAIL
    assert Participation.objects.get(user=rich.user).left_at is None
    answer = client.post("/me/data/leave/", {"history": "erase", "confirm_email": EMAIL})
    assert answer.status_code == 302
    user = User.objects.get(pk=rich.user.pk)
    assert user.email.endswith("@erased.invalid") and not user.is_active
    assert Participation.objects.get(user=user).left_at is not None
    entry = AuditLogEntry.objects.get(action="privacy.person_erased")
    assert entry.details["self"] is True and entry.actor_id == user.pk
    assert client.get("/me/data/").status_code == 302  # signed out


def test_joining_without_the_charter_sends_to_it(personas, clock):
    _charter(personas.organization)
    answer = client_for(personas.teammate).post("/me/data/join/")
    assert answer.status_code == 302 and "/guidelines/charter/" in answer["Location"]
    assert not Participation.objects.exists()


def test_the_registry_and_the_pages_say_that_leaving_deletes_the_acceptances(personas, clock):
    from django.utils import translation

    from privacy.registry import entry_for

    with translation.override("en"):
        reason = str(entry_for("content.CharterAcceptance").reason)
        participation = str(entry_for("privacy.Participation").reason)
    assert "Leaving the programme deletes them" in reason
    assert "participation and the audit log" in reason
    assert "when the person joined and left" in participation
    owner = personas.owner
    owner.language = "en"
    owner.save(update_fields=["language"])
    html = client_for(owner).get(f"/admin/people/{personas.teammate.pk}/erase/").content.decode()
    assert "Leaving the programme deletes them" in html

"""Builders for the privacy tests: a person with data of (nearly) every kind Portevoix
holds, under a distinctive name that a search of the whole database can find. The clock:
Wednesday 9 December 2026, 10:00 UTC."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from advocacy.models import (
    AccountStatus,
    ActivityKind,
    PostingSlot,
    Share,
    ShareMode,
    ShareStatus,
    SharingPreference,
    SocialAccount,
)
from advocacy.services.activity import activity_record
from advocacy.token_vault import token_encrypt
from archive.models import ArchiveExport
from challenges.services.points import points_award
from content.models import Guideline, GuidelineKind, Network, Suggestion
from content.services import charter_accept
from digests.models import DigestDelivery, DigestPreference, Frequency
from notifications.models import EmailPreference, Notification, PushPreference, PushSubscription
from nudges.models import NudgeDelivery, NudgeKind, NudgeOptOut
from organizations.audit import audit_record
from organizations.models import Invitation, Role, User
from organizations.services import api_token_issue, user_set_role
from provisioning.models import ScimPerson
from tests.challenges.conftest import click, make_share
from tests.content.factories import ContentFactory
from tests.factories import UserFactory

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
FIRST, LAST = "Zéphyrine", "Quatremare"
EMAIL = "zephyrine.quatremare@example.test"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CELERY_TASK_ALWAYS_EAGER = False


TEXT_TYPES = {"character varying", "text", "jsonb", "json", "character"}
# The archive's records and events of what was shared are kept under legal retention (a
# trigger forbids any change to them, and the law requires the person's name with what
# they published until `retain_until`): the only tables the search leaves out, as the
# erasure page and the docs say. The archive's other tables (export requests, policies,
# the chain head) are searched like any other.
EXCLUDED_TABLES = ("archive_archivedshare", "archive_archiveevent")
EXTERNAL_ID = "EMP-ZQ-4711"


def text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
        rows = cursor.fetchall()
    return [
        (table, column)
        for table, column, data_type in rows
        if data_type in TEXT_TYPES and table not in EXCLUDED_TABLES
    ]


def where_found(*needles: str) -> list[str]:
    """Every (table.column) of the database whose text holds one of the needles."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column} ({needle})")
    return found


@dataclass
class Rich:
    user: User
    published: Share
    scheduled: Share
    avatar: str


def make_rich_person(personas, django_capture_on_commit_callbacks) -> Rich:
    """`personas.organization` gets a person with data of every kind the programme
    produces: profile and photo, teams managed, shares (published and scheduled), clicks,
    points, consents, notifications, devices, preferences, deliveries, connected account,
    API token, session, sign-in address, audit entries by and about them, invitations, and
    another person's notification that names them."""
    organization = personas.organization
    user = UserFactory(
        organization=organization,
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
        job_title="Responsable Quatremare",
        time_zone="Europe/Paris",
        teams=[personas.team],
    )
    avatar = default_storage.save("avatars/zq-avatar.png", ContentFile(b"\x89PNG fake"))
    # Provisioned by the identity provider (SCIM): its id for the person, and its record.
    User.objects.filter(pk=user.pk).update(
        avatar=avatar, external_id=EXTERNAL_ID, last_login=NOW - timedelta(days=1)
    )
    ScimPerson.objects.create(user=user, organization=organization, preferred_language="fr")
    user.refresh_from_db()
    personas.team.managers.add(user)

    Guideline.objects.create(
        organization=organization, kind=GuidelineKind.CHARTER, title="Charter", body="Be kind."
    )
    with django_capture_on_commit_callbacks(execute=True):
        charter_accept(user=user)
    content = ContentFactory(organization=organization, author=user)
    Suggestion.objects.create(
        organization=organization, author=user, url="https://example.org/a", text="Idea"
    )

    published = make_share(user, content=content, at=NOW - timedelta(days=2))
    scheduled = make_share(
        user, at=NOW + timedelta(days=1), status=ShareStatus.SCHEDULED, mode=ShareMode.LINK
    )
    with django_capture_on_commit_callbacks(execute=True):
        activity_record(
            kind=ActivityKind.SHARE_PUBLISHED, share=published, occurred_at=NOW - timedelta(days=2)
        )
    for _ in range(3):
        click(published, at=NOW - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        points_award(
            user=user,
            reason="bonus",
            points=40,
            source_key=f"test-bonus:{uuid.uuid4()}",
            occurred_at=NOW - timedelta(days=1),
        )

    SocialAccount.objects.create(
        organization=organization,
        user=user,
        network=Network.LINKEDIN,
        adapter="sandbox",
        external_id="zq-123",
        display_name=f"{FIRST} {LAST}",
        access_token=token_encrypt("secret-token"),
        status=AccountStatus.ACTIVE,
    )
    PostingSlot.objects.create(user=user, weekday=1, time="09:00")
    SharingPreference.objects.create(user=user)

    Notification.objects.create(
        organization=organization, recipient=user, kind="system", title="Welcome"
    )
    Notification.objects.create(
        organization=organization,
        recipient=personas.owner,
        kind="system",
        title=f"{FIRST} {LAST} joined Portevoix",
        body=f"Say hello to {FIRST} {LAST} ({EMAIL}).",
    )
    EmailPreference.objects.create(user=user, kind="system", email=False)
    PushPreference.objects.create(user=user, kind="system", push=False)
    PushSubscription.objects.create(
        organization=organization,
        user=user,
        endpoint="https://push.example.test/zq",
        p256dh="k",
        auth="a",
        user_agent="Firefox",
    )
    DigestPreference.objects.create(
        user=user, organization=organization, frequency=Frequency.WEEKLY
    )
    DigestDelivery.objects.create(
        organization=organization, user=user, period_key="2026-W49", created_at=NOW
    )
    NudgeOptOut.objects.create(user=user, kind=NudgeKind.INACTIVE)
    NudgeDelivery.objects.create(
        organization=organization,
        user=user,
        kind=NudgeKind.CHARTER,
        key="charter:1",
        run=uuid.uuid4(),
        sent_at=NOW,
    )
    api_token_issue(user=user)
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()

    # Audit entries by them, about them, and naming them in passing.
    audit_record(action="user.profile_updated", organization=organization, actor=user, target=user)
    personas.owner.refresh_from_db()
    user_set_role(actor=personas.owner, user=user, role=Role.EDITOR)
    invitation = Invitation.objects.create(
        organization=organization,
        email="friend@example.test",
        first_name="Friend",
        invited_by=user,
        expires_at=NOW + timedelta(days=7),
    )
    audit_record(
        action="invitation.created",
        organization=organization,
        actor=personas.owner,
        target=invitation,
        details={"note": f"asked by {FIRST} {LAST} <{EMAIL}>"},
    )
    Invitation.objects.create(
        organization=organization,
        email=EMAIL,
        first_name=FIRST,
        last_name=LAST,
        expires_at=NOW + timedelta(days=7),
        revoked_at=NOW,
    )
    # An archive export they asked for (as a compliance officer): it names them.
    ArchiveExport.objects.create(
        organization=organization,
        requested_by=user,
        requested_by_email=EMAIL,
        date_from=(NOW - timedelta(days=30)).date(),
        date_to=NOW.date(),
    )
    user.refresh_from_db()
    return Rich(user, published, scheduled, avatar)


@pytest.fixture
def rich(clock, personas, django_capture_on_commit_callbacks) -> Rich:
    return make_rich_person(personas, django_capture_on_commit_callbacks)

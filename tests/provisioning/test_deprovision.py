"""`person_deprovision` on its own: everything that lets the person act ends at once, and
nothing of their history goes."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from knox.models import AuthToken

from advocacy.models import Share, ShareMode, ShareStatus, SocialAccount
from advocacy.token_vault import token_decrypt
from challenges.models import PointEntry
from challenges.services.points import points_award
from content.models import Network
from organizations.models import AuditLogEntry, Role
from organizations.services import api_token_issue
from provisioning.services import person_deprovision, person_reactivate
from tests.advocacy.conftest import connect_real, fake_x, network_app  # noqa: F401  (fixture)
from tests.conftest import client_for
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, UserFactory
from tests.provisioning.conftest import NOW

pytestmark = pytest.mark.django_db


def _share(user, status: str) -> Share:
    return Share.objects.create(
        organization=user.organization,
        user=user,
        content=ContentFactory(organization=user.organization, author=user),
        network=Network.LINKEDIN,
        mode=ShareMode.LINK,
        text="Proud of our teams.",
        status=status,
        scheduled_at=NOW,
    )


def _sessions_of(user) -> int:
    return sum(
        1
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def test_deprovisioning_ends_everything_and_keeps_the_history(
    clock,
    fake_x,  # noqa: F811  (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    organization = OrganizationFactory()
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN)
    person = UserFactory(organization=organization)
    colleague = UserFactory(organization=organization)
    browser = client_for(person)
    colleague_browser = client_for(colleague)
    assert browser.get("/feed/").status_code == 200
    api_token_issue(user=person)
    api_token_issue(user=colleague)
    network_app(organization, "x")
    account = connect_real(person, fake_x, "x")
    access = token_decrypt(account.access_token)
    scheduled = _share(person, ShareStatus.SCHEDULED)
    waiting = _share(person, ShareStatus.AWAITING_CONFIRMATION)
    published = _share(person, ShareStatus.PUBLISHED)
    points_award(
        user=person,
        reason="share_published",
        points=10,
        source_key=f"test:{published.pk}",
        occurred_at=NOW,
    )

    # As in a SCIM request: the network is called once the transaction has committed.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        counts = person_deprovision(user=person, actor=admin, reason="left the company")
        assert SocialAccount.objects.filter(user=person).exists()
    assert len(callbacks) >= 1

    person.refresh_from_db()
    assert not person.is_active
    assert counts == {
        "api_tokens": 1,
        "sessions": 1,
        "shares_cancelled": 2,
        "accounts_disconnected": 1,
    }
    assert _sessions_of(person) == 0
    assert browser.get("/feed/").status_code == 302  # signed out
    assert not AuthToken.objects.filter(user=person).exists()
    assert not SocialAccount.objects.filter(user=person).exists()
    assert fake_x.state.tokens[access].revoked  # revoked at the network, not only here
    scheduled.refresh_from_db()
    waiting.refresh_from_db()
    published.refresh_from_db()
    assert scheduled.status == waiting.status == ShareStatus.CANCELLED
    assert published.status == ShareStatus.PUBLISHED
    assert PointEntry.objects.filter(user=person).count() == 1
    entry = AuditLogEntry.objects.get(action="person.deprovisioned")
    assert (entry.actor, entry.target_id) == (admin, str(person.pk))
    assert entry.details["reason"] == "left the company"
    assert entry.details["shares_cancelled"] == 2
    # The others go on.
    assert colleague_browser.get("/feed/").status_code == 200
    assert AuthToken.objects.filter(user=colleague).count() == 1

    # Again: nothing more to end, nothing fails.
    again = person_deprovision(user=person, reason="retry")
    assert again == {
        "api_tokens": 0,
        "sessions": 0,
        "shares_cancelled": 0,
        "accounts_disconnected": 0,
    }


def test_reactivation(clock):
    person = UserFactory(organization=OrganizationFactory())
    person_deprovision(user=person, reason="test")
    person_reactivate(user=person, reason="back")
    person.refresh_from_db()
    assert person.is_active
    assert AuditLogEntry.objects.filter(action="person.reactivated").count() == 1
    person_reactivate(user=person, reason="twice")  # already active: nothing to write
    assert AuditLogEntry.objects.filter(action="person.reactivated").count() == 1

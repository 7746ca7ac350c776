"""`seed_demo` fills the sharing side: three months of shares in every state by about 35
people, connected sandbox accounts, tracked links, clicks credited to the right sharer,
team and network, and the matching activity feed; a second run changes nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from advocacy.demo import seed_demo_shares
from advocacy.models import (
    LIVE_STATUSES,
    AccountStatus,
    Activity,
    ActivityKind,
    AttemptKind,
    Click,
    PostingSlot,
    Share,
    ShareAttempt,
    ShareMode,
    ShareStatus,
    SocialAccount,
    TrackedLink,
)
from advocacy.signals import activity_recorded
from advocacy.token_vault import token_decrypt
from challenges.models import PointEntry
from content.models import CharterAcceptance, Content, ContentStatus, Network
from organizations.models import Organization, User
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

DOMAIN = "demo.portevoix.test"
COUNTED = [Share, ShareAttempt, TrackedLink, Click, Activity, SocialAccount, PostingSlot]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def ancestors(user: User) -> set[int]:
    found: set[int] = set()
    for team in user.teams.all():
        while team is not None and team.pk not in found:
            found.add(team.pk)
            team = team.parent
    return found


@pytest.fixture
def seeded(settings, tmp_path, demo_clock):
    settings.MEDIA_ROOT = tmp_path
    sent = []

    def receiver(sender, activity, **kwargs):
        sent.append(activity)

    activity_recorded.connect(receiver, dispatch_uid="test-demo-activity")
    try:
        call_command("seed_demo", stdout=io.StringIO())
    finally:
        activity_recorded.disconnect(dispatch_uid="test-demo-activity")
    # Demo history is written without the live signal.
    assert sent == []
    return Organization.objects.get(slug="demo")


def test_seed_demo_shares_every_state(seeded, settings, django_capture_on_commit_callbacks):
    """One seed for three checks (a seed costs about 18 s): every state of share, clicks
    and activity that agree, and a second seed that writes nothing."""
    _shares_every_state(seeded, settings)
    _clicks_and_activity_agree(seeded)
    _a_second_seed_writes_nothing(django_capture_on_commit_callbacks)


def _shares_every_state(seeded, settings) -> None:
    organization = seeded
    now = timezone.now()
    shares = list(
        Share.objects.filter(organization=organization).select_related("content", "account", "user")
    )
    assert 300 <= len(shares) <= 450
    assert all(share.organization_id == organization.pk for share in Share.objects.all())

    statuses = Counter(share.status for share in shares)
    assert statuses[ShareStatus.PUBLISHED] >= 250
    # Three months of history, every month alive.
    published = [share.published_at for share in shares if share.published_at]
    assert now - min(published) >= timedelta(days=80)
    for month in range(3):
        assert any(
            timedelta(days=30 * month) <= now - at < timedelta(days=30 * (month + 1))
            for at in published
        )
    assert 3 <= statuses[ShareStatus.SCHEDULED] <= 10
    assert 2 <= statuses[ShareStatus.FAILED] <= 3
    assert statuses[ShareStatus.OUTCOME_UNKNOWN] == 1
    assert statuses[ShareStatus.NEEDS_RECONNECT] == 1
    assert statuses[ShareStatus.AWAITING_CONFIRMATION] >= 3
    assert 1 <= statuses[ShareStatus.CANCELLED] <= 4
    assert not statuses[ShareStatus.PUBLISHING] and not statuses[ShareStatus.RECALLING]
    withdrawn = Content.objects.filter(organization=organization, status=ContentStatus.WITHDRAWN)
    if withdrawn.exists():
        assert statuses[ShareStatus.RECALLED] >= 1
        assert statuses[ShareStatus.RECALL_ASKED] >= 1
        assert {
            share.status for share in shares if share.content.status == ContentStatus.WITHDRAWN
        } <= {ShareStatus.RECALLED, ShareStatus.RECALL_ASKED, ShareStatus.CANCELLED}

    # Realistic spread: some share a lot, many a little, the rest never.
    per_person = Counter(share.user_id for share in shares)
    assert 30 <= len(per_person) <= 40
    assert max(per_person.values()) >= 25 and min(per_person.values()) == 1
    accepted = set(CharterAcceptance.objects.values_list("user_id", flat=True))
    assert set(per_person) <= accepted

    # No two live shares of one content by one person on one network.
    live = Counter(
        (share.user_id, share.content_id, share.network)
        for share in shares
        if share.status in LIVE_STATUSES
    )
    assert max(live.values()) == 1

    disclosure = "#employee"
    base = settings.SANDBOX_NETWORK_URL.rstrip("/")
    for share in shares:
        content = share.content
        assert share.user.organization_id == organization.pk
        assert disclosure in share.text
        assert share.scheduled_at >= content.publish_at
        audience = {team.pk for team in content.audience_teams.all()}
        assert not audience or audience & ancestors(share.user)
        if share.network == Network.FACEBOOK:
            assert share.mode == ShareMode.LINK
        if share.mode == ShareMode.API:
            assert share.account is not None and share.account.user_id == share.user_id
            assert share.account.network == share.network
        else:
            assert share.account is None
        if share.published_at is not None:
            assert content.publish_at <= share.published_at <= now
        if share.status == ShareStatus.PUBLISHED and share.mode == ShareMode.API:
            assert share.external_url == f"{base}/p/{share.external_id}" and share.external_id
            assert share.attempts.filter(outcome="published").exists()
        if share.status in (
            ShareStatus.FAILED,
            ShareStatus.OUTCOME_UNKNOWN,
            ShareStatus.NEEDS_RECONNECT,
        ):
            assert share.last_error and share.attempts.exists() and share.published_at is None
            assert not share.clicks.exists()
        if share.status == ShareStatus.SCHEDULED:
            assert share.mode == ShareMode.API and share.scheduled_at > now
            assert share.scheduled_at <= now + timedelta(days=15)
            assert share.next_attempt_at == share.scheduled_at
            assert share.account.status == AccountStatus.ACTIVE
        if share.status == ShareStatus.RECALLED:
            assert share.attempts.filter(kind=AttemptKind.DELETE, outcome="deleted").exists()
        # A share carries a tracked link exactly when its content has a link.
        has_link = TrackedLink.objects.filter(share=share).exists()
        assert has_link == bool(content.link_url)
    links = TrackedLink.objects.filter(organization=organization).select_related("share__content")
    assert links.count() >= 30
    for link in links:
        assert link.destination == link.share.content.link_url
        assert link.utm_source == link.share.network
    failed = [share for share in shares if share.status == ShareStatus.FAILED]
    assert any(share.attempts.count() > 1 for share in failed)

    # Accounts: sandbox, encrypted demo tokens, far from expiry.
    accounts = SocialAccount.objects.filter(organization=organization).select_related("user")
    assert accounts.count() >= 10
    for account in accounts:
        handle = f"{account.user.email.split('@')[0]}-{account.network}"
        assert account.adapter == "sandbox"
        assert account.network in (Network.LINKEDIN, Network.X)
        assert account.external_id == f"sbx-{handle}"
        assert account.access_token and "sandbox-demo" not in account.access_token
        assert token_decrypt(account.access_token) == f"sandbox-demo:{handle}"
        assert account.expires_at > now + timedelta(days=365)
    assert accounts.filter(status=AccountStatus.NEEDS_RECONNECT).count() == 1
    reconnect = Share.objects.get(status=ShareStatus.NEEDS_RECONNECT)
    assert reconnect.account.status == AccountStatus.NEEDS_RECONNECT

    # The logins: the employee has nothing yet; only the manager has a history and an
    # account.
    employee = User.objects.get(email=f"employee@{DOMAIN}")
    manager = User.objects.get(email=f"manager@{DOMAIN}")
    logins = User.objects.filter(
        email__in=[f"{name}@{DOMAIN}" for name in ("admin", "comms", "reviewer", "manager")]
    )
    assert not Share.objects.filter(user=employee).exists()
    assert not SocialAccount.objects.filter(user=employee).exists()
    assert set(accounts.filter(user__in=logins).values_list("user_id", flat=True)) <= {manager.pk}
    assert accounts.filter(user=manager, status=AccountStatus.ACTIVE).exists()
    mine = Counter(Share.objects.filter(user=manager).values_list("status", flat=True))
    assert mine[ShareStatus.PUBLISHED] >= 3 and mine[ShareStatus.SCHEDULED] >= 1

    # Posting slots for the people with a queued share.
    assert PostingSlot.objects.filter(user__organization=organization).count() >= 5
    assert PostingSlot.objects.filter(user=manager).exists()


def _clicks_and_activity_agree(seeded) -> None:
    organization = seeded
    now = timezone.now()
    clicks = list(
        Click.objects.filter(organization=organization).select_related("share", "link", "sharer")
    )
    assert 1000 <= len(clicks) <= 3500
    assert Click.objects.count() == len(clicks)
    first_team = {}
    for user_id, team_id in User.teams.through.objects.order_by("user_id", "team_id").values_list(
        "user_id", "team_id"
    ):
        first_team.setdefault(user_id, team_id)
    for click in clicks:
        share = click.share
        assert click.link.share_id == share.pk
        assert click.sharer_id == share.user_id
        assert click.content_id == share.content_id
        assert click.network == share.network
        assert click.team_id == first_team[share.user_id]
        assert click.organization_id == share.organization_id == click.link.organization_id
        assert share.published_at is not None
        assert share.published_at <= click.clicked_at <= now
        assert len(click.visitor) == 32
    assert len({click.visitor for click in clicks}) > len(clicks) * 0.8
    assert 1 <= sum(click.is_self for click in clicks) <= len(clicks) * 0.05
    assert len({click.share_id for click in clicks}) >= 30
    # Clicks fade after the share: most come in the first two days.
    early = sum(
        click.clicked_at - click.share.published_at <= timedelta(days=2) for click in clicks
    )
    assert early > len(clicks) * 0.7

    activities = Activity.objects.filter(organization=organization)
    assert Activity.objects.count() == activities.count()
    kinds = Counter(activities.values_list("kind", flat=True))
    shares = Share.objects.filter(organization=organization, published_at__isnull=False)
    assert kinds[ActivityKind.SHARE_PUBLISHED] == shares.filter(mode=ShareMode.API).count()
    assert kinds[ActivityKind.SHARE_LINK_CONFIRMED] == shares.filter(mode=ShareMode.LINK).count()
    assert kinds[ActivityKind.CLICK_RECORDED] == len(clicks)
    assert (
        kinds[ActivityKind.SHARE_RECALLED]
        == shares.filter(status__in=[ShareStatus.RECALLED, ShareStatus.RECALL_ASKED]).count()
    )
    for activity in activities.exclude(kind=ActivityKind.CLICK_RECORDED).select_related("share"):
        assert activity.source_key == f"{activity.kind}:{activity.share_id}"
        assert activity.user_id == activity.share.user_id
        assert activity.content_id == activity.share.content_id
        assert activity.network == activity.share.network
        assert activity.share.published_at is not None
    by_click = {
        activity.click_id: activity
        for activity in activities.filter(kind=ActivityKind.CLICK_RECORDED)
    }
    assert set(by_click) == {click.pk for click in clicks}
    for click in clicks:
        activity = by_click[click.pk]
        assert activity.source_key == f"click_recorded:{click.event_id}"
        assert activity.share_id == click.share_id and activity.user_id == click.sharer_id
        assert activity.content_id == click.content_id and activity.network == click.network
        assert activity.occurred_at == click.clicked_at


def _a_second_seed_writes_nothing(django_capture_on_commit_callbacks) -> None:
    before = counts()
    assert before["Share"] and before["Click"]
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before
    assert callbacks == []


# A moment at which the demo, before clicks stopped short of the settle window, had clicks
# in the last 15 minutes that a later run paid (as on 2026-12-05, when `make test` failed).
# 13:00 to 13:20 crosses none of the demo contents' times of day, so the rerun plans alike.
SETTLE_ANCHOR = datetime(2026, 12, 5, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))


def test_seed_demo_leaves_no_click_to_settle(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(SETTLE_ANCHOR, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
    # No demo click is young enough to settle later: the window plus an hour of margin.
    settle = timedelta(seconds=settings.POINTS_CLICK_SETTLE_SECONDS)
    latest = Click.objects.aggregate(latest=Max("clicked_at"))["latest"]
    assert latest is not None
    assert latest < SETTLE_ANCHOR - settle - timedelta(hours=1)

    before = counts() | {"PointEntry": PointEntry.objects.count()}
    # Past the settle window of every click of the first run: nothing more is paid.
    with (
        time_machine.travel(SETTLE_ANCHOR + timedelta(minutes=20), tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        call_command("seed_demo", stdout=io.StringIO())
    assert counts() | {"PointEntry": PointEntry.objects.count()} == before
    assert callbacks == []


def test_demo_shares_need_the_demo_people(db):
    organization = OrganizationFactory(slug="demo")
    seed_demo_shares(sender=None, organization=organization)
    assert not Share.objects.exists()
    assert not SocialAccount.objects.exists()

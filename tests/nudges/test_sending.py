"""The sending run: each nudge's rule, the caps, the opt-outs and switches, the time
zones, idempotency and the query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy.models import ShareStatus, SharingPause
from challenges.models import ChallengeStatus
from notifications.models import Notification
from nudges.models import NudgeDelivery, NudgeKind, NudgeOptOut, NudgeSettings
from nudges.services import deliveries_claim, nudges_send
from organizations.signals import demo_history
from tests.challenges.challenge_factories import make_challenge
from tests.factories import OrganizationFactory
from tests.nudges.conftest import NOW, accept, charter_of, person, share_of, shared_at

pytestmark = pytest.mark.django_db


def kinds_of(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True)
    )


# --- inactivity ---------------------------------------------------------------------------


def test_inactive_person_is_reminded_once_per_stretch(clock, org):
    idle = person(org)
    shared_at(idle, NOW - timedelta(weeks=4))
    busy = person(org)
    shared_at(busy, NOW - timedelta(days=3))
    newcomer = person(org, date_joined=NOW - timedelta(days=5))
    gone = person(org, is_active=False)
    shared_at(gone, NOW - timedelta(weeks=10))

    assert nudges_send() == 1
    assert kinds_of(idle) == ["nudges.inactive"]
    notification = Notification.objects.get(recipient=idle)
    assert notification.url == "/feed/"
    assert "more than 3 weeks" in notification.body
    assert kinds_of(busy) == kinds_of(newcomer) == kinds_of(gone) == []
    delivery = NudgeDelivery.objects.get(user=idle)
    assert delivery.key == f"inactive:{(NOW - timedelta(weeks=4)).date().isoformat()}"

    # Weeks later, still inactive, past the weekly cap: the same stretch, no second reminder.
    clock.move_to(NOW + timedelta(weeks=3))
    nudges_send()
    assert kinds_of(idle) == ["nudges.inactive"]
    # They share, then fall silent again for N weeks: a new stretch, a new reminder.
    shared_at(idle, NOW + timedelta(weeks=3))
    clock.move_to(NOW + timedelta(weeks=6, hours=1))
    nudges_send()
    assert kinds_of(idle) == ["nudges.inactive", "nudges.inactive"]


def test_person_who_never_shared_counts_from_arrival_and_scheduled_share_counts(clock, org):
    never = person(org, date_joined=NOW - timedelta(weeks=5))
    waiting = person(org, date_joined=NOW - timedelta(weeks=5))
    share_of(waiting, status=ShareStatus.SCHEDULED, scheduled_at=NOW + timedelta(days=2))

    nudges_send()

    assert kinds_of(never) == ["nudges.inactive"]
    assert kinds_of(waiting) == []


def test_inactivity_weeks_is_the_organisation_setting(clock, org):
    NudgeSettings.objects.create(organization=org, inactivity_weeks=6)
    four = person(org)
    shared_at(four, NOW - timedelta(weeks=4))
    seven = person(org)
    shared_at(seven, NOW - timedelta(weeks=7))

    nudges_send()

    assert kinds_of(four) == []
    assert kinds_of(seven) == ["nudges.inactive"]
    assert "more than 6 weeks" in Notification.objects.get(recipient=seven).body


def test_no_reminder_to_share_while_sharing_is_paused(clock, org):
    idle = person(org)
    SharingPause.objects.create(organization=org, paused_at=NOW, reason="Crisis")

    nudges_send()

    assert kinds_of(idle) == []


# --- scheduled share -------------------------------------------------------------------------


def test_scheduled_share_reminder_an_hour_before_once_per_share(clock, org):
    sharer = person(org)
    shared_at(sharer, NOW - timedelta(days=1))
    share = share_of(
        sharer,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=55),
        created_at=NOW - timedelta(days=1),
    )
    # Two hours away: not yet; five minutes away: too late to act; scheduled 10 minutes
    # ago for 40 minutes later: they know.
    too_late = person(org)
    shared_at(too_late, NOW - timedelta(days=1))
    share_of(
        too_late,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=5),
        created_at=NOW - timedelta(days=1),
    )
    later = person(org)
    shared_at(later, NOW - timedelta(days=1))
    share_of(
        later,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(hours=2),
        created_at=NOW - timedelta(days=1),
    )
    just_done = person(org)
    shared_at(just_done, NOW - timedelta(days=1))
    share_of(
        just_done,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=40),
        created_at=NOW - timedelta(minutes=10),
    )

    assert nudges_send() == 1
    notification = Notification.objects.get(recipient=sharer)
    assert notification.kind == "nudges.scheduled_share"
    assert notification.title == "Your scheduled share goes out in one hour"
    assert notification.url == f"/nudges/scheduled/{share.content_id}/"
    assert NudgeDelivery.objects.get(user=sharer).key == f"scheduled:{share.pk}"
    assert kinds_of(later) == kinds_of(just_done) == kinds_of(too_late) == []

    clock.move_to(NOW + timedelta(minutes=10))
    nudges_send()
    assert kinds_of(sharer) == ["nudges.scheduled_share"]


def test_scheduled_share_reminder_goes_out_at_night_too(clock, org):
    # 03:00 in Paris: habit nudges wait, the scheduled share does not.
    night = NOW.replace(hour=2)
    clock.move_to(night)
    sharer = person(org)
    share_of(
        sharer,
        status=ShareStatus.SCHEDULED,
        scheduled_at=night + timedelta(minutes=50),
        created_at=night - timedelta(days=1),
    )

    nudges_send()

    assert kinds_of(sharer) == ["nudges.scheduled_share"]


# --- charter --------------------------------------------------------------------------------


def test_charter_nudge_for_people_who_have_not_accepted_it_once_per_version(clock, org):
    charter = charter_of(org)
    pending = person(org)
    done = person(org)
    for someone in (pending, done):
        shared_at(someone, NOW - timedelta(days=1))
    accept(done, charter)

    nudges_send()

    assert kinds_of(pending) == ["nudges.charter"]
    assert Notification.objects.get(recipient=pending).url == "/guidelines/charter/"
    assert kinds_of(done) == []
    assert NudgeDelivery.objects.get(user=pending).key == "charter:v1"

    # A week later, the same version: nothing; a new version: everyone who has not
    # accepted it.
    clock.move_to(NOW + timedelta(days=7, hours=1))
    assert nudges_send() == 0
    charter.version = 2
    charter.save()
    assert nudges_send() == 2
    assert kinds_of(done) == ["nudges.charter"]


def test_no_charter_no_charter_nudge(clock, org):
    someone = person(org)
    shared_at(someone, NOW - timedelta(days=1))
    assert nudges_send() == 0


# --- challenge ending -------------------------------------------------------------------------


def test_challenge_ending_for_people_close_to_the_goal(clock, org):
    challenge = make_challenge(
        org,
        starts_at=NOW - timedelta(days=10),
        ends_at=NOW + timedelta(hours=30),
        goal=4,
        winners_count=0,
    )
    half, three, done, none = (person(org) for _ in range(4))
    for who, shares in ((half, 2), (three, 3), (done, 4), (none, 1)):
        for day in range(shares):
            shared_at(who, NOW - timedelta(days=day + 1))

    nudges_send()

    assert kinds_of(half) == kinds_of(three) == ["nudges.challenge_ending"]
    assert kinds_of(done) == kinds_of(none) == []
    notification = Notification.objects.get(recipient=half)
    assert notification.url == f"/challenges/{challenge.pk}/"
    assert "Launch week" in notification.title
    assert NudgeDelivery.objects.get(user=half).key == f"challenge-ending:{challenge.pk}"


def test_challenge_not_ending_soon_or_not_running_is_ignored(clock, org):
    make_challenge(org, ends_at=NOW + timedelta(days=5), goal=2, winners_count=0)
    make_challenge(
        org,
        ends_at=NOW + timedelta(hours=5),
        goal=2,
        winners_count=0,
        status=ChallengeStatus.CANCELLED,
    )
    close = person(org)
    shared_at(close, NOW - timedelta(days=1))

    nudges_send()

    assert kinds_of(close) == []


# --- cap, priority, opt-outs, switches ---------------------------------------------------------


def test_one_nudge_a_week_by_default_and_the_most_urgent_first(clock, org):
    charter_of(org)
    someone = person(org)
    shared_at(someone, NOW - timedelta(weeks=5))  # inactive and charter pending
    share = share_of(
        someone,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=50),
        created_at=NOW - timedelta(days=1),
    )

    nudges_send()
    assert kinds_of(someone) == ["nudges.scheduled_share"]

    # The share went out; the cap holds the other nudges for the rest of the week.
    share.status = ShareStatus.PUBLISHED
    share.save()
    for hours in (1, 24, 6 * 24):
        clock.move_to(NOW + timedelta(hours=hours))
        nudges_send()
    assert kinds_of(someone) == ["nudges.scheduled_share"]

    clock.move_to(NOW + timedelta(days=7, minutes=10))
    nudges_send()
    assert kinds_of(someone) == ["nudges.scheduled_share", "nudges.charter"]


def test_weekly_cap_setting_is_respected(clock, org):
    NudgeSettings.objects.create(organization=org, weekly_cap=2)
    charter_of(org)
    someone = person(org)

    nudges_send()  # one per run: the charter first
    nudges_send()  # then the reminder to share
    nudges_send()  # nothing else is due

    assert kinds_of(someone) == ["nudges.charter", "nudges.inactive"]


def test_person_opt_out_and_organisation_switch(clock, org):
    charter_of(org)
    opted_out = person(org)
    NudgeOptOut.objects.create(user=opted_out, kind=NudgeKind.CHARTER)
    other = person(org)
    for who in (opted_out, other):
        shared_at(who, NOW - timedelta(days=1))

    nudges_send()
    assert kinds_of(opted_out) == []
    assert kinds_of(other) == ["nudges.charter"]

    # The organisation turns the reminder to share off: the charter opt-out leaves nothing.
    NudgeSettings.objects.filter(organization=org).update(inactive_enabled=False)
    clock.move_to(NOW + timedelta(weeks=5))
    nudges_send()
    assert kinds_of(opted_out) == []


def test_nothing_when_every_kind_is_off(clock, org):
    NudgeSettings.objects.create(
        organization=org,
        scheduled_share_enabled=False,
        challenge_ending_enabled=False,
        charter_enabled=False,
        inactive_enabled=False,
    )
    charter_of(org)
    person(org)
    assert nudges_send() == 0


# --- time zones -----------------------------------------------------------------------------


def test_habit_nudges_wait_for_daytime_in_each_persons_zone(clock, org):
    paris = person(org, time_zone="Europe/Paris")
    tokyo = person(org, time_zone="Asia/Tokyo")
    default = person(org)  # the organisation's zone, Paris

    # 10:00 UTC: 11:00 in Paris, 19:00 in Tokyo.
    nudges_send()
    assert kinds_of(paris) == kinds_of(default) == ["nudges.inactive"]
    assert kinds_of(tokyo) == []

    # Thursday 01:00 UTC: 10:00 in Tokyo, 02:00 in Paris.
    clock.move_to(NOW + timedelta(hours=15))
    nudges_send()
    assert kinds_of(tokyo) == ["nudges.inactive"]


def test_no_habit_nudge_at_the_weekend(clock, org):
    someone = person(org)
    clock.move_to(NOW + timedelta(days=3))  # Saturday 11:00 in Paris
    assert nudges_send() == 0
    clock.move_to(NOW + timedelta(days=5))  # Monday
    assert nudges_send() == 1
    assert kinds_of(someone) == ["nudges.inactive"]


# --- idempotency, concurrency, isolation, language, demo ---------------------------------------


def test_run_twice_nudges_once(clock, org):
    NudgeSettings.objects.create(organization=org, weekly_cap=7)
    charter_of(org)
    someone = person(org)
    shared_at(someone, NOW - timedelta(days=1))

    assert nudges_send() == 1
    assert nudges_send() == 0
    assert kinds_of(someone) == ["nudges.charter"]
    assert NudgeDelivery.objects.filter(user=someone).count() == 1


def test_concurrent_claims_write_one_row(clock, org):
    someone = person(org)
    first = deliveries_claim(
        organization_id=org.pk, items=[(someone.pk, "charter", "charter:v1")], now=NOW
    )
    second = deliveries_claim(
        organization_id=org.pk, items=[(someone.pk, "charter", "charter:v1")], now=NOW
    )
    assert first == {(someone.pk, "charter:v1")}
    assert second == set()
    assert NudgeDelivery.objects.filter(user=someone).count() == 1


def test_other_organisations_settings_and_people_stay_apart(clock, org):
    other = OrganizationFactory(time_zone="Europe/Paris")
    NudgeSettings.objects.create(organization=other, inactive_enabled=False)
    charter_of(org)
    mine = person(org)
    theirs = person(other)

    nudges_send()

    assert kinds_of(mine) == ["nudges.charter"]  # the priority over inactivity
    assert kinds_of(theirs) == []  # no charter there, reminders to share off
    assert NudgeDelivery.objects.get(user=mine).organization_id == org.pk


def test_written_in_each_persons_language(clock, org):
    french = person(org, language="fr")
    english = person(org, language="en")

    nudges_send()

    assert Notification.objects.get(recipient=english).title == "Something to share this week?"
    french_title = Notification.objects.get(recipient=french).title
    assert french_title  # a title is written; its French text comes from the catalogue


def test_emails_follow_the_kinds_email_preference(clock, org, django_capture_on_commit_callbacks):
    from unittest import mock

    from notifications.models import EmailPreference

    emailed = person(org)
    silent = person(org)
    EmailPreference.objects.create(user=silent, kind="nudges.inactive", email=False)
    with (
        mock.patch("notifications.tasks.send_notification_emails.delay_on_commit") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        nudges_send()
    ids = [pk for call in send.call_args_list for pk in call.args[0]]
    assert ids == [Notification.objects.get(recipient=emailed).pk]
    assert kinds_of(silent) == ["nudges.inactive"]


def test_nothing_is_sent_while_the_demo_is_seeded(clock, org):
    person(org)
    with demo_history():
        assert nudges_send() == 0
    assert not NudgeDelivery.objects.exists()


# --- query count ---------------------------------------------------------------------------


def _crowd(organization, size: int, charter) -> None:
    for index in range(size):
        someone = person(
            organization, time_zone="Asia/Tokyo" if index % 5 == 0 else "", language="fr"
        )
        if index % 3 == 0:
            accept(someone, charter)
        if index % 2 == 0:
            shared_at(someone, NOW - timedelta(days=index % 40))


def test_query_count_does_not_grow_with_the_number_of_people(clock):
    small, large = OrganizationFactory(), OrganizationFactory()
    _crowd(small, 12, charter_of(small))
    _crowd(large, 300, charter_of(large))
    for organization in (small, large):
        make_challenge(organization, ends_at=NOW + timedelta(hours=20), goal=2, winners_count=0)
        NudgeSettings.objects.create(organization=organization)
    from nudges.services import nudges_send_for_organization

    with CaptureQueriesContext(connection) as small_run:
        small_sent = nudges_send_for_organization(organization_id=small.pk, now=NOW)
    with CaptureQueriesContext(connection) as large_run:
        large_sent = nudges_send_for_organization(organization_id=large.pk, now=NOW)

    assert small_sent > 0 and large_sent > 100
    assert len(large_run.captured_queries) == len(small_run.captured_queries)
    assert len(large_run.captured_queries) <= 40

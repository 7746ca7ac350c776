"""The sending job: one email per person and period, in their language, with the
one-click unsubscribe headers; nothing new sends nothing; a period is claimed once even
by concurrent runs; a killed run's rows are sent once after their lease; time zones."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from digests.models import (
    DeliveryStatus,
    DigestDelivery,
    DigestPreference,
    DigestRun,
    DigestSettings,
    Frequency,
)
from digests.services import (
    MAX_ATTEMPTS,
    RECORD_EVERY,
    deliveries_claim,
    deliveries_create_due,
    digests_send_due,
)
from digests.tasks import send_due_digests
from organizations.signals import demo_history
from tests.digests.conftest import MONDAY_PARIS, daily_at_nine, daily_here_quiet_there, post
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_due_people_get_one_email_with_unsubscribe_headers(personas, clock, settings):
    settings.SITE_URL = "https://portevoix.example"
    org = personas.organization
    daily_here_quiet_there(personas)
    post(org, title="Our new plant", why_it_matters="Jobs in the region.")

    result = digests_send_due()

    # The owner and the teammate (English); the outsider's organisation has nothing new.
    assert result.sent == 2
    message = next(m for m in mail.outbox if m.to == [personas.teammate.email])
    assert message.subject == "1 new post to share"
    assert "Our new plant" in message.body
    assert "Jobs in the region." in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Our new plant" in html and "/digest/share/" in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://portevoix.example/digest/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = DigestDelivery.objects.get(user=personas.teammate)
    assert (row.status, row.period_key, row.covered_until) == (
        DeliveryStatus.SENT,
        "d:2026-12-07",
        timezone.now(),
    )
    run = DigestRun.objects.get(organization=org)
    assert (run.sent, run.skipped, run.failed) == (2, 0, 0)
    assert run.finished_at is not None


def test_email_in_the_persons_language(personas, clock):
    org = personas.organization
    daily_here_quiet_there(personas)
    personas.teammate.language = "fr"
    personas.teammate.save()
    post(org, title="Notre usine")

    digests_send_due()

    message = next(m for m in mail.outbox if m.to == [personas.teammate.email])
    english = next(m for m in mail.outbox if m.to == [personas.owner.email])
    # The French catalogue is compiled by the maintainers: the rendering language shows.
    assert '<html lang="fr">' in message.alternatives[0][0]
    assert '<html lang="en">' in english.alternatives[0][0]
    assert english.subject == "1 new post to share"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_nothing_new_sends_nothing_and_is_recorded_as_skipped(personas, clock):
    daily_here_quiet_there(personas)

    result = digests_send_due()

    assert mail.outbox == []
    assert result.sent == 0 and result.skipped == 2
    assert set(
        DigestDelivery.objects.filter(organization=personas.organization).values_list(
            "status", flat=True
        )
    ) == {DeliveryStatus.SKIPPED}
    run = DigestRun.objects.get(organization=personas.organization)
    assert (run.sent, run.skipped) == (0, 2)


def test_no_digest_urges_sharing_during_the_crisis_pause(personas, clock):
    from advocacy.models import SharingPause

    daily_here_quiet_there(personas)
    post(personas.organization)
    SharingPause.objects.create(organization=personas.organization, paused_at=timezone.now())

    result = digests_send_due()

    assert mail.outbox == [] and result.sent == 0 and result.skipped == 2


def test_never_and_weekly_people_are_not_sent_a_daily_digest(personas, clock):
    org = personas.organization
    daily_here_quiet_there(personas)
    DigestPreference.objects.create(
        user=personas.teammate, organization=org, frequency=Frequency.NEVER
    )
    post(org)

    digests_send_due()

    assert [m.to for m in mail.outbox] == [[personas.owner.email]]


def test_a_second_run_in_the_same_period_sends_nothing_more(personas, clock, time_machine):
    daily_here_quiet_there(personas)
    post(personas.organization)
    digests_send_due()
    post(personas.organization, title="Later the same morning")
    time_machine.move_to(MONDAY_PARIS + timedelta(minutes=15), tick=False)

    result = digests_send_due()

    assert len(mail.outbox) == 2
    assert result.created == 0 and result.sent == 0


def test_next_day_covers_only_what_is_new(personas, clock, time_machine):
    org = personas.organization
    daily_here_quiet_there(personas)
    post(org, title="Monday's")
    digests_send_due()
    mail.outbox.clear()
    time_machine.move_to(MONDAY_PARIS + timedelta(days=1), tick=False)
    post(org, title="Tuesday's")

    digests_send_due()

    message = next(m for m in mail.outbox if m.to == [personas.teammate.email])
    assert "Tuesday's" in message.body and "Monday's" not in message.body


def test_claiming_twice_creates_one_row_and_sends_one_email(personas, clock):
    daily_here_quiet_there(personas)
    post(personas.organization)

    assert deliveries_create_due() == 2
    assert deliveries_create_due() == 0
    first = deliveries_claim(token="a" * 32)
    second = deliveries_claim(token="b" * 32)

    assert len(first) == 2 and second == []
    digests_send_due()
    assert DigestDelivery.objects.filter(user=personas.teammate).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_period_once(clock):
    org = OrganizationFactory()
    daily_at_nine(org)
    people = [UserFactory(organization=org) for _ in range(30)]
    post(org)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            digests_send_due(batch_size=5)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 30


def test_a_killed_run_is_resumed_once_after_its_lease(personas, clock, time_machine, settings):
    settings.DIGEST_LEASE_SECONDS = 600
    daily_here_quiet_there(personas)
    post(personas.organization)
    deliveries_create_due()
    # A worker claimed the rows and died before sending.
    assert len(deliveries_claim(token="dead" * 8)) == 2

    early = digests_send_due()
    assert early.sent == 0 and mail.outbox == []

    time_machine.move_to(MONDAY_PARIS + timedelta(minutes=11), tick=False)
    resumed = digests_send_due()
    again = digests_send_due()

    assert resumed.sent == 2 and again.sent == 0
    assert len(mail.outbox) == 2
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {
        (DeliveryStatus.SENT, 2)
    }


def test_a_worker_killed_mid_batch_resends_at_most_a_few(clock, time_machine, settings):
    """Sent rows are recorded every RECORD_EVERY emails: a worker that dies in the middle of
    a batch of 50 leaves at most that many sent but unrecorded, sent again after the lease;
    the others are sent once."""
    from tests.digests.failing_backend import DyingBackend, WorkerKilled
    from tests.digests.test_scale import crowd

    settings.DIGEST_LEASE_SECONDS = 600
    organization = OrganizationFactory()
    daily_at_nine(organization)
    people = crowd(organization, 50, prefix="kill")
    settings.EMAIL_BACKEND = "tests.digests.failing_backend.DyingBackend"
    with pytest.raises(WorkerKilled):
        digests_send_due()
    assert len(mail.outbox) == DyingBackend.survive

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(MONDAY_PARIS + timedelta(minutes=11), tick=False)
    digests_send_due()

    received = [message.to[0] for message in mail.outbox]
    assert set(received) == {person.email for person in people}
    assert 0 < len(received) - len(people) < RECORD_EVERY
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_sent_row_is_never_claimed_again(personas, clock, time_machine):
    daily_here_quiet_there(personas)
    post(personas.organization)
    digests_send_due()
    time_machine.move_to(MONDAY_PARIS + timedelta(hours=5), tick=False)

    assert deliveries_claim(token="c" * 32) == []


def test_a_failed_send_is_retried_later_then_given_up(personas, clock, time_machine, settings):
    settings.EMAIL_BACKEND = "tests.digests.failing_backend.RefusingBackend"
    daily_here_quiet_there(personas)
    post(personas.organization)

    first = digests_send_due()
    assert first.retried == 2
    row = DigestDelivery.objects.get(user=personas.teammate)
    assert row.status == DeliveryStatus.PENDING and "refused" in row.error

    moment = MONDAY_PARIS
    for _attempt in range(MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        time_machine.move_to(moment, tick=False)
        digests_send_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    assert DigestRun.objects.filter(failed__gt=0).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(moment + timedelta(hours=2), tick=False)
    digests_send_due()
    assert mail.outbox == []


def test_no_email_while_the_demo_is_seeded(personas, clock):
    daily_here_quiet_there(personas)
    post(personas.organization)

    with demo_history():
        result = digests_send_due()

    assert mail.outbox == [] and DigestDelivery.objects.count() == 0
    assert result.sent == 0


def test_tokyo_and_paris_are_due_at_their_own_hour(time_machine):
    org = OrganizationFactory(time_zone="Europe/Paris")
    DigestSettings.objects.create(
        organization=org, default_frequency=Frequency.DAILY, weekday=0, hour=9
    )
    paris = UserFactory(organization=org)
    tokyo = UserFactory(organization=org, time_zone="Asia/Tokyo")

    def due_at(moment: datetime) -> set[int]:
        time_machine.move_to(moment, tick=False)
        deliveries_create_due()
        return set(DigestDelivery.objects.values_list("user_id", flat=True))

    utc = ZoneInfo("UTC")
    assert due_at(datetime(2026, 12, 7, 23, 30, tzinfo=utc)) == set()  # 08:30 in Tokyo
    assert due_at(datetime(2026, 12, 8, 0, 5, tzinfo=utc)) == {tokyo.pk}  # 09:05 in Tokyo
    assert due_at(datetime(2026, 12, 8, 7, 55, tzinfo=utc)) == {tokyo.pk}  # 08:55 in Paris
    assert due_at(datetime(2026, 12, 8, 8, 5, tzinfo=utc)) == {tokyo.pk, paris.pk}
    keys = dict(DigestDelivery.objects.values_list("user_id", "period_key"))
    assert keys == {tokyo.pk: "d:2026-12-08", paris.pk: "d:2026-12-08"}


def test_weekly_digest_on_the_chosen_day_only(time_machine):
    org = OrganizationFactory(time_zone="Europe/Paris")
    DigestSettings.objects.create(
        organization=org, default_frequency=Frequency.WEEKLY, weekday=2, hour=8
    )
    person = UserFactory(organization=org)
    paris = ZoneInfo("Europe/Paris")

    time_machine.move_to(datetime(2026, 12, 8, 8, 30, tzinfo=paris), tick=False)  # Tuesday
    deliveries_create_due()
    assert not DigestDelivery.objects.exists()
    time_machine.move_to(datetime(2026, 12, 9, 8, 30, tzinfo=paris), tick=False)  # Wednesday
    deliveries_create_due()
    assert list(DigestDelivery.objects.values_list("user_id", "period_key")) == [
        (person.pk, "w:2026-12-09")
    ]


def test_a_period_long_past_is_not_sent_at_night(time_machine):
    org = OrganizationFactory(time_zone="Europe/Paris")
    DigestSettings.objects.create(organization=org, default_frequency=Frequency.DAILY, hour=9)
    UserFactory(organization=org)
    time_machine.move_to(datetime(2026, 12, 7, 23, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False)

    assert deliveries_create_due() == 0


def test_the_beat_task_runs_the_job(personas, clock):
    daily_here_quiet_there(personas)
    post(personas.organization)

    counts = send_due_digests.apply().get()

    assert counts["sent"] == 2 and len(mail.outbox) == 2

"""Nothing in the archive can be changed, and nothing deleted during its retention: by the
ORM, and on PostgreSQL by raw SQL too (the trigger). Only the retention job's purge deletes,
and only what is past its date. Deleting a person or an organisation leaves it whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from advocacy.models import Share, ShareStatus
from archive.chain import chain_problems
from archive.models import (
    ArchivedShare,
    ArchiveEvent,
    ArchiveImmutableError,
    ArchivePolicy,
    purge_allowed,
)
from archive.selectors import person_archive_summary
from archive.services import archive_purge_expired, share_archive_observe
from organizations.models import Role
from tests.archive.conftest import approved_content, archived
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _raw(sql: str, *params: object) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_sql_cannot_edit_or_delete_a_record_under_retention(personas):
    record = archived(personas.teammate, approved_content(personas.organization))
    assert record.retain_until > timezone.localdate()
    with pytest.raises(DatabaseError, match="cannot be changed"):
        _raw("UPDATE archive_archivedshare SET text = 'nothing to see' WHERE id = %s", record.pk)
    with pytest.raises(DatabaseError, match="keeps this row"):
        _raw("DELETE FROM archive_archivedshare WHERE id = %s", record.pk)
    # Not even with the purge flag, while the retention runs.
    with (
        pytest.raises(DatabaseError, match="keeps this row"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL portevoix.archive_purge = 'on'")
        cursor.execute("DELETE FROM archive_archivedshare WHERE id = %s", [record.pk])
    record.refresh_from_db()
    assert record.text == "Proud of our results #ad"
    assert chain_problems(personas.organization.pk) == []


def test_raw_sql_cannot_touch_events_either(personas):
    record = archived(personas.teammate, approved_content(personas.organization))
    Share.objects.filter(pk=record.share_id).update(status=ShareStatus.RECALL_ASKED)
    assert share_archive_observe(share_id=record.share_id) == "event"
    event = ArchiveEvent.objects.get()
    with pytest.raises(DatabaseError):
        _raw("UPDATE archive_archiveevent SET kind = 'published' WHERE id = %s", event.pk)
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM archive_archiveevent WHERE id = %s", event.pk)
    assert ArchiveEvent.objects.get().kind == "recall_asked"


def test_the_orm_refuses_too(personas):
    record = archived(personas.teammate, approved_content(personas.organization))
    record.text = "edited"
    with pytest.raises(ArchiveImmutableError):
        record.save()
    with pytest.raises(ArchiveImmutableError):
        record.delete()
    with pytest.raises(ArchiveImmutableError):
        ArchivedShare.objects.filter(pk=record.pk).update(text="edited")
    with pytest.raises(ArchiveImmutableError):
        ArchivedShare.objects.all().delete()
    with purge_allowed(), pytest.raises(ArchiveImmutableError, match="retention"):
        ArchivedShare.objects.all().delete()


def test_the_purge_deletes_only_what_is_past_its_retention(personas):
    ArchivePolicy.objects.create(organization=personas.organization, retention_years=1)
    content = approved_content(personas.organization)
    old = archived(personas.teammate, content, at=timezone.now() - timedelta(days=800))
    Share.objects.filter(pk=old.share_id).update(status=ShareStatus.RECALLED)
    share_archive_observe(share_id=old.share_id, at=timezone.now() - timedelta(days=799))
    recent = archived(personas.owner, content, at=timezone.now() - timedelta(days=200))
    assert old.retain_until < timezone.localdate() <= recent.retain_until
    # Past its date, a row still cannot be deleted without the purge's flag.
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM archive_archiveevent WHERE record_id = %s", old.pk)

    assert archive_purge_expired() == 2  # the record and its event
    assert list(ArchivedShare.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ArchiveEvent.objects.exists()
    assert archive_purge_expired() == 0


@pytest.mark.parametrize(
    ("today", "ten_years", "two_years"),
    [
        (date(2026, 6, 15), date(2036, 6, 15), date(2028, 6, 15)),
        # 29 February: the same day when there is one, else the 28th.
        (date(2028, 2, 29), date(2038, 2, 28), date(2030, 2, 28)),
    ],
)
def test_retention_is_fixed_when_archived_and_a_policy_change_keeps_old_dates(
    personas, time_machine, today, ten_years, two_years
):
    time_machine.move_to(datetime.combine(today, time(12), UTC), tick=False)
    ArchivePolicy.objects.create(organization=personas.organization, retention_years=10)
    content = approved_content(personas.organization)
    first = archived(personas.teammate, content, at=timezone.now())
    assert first.retain_until == ten_years
    ArchivePolicy.objects.filter(organization=personas.organization).update(retention_years=2)
    second = archived(personas.owner, content, at=timezone.now())
    first.refresh_from_db()
    assert first.retain_until == ten_years
    assert second.retain_until == two_years


def test_deleting_the_person_leaves_their_archive_whole(personas):
    content = approved_content(personas.organization)
    person = UserFactory(
        organization=personas.organization,
        role=Role.EMPLOYEE,
        first_name="Paul",
        last_name="Martin",
    )
    record = archived(person, content)
    person_id = person.pk
    person.delete()  # their shares go with them
    assert not Share.objects.filter(pk=record.share_id).exists()
    kept = ArchivedShare.objects.get(pk=record.pk)
    assert (kept.person_id, kept.person_name, kept.text) == (
        person_id,
        "Paul Martin",
        "Proud of our results #ad",
    )
    assert chain_problems(personas.organization.pk) == []


def test_deleting_the_organisation_leaves_its_archive_whole():
    organization = OrganizationFactory(name="Leaving Ltd", slug="leaving")
    person = UserFactory(organization=organization, role=Role.EMPLOYEE)
    record = archived(person, approved_content(organization))
    organization.delete()
    kept = ArchivedShare.objects.get(pk=record.pk)
    assert kept.organization_name == "Leaving Ltd"
    assert chain_problems(kept.organization_id) == []


def test_person_archive_summary_for_the_personal_data_export(personas):
    content = approved_content(personas.organization)
    archived(personas.teammate, content, text="First")
    archived(personas.teammate, content, text="Second", network="x")
    archived(personas.owner, content, text="Not theirs")
    summary = person_archive_summary(user=personas.teammate)
    assert summary["count"] == 2
    assert summary["retained_until"] == max(
        ArchivedShare.objects.filter(person_id=personas.teammate.pk).values_list(
            "retain_until", flat=True
        )
    )
    assert [r["text"] for r in summary["records"]] == ["First", "Second"]
    import json

    json.dumps(summary["records"])  # plain JSON values
    assert person_archive_summary(user=personas.outsider) == {
        "count": 0,
        "retained_until": None,
        "records": [],
    }

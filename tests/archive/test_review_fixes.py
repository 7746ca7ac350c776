"""The review's findings, one test (or a few) each: concurrent and lost export builds,
a legitimate purge that keeps the chain verifiable while deletions at either end show,
far-off dates, export files that expire, the requester's erasure, the receiver that only
enqueues, the sweep that goes on past a bad share, approvals of a deleted step, and a
verification that never crashes on a malformed manifest."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from advocacy.models import Share, ShareStatus
from archive.chain import chain_problems, line_problems, organization_lines
from archive.exports import export_problems, manifest_signature
from archive.models import (
    GENESIS_HASH,
    ArchivedShare,
    ArchiveEvent,
    ArchiveExport,
    ArchivePolicy,
    ChainHead,
    ExportStatus,
)
from archive.services import (
    archive_export_build,
    archive_export_request,
    archive_exports_expire,
    archive_exports_sweep,
    archive_purge_expired,
    on_share_state_changed,
    person_forget_requester,
    share_archive_observe,
    shares_archive_sweep,
)
from content.models import Review, ReviewDecision
from organizations.audit_text import audit_rows
from organizations.errors import ConflictError
from organizations.models import AuditLogEntry
from tests.archive.conftest import approved_content, archived
from tests.conftest import api_client_for, client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _request(officer, django_capture_on_commit_callbacks, **period) -> ArchiveExport:
    with django_capture_on_commit_callbacks():
        return archive_export_request(
            actor=officer,
            date_from=period.get("date_from", date(2026, 6, 1)),
            date_to=period.get("date_to", date(2026, 6, 15)),
        )


# --- 1. one pending export per organisation; builds serialised -----------------------


def test_one_pending_export_per_organisation_in_the_database(personas, officer, clock):
    ArchiveExport.objects.create(
        organization=personas.organization, date_from=NOW.date(), date_to=NOW.date()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ArchiveExport.objects.create(
            organization=personas.organization, date_from=NOW.date(), date_to=NOW.date()
        )
    # Another organisation, or a finished export, is no conflict.
    ArchiveExport.objects.create(
        organization=personas.other_organization, date_from=NOW.date(), date_to=NOW.date()
    )


def test_two_requests_at_once_the_second_is_a_clear_conflict(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    _request(officer, django_capture_on_commit_callbacks)
    # The second request did not see the first yet (its exists() ran before the commit).
    with (
        mock.patch.object(QuerySet, "exists", return_value=False),
        pytest.raises(ConflictError),
    ):
        _request(officer, django_capture_on_commit_callbacks)
    assert ArchiveExport.objects.count() == 1


def test_the_build_locks_the_organisation_before_choosing_the_previous_export(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    export = _request(officer, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        assert archive_export_build(export_id=export.pk) == "ready"
    sqls = [q["sql"] for q in queries.captured_queries]
    lock = next(
        i for i, sql in enumerate(sqls) if '"archive_archivepolicy"' in sql and "FOR UPDATE" in sql
    )
    choose = next(
        i
        for i, sql in enumerate(sqls)
        if 'FROM "archive_archiveexport"' in sql and "'expired'" in sql
    )
    assert lock < choose


# --- 2. lost and crashed builds ------------------------------------------------------


def test_a_lost_build_is_enqueued_again_and_a_crashed_one_fails(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    export = _request(officer, django_capture_on_commit_callbacks)
    with mock.patch("archive.tasks.build_export.delay") as delay:
        assert archive_exports_sweep() == {"requeued": 0, "failed": 0}  # just asked
        clock.shift(timedelta(minutes=6))
        assert archive_exports_sweep() == {"requeued": 1, "failed": 0}
    delay.assert_called_once_with(export.pk)

    # A worker takes it and dies in the middle: the claim stays.
    ArchiveExport.objects.filter(pk=export.pk).update(claimed_at=NOW + timedelta(minutes=6))
    assert archive_export_build(export_id=export.pk) == "claimed-already"
    clock.shift(timedelta(minutes=20))
    with mock.patch("archive.tasks.build_export.delay") as delay:
        assert archive_exports_sweep() == {"requeued": 0, "failed": 0}
        clock.shift(timedelta(minutes=15))
        assert archive_exports_sweep() == {"requeued": 0, "failed": 1}
    delay.assert_not_called()
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "took too long" in export.error
    page = client_for(officer).get(f"/archive/exports/{export.pk}/").content.decode()
    assert "took too long" in page
    # Asking again is possible now.
    again = _request(officer, django_capture_on_commit_callbacks)
    assert archive_export_build(export_id=again.pk) == "ready"


# --- 3. the purge keeps the chain verifiable -----------------------------------------


def _raw_delete(table: str, pk: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no trigger
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608


def test_a_late_event_keeps_its_own_retention_and_its_record(personas, clock):
    ArchivePolicy.objects.create(organization=personas.organization, retention_years=1)
    content = approved_content(personas.organization)
    old = archived(personas.teammate, content, at=NOW - timedelta(days=800))
    recent = archived(personas.owner, content, at=NOW - timedelta(days=10))
    Share.objects.filter(pk=old.share_id).update(status=ShareStatus.RECALL_ASKED)
    assert share_archive_observe(share_id=old.share_id, at=NOW) == "event"
    event = ArchiveEvent.objects.get()
    assert event.retain_until == date(2027, 6, 15)
    # The old record's event is still kept, so is the record (the chain's start).
    assert archive_purge_expired() == 0
    assert ArchivedShare.objects.filter(pk__in=[old.pk, recent.pk]).count() == 2
    assert chain_problems(personas.organization.pk) == []


def test_the_purge_takes_the_oldest_run_and_leaves_a_checkpoint(personas, clock):
    ArchivePolicy.objects.create(organization=personas.organization, retention_years=1)
    content = approved_content(personas.organization)
    first = archived(personas.teammate, content, at=NOW - timedelta(days=900))
    Share.objects.filter(pk=first.share_id).update(status=ShareStatus.RECALL_ASKED)
    share_archive_observe(share_id=first.share_id, at=NOW - timedelta(days=899))
    middle = archived(personas.owner, content, at=NOW - timedelta(days=100))  # kept
    late = archived(personas.teammate, content, network="x", at=NOW - timedelta(days=800))
    last = archived(personas.owner, content, network="x", at=NOW - timedelta(days=5))
    assert late.retain_until < NOW.date()

    assert archive_purge_expired() == 2  # the first record and its event, not `late`
    assert set(ArchivedShare.objects.values_list("pk", flat=True)) == {
        middle.pk,
        late.pk,
        last.pk,
    }
    head = ChainHead.objects.get(organization_id=personas.organization.pk)
    assert head.purged_sequence == 2 and head.purged_hash == middle.previous_hash
    assert chain_problems(personas.organization.pk) == []
    assert archive_purge_expired() == 0

    # Deleting the last entry, or the first one left, shows.
    _raw_delete("archive_archivedshare", last.pk)
    assert any("head" in p for p in chain_problems(personas.organization.pk))
    _raw_delete("archive_archivedshare", middle.pk)
    problems = chain_problems(personas.organization.pk)
    assert any("entries 3 to 3: missing" in p for p in problems), problems


def test_line_problems_checks_both_ends(personas, clock):
    content = approved_content(personas.organization)
    for network in ("linkedin", "x", "facebook"):
        archived(personas.teammate, content, network=network)
    lines = organization_lines(personas.organization.pk)
    head = ChainHead.objects.get(organization_id=personas.organization.pk)
    start, end = (0, GENESIS_HASH), (head.sequence, head.last_hash)
    assert line_problems(lines, start=start, end=end) == []
    assert line_problems(lines[1:], start=start, end=end) == ["entries 1 to 1: missing"]
    assert line_problems(lines[:-1], start=start, end=end)
    assert line_problems([], start=start, end=end) == ["entries 1 to 3: missing"]


def test_the_manifest_names_the_chains_head(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    archived(personas.teammate, approved_content(personas.organization))
    export = _request(officer, django_capture_on_commit_callbacks)
    archive_export_build(export_id=export.pk)
    export.refresh_from_db()
    manifest = json.loads(_files(bytes(export.file))["manifest.json"])
    head = ChainHead.objects.get(organization_id=personas.organization.pk)
    assert manifest["chain"]["head"] == {"sequence": head.sequence, "hash": head.last_hash}
    assert manifest["chain"]["start"] == {"sequence": 0, "hash": GENESIS_HASH}
    assert export_problems(bytes(export.file)) == []
    files = _files(bytes(export.file))
    manifest["chain"]["head"]["hash"] = GENESIS_HASH
    files["manifest.json"] = json.dumps(manifest).encode()
    files["manifest.sig"] = manifest_signature(files["manifest.json"]).encode()
    assert "the last entry is not the chain's head the manifest names" in export_problems(
        _zip(files)
    )


def test_the_orm_and_the_trigger_agree_on_today(personas, time_machine):
    ArchivePolicy.objects.create(organization=personas.organization, retention_years=1)
    time_machine.move_to(datetime(2025, 6, 15, 12, 0, tzinfo=UTC), tick=False)
    record = archived(personas.teammate, approved_content(personas.organization))
    assert record.retain_until == date(2026, 6, 15)
    # 23:30 UTC, already the 16th in Paris: still the 15th for the archive.
    time_machine.move_to(datetime(2026, 6, 15, 23, 30, tzinfo=UTC), tick=False)
    assert archive_purge_expired() == 0
    time_machine.move_to(datetime(2026, 6, 16, 23, 30, tzinfo=UTC), tick=False)
    assert archive_purge_expired() == 1


# --- 4. far-off dates ----------------------------------------------------------------


def test_far_off_dates_are_a_field_error_not_a_500(personas, officer, clock):
    archived(personas.teammate, approved_content(personas.organization), at=NOW)
    page = client_for(officer).get("/archive/", {"date_to": "9999-12-31"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Choose a date between 2000-01-01 and 2100-12-31." in html
    assert "data-share=" not in html  # no results, never the unfiltered list
    api = api_client_for(officer)
    answer = api.get("/api/v1/archive/", {"date_to": "9999-12-31"})
    assert answer.status_code == 400, answer.content
    assert "date_to" in json.dumps(answer.json())
    assert api.get("/api/v1/archive/", {"date_from": "1999-12-31"}).status_code == 400
    answer = api.post(
        "/api/v1/archive/exports/", {"date_from": "1990-01-01", "date_to": "2026-06-01"}
    )
    assert answer.status_code == 400


# --- 5. export files expire; the requester's erasure -----------------------------------


def test_export_files_expire_and_the_chain_of_exports_goes_on(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    archived(personas.teammate, approved_content(personas.organization), at=NOW)
    first = _request(officer, django_capture_on_commit_callbacks)
    archive_export_build(export_id=first.pk)
    clock.shift(timedelta(days=89))
    assert archive_exports_expire() == 0
    clock.shift(timedelta(days=2))
    assert archive_exports_expire() == 1
    first.refresh_from_db()
    assert (first.status, first.file, first.manifest_hash != "") == ("expired", None, True)
    page = client_for(officer).get(f"/archive/exports/{first.pk}/").content.decode()
    assert "Its file was deleted" in page
    assert client_for(officer).get(f"/archive/exports/{first.pk}/download/").status_code == 302
    second = _request(officer, django_capture_on_commit_callbacks)
    archive_export_build(export_id=second.pk)
    second.refresh_from_db()
    assert second.previous_id == first.pk


def test_export_retention_is_set_on_the_policy_page_within_bounds(personas, clock):
    client = client_for(personas.owner)
    answer = client.post("/admin/archive/", {"retention_years": 7, "export_retention_days": 30})
    assert answer.status_code == 302
    assert ArchivePolicy.objects.get(organization=personas.organization).export_retention_days == 30
    [row] = audit_rows(AuditLogEntry.objects.filter(action="archive.export_retention_changed"))
    assert "set how long archive exports are kept to 30 days (was 90)" in row.sentence
    for bad in (0, 6, 366):
        again = client.post("/admin/archive/", {"retention_years": 7, "export_retention_days": bad})
        assert again.status_code == 200
    assert ArchivePolicy.objects.get(organization=personas.organization).export_retention_days == 30


def test_the_requester_is_forgotten_with_the_person(
    personas, officer, clock, django_capture_on_commit_callbacks
):
    export = _request(officer, django_capture_on_commit_callbacks)
    assert export.requested_by_email == officer.email
    other = ArchiveExport.objects.create(
        organization=personas.organization,
        requested_by_email="someone@example.org",
        date_from=NOW.date(),
        date_to=NOW.date(),
        status=ExportStatus.READY,
    )
    assert person_forget_requester(user=officer) == 1
    export.refresh_from_db()
    assert (export.requested_by_id, export.requested_by_email) == (None, "")
    other.refresh_from_db()
    assert other.requested_by_email == "someone@example.org"


# --- 6. the receiver enqueues; the sweep goes on ---------------------------------------


def test_the_receiver_archives_at_once_and_never_fails_the_pipeline(personas, clock, caplog):
    share = archived(personas.teammate, approved_content(personas.organization))
    Share.objects.filter(pk=share.share_id).update(status=ShareStatus.RECALL_ASKED)
    on_share_state_changed(share_id=share.share_id)
    assert ArchiveEvent.objects.filter(record=share).count() == 1
    with mock.patch("archive.services.share_archive_observe", side_effect=RuntimeError("boom")):
        on_share_state_changed(share_id=share.share_id)  # logged, not raised
    assert f"Could not archive share {share.share_id}" in caplog.text


def test_one_bad_share_does_not_stop_the_sweep(personas, clock, caplog):
    content = approved_content(personas.organization)
    first = archived(personas.teammate, content)
    second = archived(personas.owner, content)
    Share.objects.filter(pk__in=[first.share_id, second.share_id]).update(
        status=ShareStatus.RECALL_ASKED, updated_at=NOW
    )
    real = share_archive_observe

    def flaky(*, share_id: int, **kwargs: object) -> str:
        if share_id == first.share_id:
            raise RuntimeError("boom")
        return real(share_id=share_id, **kwargs)

    with mock.patch("archive.services.share_archive_observe", side_effect=flaky):
        assert shares_archive_sweep(now=NOW) == {"record": 0, "event": 1, "failed": 1}
    assert f"share {first.share_id} could not be archived" in caplog.text


# --- 7. approvals of a deleted step ----------------------------------------------------


def test_approvals_keep_the_step_name_and_the_comment(personas, clock):
    content = approved_content(personas.organization)
    Review.objects.filter(content=content).delete()
    Review.objects.create(
        content=content,
        version=content.version,
        reviewer=personas.owner,
        decision=ReviewDecision.APPROVE,
        comment="Fine with the legal mention",
        step=None,  # the step was deleted since
        step_name="Legal",
    )
    Review.objects.update(created_at=NOW - timedelta(days=1))
    record = archived(personas.teammate, content)
    [approval] = record.approvals
    assert approval["step"] == "Legal"
    assert approval["comment"] == "Fine with the legal mention"
    assert chain_problems(personas.organization.pk) == []


# --- 8. a malformed manifest, a rotated key --------------------------------------------


@pytest.fixture
def export_files(personas, officer, clock, django_capture_on_commit_callbacks):
    content = approved_content(personas.organization)
    archived(personas.teammate, content, text="one", at=NOW)
    archived(personas.owner, content, text="two", at=NOW)
    export = _request(officer, django_capture_on_commit_callbacks)
    archive_export_build(export_id=export.pk)
    export.refresh_from_db()
    return _files(bytes(export.file))


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: entry.pop("sequence"),
        lambda entry: entry.pop("sha256"),
        lambda entry: entry.update(sequence="two"),
        lambda entry: entry.update(sequence=None),
    ],
)
def test_a_malformed_manifest_line_is_a_problem_not_a_crash(export_files, damage):
    manifest = json.loads(export_files["manifest.json"])
    damage(manifest["lines"][0])
    export_files["manifest.json"] = json.dumps(manifest).encode()
    export_files["manifest.sig"] = manifest_signature(export_files["manifest.json"]).encode()
    problems = export_problems(_zip(export_files))
    assert problems


def test_a_malformed_jsonl_line_is_a_problem_not_a_crash(export_files):
    lines = export_files["records.jsonl"].splitlines()
    broken = json.loads(lines[0])
    broken["sequence"] = "one"
    export_files["records.jsonl"] = b"\n".join([json.dumps(broken).encode(), *lines[1:], b"[]"])
    problems = export_problems(_zip(export_files))
    assert any("no valid position" in p for p in problems), problems


def test_a_signature_made_before_a_key_rotation_still_checks(export_files, settings):
    data = _zip(export_files)
    old_key = settings.SECRET_KEY
    with override_settings(SECRET_KEY="rotated-" + old_key, SECRET_KEY_FALLBACKS=[old_key]):
        assert export_problems(data) == []
    with override_settings(SECRET_KEY="rotated-" + old_key, SECRET_KEY_FALLBACKS=[]):
        assert any("signature" in p for p in export_problems(data))

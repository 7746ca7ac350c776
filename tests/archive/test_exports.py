"""Exports: a signed ZIP whose manifest hashes every record and chains to the previous
export; the verification (in code and `manage.py archive_verify`) finds a removed or edited
record, an altered manifest, and a broken link between exports."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from advocacy.models import Share, ShareStatus
from archive.exports import export_problems, manifest_signature, sha256
from archive.models import ArchiveExport, ExportStatus
from archive.services import archive_export_build, archive_export_request, share_archive_observe
from notifications.models import Notification
from organizations.errors import ConflictError, DomainError, PermissionDeniedError
from organizations.models import AuditLogEntry
from tests.archive.conftest import NOW, approved_content, archived

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    """Every date below is anchored: no test reads the real clock."""
    time_machine.move_to(NOW, tick=True)


@pytest.fixture
def three_records(personas, officer):
    content = approved_content(personas.organization, reviewer=personas.owner)
    records = [
        archived(personas.teammate, content, text="Première publication"),
        archived(personas.owner, content, text='Second, with a comma, and "quotes"', network="x"),
        archived(personas.teammate, content, text="Third\non two lines", network="facebook"),
    ]
    Share.objects.filter(pk=records[0].share_id).update(status=ShareStatus.RECALL_ASKED)
    share_archive_observe(share_id=records[0].share_id)
    # Another organisation's records never enter this one's export.
    other = approved_content(personas.other_organization)
    archived(personas.outsider, other, text="Other company")
    return records


def _export(officer, django_capture_on_commit_callbacks, **period) -> ArchiveExport:
    today = NOW.date()
    with django_capture_on_commit_callbacks() as callbacks:
        export = archive_export_request(
            actor=officer,
            date_from=period.get("date_from", today - timedelta(days=1)),
            date_to=period.get("date_to", today),
        )
    assert len(callbacks) == 1  # the build task, enqueued on commit
    assert archive_export_build(export_id=export.pk) == "ready"
    export.refresh_from_db()
    return export


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_export_holds_every_record_and_event_with_a_signed_manifest(
    personas, officer, three_records, django_capture_on_commit_callbacks
):
    export = _export(officer, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.READY
    assert (export.record_count, export.event_count) == (3, 1)
    data = bytes(export.file)
    files = _files(data)
    assert set(files) == {"records.jsonl", "records.csv", "manifest.json", "manifest.sig"}
    lines = [json.loads(line) for line in files["records.jsonl"].splitlines()]
    assert [line["type"] for line in lines] == ["share", "share", "share", "event"]
    assert [line["text"] for line in lines[:3]] == [r.text for r in three_records]
    assert lines[0]["approvals"][0]["decision"] == "approve"
    manifest = json.loads(files["manifest.json"])
    assert manifest["counts"] == {"records": 3, "events": 1, "lines": 4}
    assert manifest["previous_export"] is None
    assert manifest["chain"]["first_hash"] == three_records[0].record_hash
    assert [entry["record_hash"] for entry in manifest["lines"]] == [
        line["record_hash"] for line in lines
    ]
    assert files["manifest.sig"].decode().strip() == manifest_signature(files["manifest.json"])
    assert sha256(files["manifest.json"]) == export.manifest_hash
    csv_text = files["records.csv"].decode()
    assert '"Second, with a comma, and ""quotes"""' in csv_text
    assert "Other company" not in files["records.jsonl"].decode()
    assert export_problems(data) == []
    notification = Notification.objects.get(recipient=officer, kind="archive.export_ready")
    assert notification.url == f"/archive/exports/{export.pk}/"
    assert AuditLogEntry.objects.filter(action="archive.export_requested").count() == 1


def test_a_removed_line_is_found(
    personas, officer, three_records, django_capture_on_commit_callbacks
):
    files = _files(bytes(_export(officer, django_capture_on_commit_callbacks).file))
    lines = files["records.jsonl"].splitlines(keepends=True)
    files["records.jsonl"] = b"".join([lines[0], *lines[2:]])
    problems = export_problems(_zip(files))
    assert any(f"share {three_records[1].share_id}) was removed" in p for p in problems), problems
    assert any("missing" in p for p in problems), problems


def test_an_edited_line_is_found_even_with_a_rewritten_manifest(
    personas, officer, three_records, django_capture_on_commit_callbacks
):
    files = _files(bytes(_export(officer, django_capture_on_commit_callbacks).file))
    edited = files["records.jsonl"].replace("Première publication".encode(), b"Toned-down version")
    assert edited != files["records.jsonl"]
    files["records.jsonl"] = edited
    problems = export_problems(_zip(files))
    assert any("was edited" in p for p in problems), problems
    assert any("does not match its hash" in p for p in problems), problems

    # Whoever rewrites the manifest to match cannot sign it.
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["records.jsonl"] = sha256(edited)
    files["manifest.json"] = json.dumps(manifest).encode()
    problems = export_problems(_zip(files))
    assert any("signature does not match" in p for p in problems), problems
    # Nor recompute the record's hash without breaking the link to the next one.
    assert any("does not match its hash" in p for p in problems), problems


def test_exports_chain_and_a_missing_previous_export_shows(
    personas, officer, three_records, django_capture_on_commit_callbacks
):
    first = _export(officer, django_capture_on_commit_callbacks)
    content = approved_content(personas.organization)
    archived(personas.teammate, content, text="Fourth")
    second = _export(officer, django_capture_on_commit_callbacks)
    third = _export(officer, django_capture_on_commit_callbacks)
    assert second.previous_id == first.pk and third.previous_id == second.pk
    manifest = json.loads(_files(bytes(second.file))["manifest.json"])
    assert manifest["previous_export"]["manifest_sha256"] == first.manifest_hash
    assert export_problems(bytes(second.file), previous=bytes(first.file)) == []
    # Handing the wrong predecessor (the first export skipped) breaks the link.
    problems = export_problems(bytes(third.file), previous=bytes(first.file))
    assert problems == ["the previous export given is not the one this export follows"]
    assert second.chain_hash != third.chain_hash


def test_archive_verify_command(
    personas, officer, three_records, django_capture_on_commit_callbacks, tmp_path, capsys
):
    export = _export(officer, django_capture_on_commit_callbacks)
    good = tmp_path / "good.zip"
    good.write_bytes(bytes(export.file))
    call_command("archive_verify", str(good))
    assert "OK" in capsys.readouterr().out
    files = _files(bytes(export.file))
    files["records.jsonl"] = b"".join(files["records.jsonl"].splitlines(keepends=True)[1:])
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_zip(files))
    with pytest.raises(CommandError, match="problem"):
        call_command("archive_verify", str(bad))
    assert "was removed" in capsys.readouterr().err
    call_command("archive_verify", organization=personas.organization.pk)
    assert "OK" in capsys.readouterr().out


def test_export_request_is_validated_and_only_for_compliance_officers(
    personas, officer, django_capture_on_commit_callbacks
):
    today = NOW.date()
    with pytest.raises(PermissionDeniedError):
        archive_export_request(actor=personas.owner, date_from=today, date_to=today)
    with pytest.raises(DomainError) as error:
        archive_export_request(actor=officer, date_from=today, date_to=today - timedelta(days=2))
    assert error.value.field == "date_to"
    with pytest.raises(DomainError):
        archive_export_request(
            actor=officer, date_from=today + timedelta(days=3), date_to=today + timedelta(days=4)
        )
    archive_export_request(actor=officer, date_from=today, date_to=today)
    with pytest.raises(ConflictError):
        archive_export_request(actor=officer, date_from=today, date_to=today)
    assert ArchiveExport.objects.count() == 1


def test_an_empty_period_exports_an_empty_but_valid_file(
    personas, officer, django_capture_on_commit_callbacks
):
    export = _export(
        officer,
        django_capture_on_commit_callbacks,
        date_from=NOW.date() - timedelta(days=30),
        date_to=NOW.date() - timedelta(days=20),
    )
    assert export.record_count == 0
    assert export_problems(bytes(export.file)) == []

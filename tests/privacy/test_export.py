"""The export of a person's data: every kind in the ZIP (JSON and CSV), a README in their
language, the archive's records; one in preparation at a time; announced when ready;
downloadable by that person only, until it expires."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage

from notifications.models import Notification
from privacy.models import DataExport, ExportStatus
from privacy.registry import installed_entries
from privacy.services.exports import data_export_build, data_export_request
from privacy.services.retention import retention_run_for
from privacy.tasks import build_data_export
from tests.conftest import api_client_for, client_for
from tests.privacy.conftest import EMAIL, FIRST, NOW

pytestmark = pytest.mark.django_db

# Kinds the rich person has at least one row of.
POPULATED = {
    "profile",
    "managed_teams",
    "invitations_sent",
    "audit_entries",
    "notifications",
    "email_preferences",
    "push_preferences",
    "push_subscriptions",
    "content_written",
    "suggestions",
    "consents_charter",
    "connected_accounts",
    "shares",
    "clicks",
    "activity",
    "posting_slots",
    "sharing_preferences",
    "points",
    "score",
    "consents_digest",
    "digests",
    "consents_nudges",
    "nudges",
    "consents_participation",
    "api_tokens",
    "email_addresses",
    "provisioning_person",
    "archive_exports_requested",
}


def _zip_of(export: DataExport) -> zipfile.ZipFile:
    with default_storage.open(export.file.name, "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def _built(user, django_capture_on_commit_callbacks) -> DataExport:
    with django_capture_on_commit_callbacks(execute=False):
        export, created = data_export_request(user=user)
    assert created
    return data_export_build(export_id=export.pk)


def test_the_export_holds_every_kind_of_personal_data(rich, django_capture_on_commit_callbacks):
    export = _built(rich.user, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.READY
    assert export.expires_at == export.ready_at + timedelta(days=7)
    bundle = _zip_of(export)
    names = set(bundle.namelist())
    for entry in installed_entries():
        assert f"{entry.kind}.json" in names
        assert f"{entry.kind}.csv" in names
    assert {"README.txt", "archive.json"} <= names
    for kind in POPULATED:
        rows = json.loads(bundle.read(f"{kind}.json"))
        assert rows, f"{kind} is empty"
        table = list(csv.DictReader(io.StringIO(bundle.read(f"{kind}.csv").decode())))
        assert len(table) == len(rows)
    profile = json.loads(bundle.read("profile.json"))[0]
    assert (profile["email"], profile["first_name"]) == (EMAIL, FIRST)
    assert "password" not in profile
    clicks = json.loads(bundle.read("clicks.json"))
    assert len(clicks) == 3 and all("visitor" not in row for row in clicks)
    account = json.loads(bundle.read("connected_accounts.json"))[0]
    assert "access_token" not in account and account["external_id"] == "zq-123"
    audit = json.loads(bundle.read("audit_entries.json"))
    actions = {row["action"] for row in audit}
    # By them (their profile) and about them (an admin changed their role).
    assert {"user.profile_updated", "user.role_changed"} <= actions
    points = json.loads(bundle.read("points.json"))
    assert sum(row["points"] for row in points) >= 40
    readme = bundle.read("README.txt").decode()
    assert "Everything Portevoix holds about you" in readme
    assert "legal retention" in readme
    archive = json.loads(bundle.read("archive.json"))
    assert set(archive) >= {"count", "retained_until", "records"}


def test_the_readme_speaks_the_persons_language(rich, django_capture_on_commit_callbacks):
    rich.user.language = "fr"
    rich.user.save(update_fields=["language"])
    export = _built(rich.user, django_capture_on_commit_callbacks)
    readme = _zip_of(export).read("README.txt").decode()
    assert "shares" in readme  # the file names stay as they are
    assert readme.splitlines()[0]  # a title, in French once translated


def test_the_export_is_announced_when_ready(rich, django_capture_on_commit_callbacks):
    _built(rich.user, django_capture_on_commit_callbacks)
    note = Notification.objects.get(recipient=rich.user, kind="privacy.export_ready")
    assert note.url == "/me/data/"


def test_one_export_in_preparation_at_a_time(rich, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first, created = data_export_request(user=rich.user)
        second, again = data_export_request(user=rich.user)
    assert created and not again and first.pk == second.pk
    assert len(callbacks) == 1
    # A task delivered twice builds once.
    assert build_data_export.run(first.pk) == ExportStatus.READY
    assert build_data_export.run(first.pk) == "skipped"
    third, created = data_export_request(user=rich.user)
    assert created and third.pk != first.pk


def test_a_failed_build_is_recorded_and_a_new_request_is_possible(
    personas, clock, django_capture_on_commit_callbacks, monkeypatch
):
    user = personas.teammate
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=user)

    def broken(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("privacy.services.exports.export_write_zip", broken)
    assert data_export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, "disk full")
    html = client_for(user).get("/me/data/").content.decode()
    assert "Failed" in html
    assert data_export_request(user=user)[1]


# --- the API -------------------------------------------------------------------------------


def test_api_request_status_and_download(rich, django_capture_on_commit_callbacks):
    api = api_client_for(rich.user)
    answer = api.get("/api/v1/me/data-export/")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/problem+json")
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/me/data-export/")
    assert answer.status_code == 202
    assert answer.json()["status"] in ("pending", "running", "ready")
    export = DataExport.objects.get(user=rich.user)
    if export.status == ExportStatus.PENDING:  # the broker was not eager
        data_export_build(export_id=export.pk)
    status = api.get("/api/v1/me/data-export/").json()
    assert status["status"] == "ready"
    assert status["download_url"].endswith("/api/v1/me/data-export/download/")
    download = api.get("/api/v1/me/data-export/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert "profile.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()


def test_api_a_second_request_answers_with_the_running_one(personas, clock):
    personas.teammate.language = "en"  # the answers speak the person's language
    personas.teammate.save(update_fields=["language"])
    api = api_client_for(personas.teammate)
    # A forced authentication skips the token's language switch: ask for English.
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    first = api.post("/api/v1/me/data-export/")
    second = api.post("/api/v1/me/data-export/")
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    download = api.get("/api/v1/me/data-export/download/")
    assert download.status_code == 409
    assert "still being prepared" in download.json()["detail"]


def test_nobody_else_downloads_an_export(rich, personas, django_capture_on_commit_callbacks):
    export = _built(rich.user, django_capture_on_commit_callbacks)
    for other in (personas.owner, personas.teammate, personas.outsider):
        assert api_client_for(other).get("/api/v1/me/data-export/download/").status_code == 404
        assert client_for(other).get(f"/media/{export.file.name}").status_code == 404
    assert client_for(rich.user).get(f"/media/{export.file.name}").status_code == 200


def test_api_needs_sign_in(client):
    assert client.post("/api/v1/me/data-export/").status_code in (401, 403)


def test_an_expired_export_cannot_be_downloaded_and_its_file_goes(
    rich, django_capture_on_commit_callbacks, time_machine
):
    export = _built(rich.user, django_capture_on_commit_callbacks)
    name = export.file.name
    time_machine.move_to(NOW + timedelta(days=8), tick=False)
    answer = api_client_for(rich.user).get("/api/v1/me/data-export/download/")
    assert answer.status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        counts = retention_run_for(organization=rich.user.organization)
    assert counts["exports"] == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not export.file
    assert not default_storage.exists(name)


# --- the page ----------------------------------------------------------------------------


def test_my_data_page_requests_shows_progress_and_downloads(
    rich, django_capture_on_commit_callbacks
):
    client = client_for(rich.user)
    page = client.get("/me/data/").content.decode()
    assert "You have not asked for an export yet." in page
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post("/me/data/", follow=True)
    html = answer.content.decode()
    assert "Your export is being prepared." in html
    assert 'data-export-status="pending"' in html
    data_export_build(export_id=DataExport.objects.get(user=rich.user).pk)
    html = client.get("/me/data/").content.decode()
    assert 'data-export-status="ready"' in html
    download = client.get("/me/data/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"

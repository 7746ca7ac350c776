"""An export never blocks its person forever (a lost task is sent again, a stuck one
fails and a new request works), never leaves a ZIP behind its row (a build that fails
after storing the file, an erasure while it runs), and a file missing from storage is an
"expired" answer, not a server error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage

from privacy.models import DataExport, ExportStatus
from privacy.services.erasure import person_erase
from privacy.services.exports import (
    data_export_build,
    data_export_request,
    data_exports_sweep,
    export_running_timeout,
)
from privacy.tasks import sweep_data_exports
from tests.conftest import api_client_for, client_for
from tests.privacy.conftest import EMAIL, NOW

pytestmark = pytest.mark.django_db


def _stored_exports() -> list[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "exports"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def _english(user):
    user.language = "en"
    user.save(update_fields=["language"])
    return user


# --- 1. a lost or crashed export -----------------------------------------------------------


def test_a_lost_task_is_sent_again_and_a_crashed_build_fails_then_a_new_request_works(
    personas, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    user = personas.teammate
    with django_capture_on_commit_callbacks(execute=False):
        lost, created = data_export_request(user=user)  # the task never arrives
    assert created and lost.queued_at == NOW
    # Within a few minutes: nothing to do yet.
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert data_exports_sweep() == {"requeued": 0, "failed": 0}
    assert not callbacks
    # Later: the task is sent again (once per sweep interval).
    time_machine.move_to(NOW + timedelta(minutes=6), tick=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sweep_data_exports.run() == {"requeued": 1, "failed": 0}
        assert data_exports_sweep()["requeued"] == 0
    assert len(callbacks) == 1

    # A worker claims it and dies: the row stays "running" past the timeout.
    DataExport.objects.filter(pk=lost.pk).update(
        status=ExportStatus.RUNNING, started_at=NOW + timedelta(minutes=6)
    )
    assert data_export_request(user=user) == (DataExport.objects.get(pk=lost.pk), False)
    time_machine.move_to(NOW + timedelta(minutes=7) + export_running_timeout(), tick=False)
    assert data_exports_sweep() == {"requeued": 0, "failed": 1}
    lost.refresh_from_db()
    assert lost.status == ExportStatus.FAILED and lost.error
    with django_capture_on_commit_callbacks(execute=False):
        fresh, created = data_export_request(user=user)
    assert created and fresh.pk != lost.pk
    assert data_export_build(export_id=fresh.pk).status == ExportStatus.READY


def test_an_export_no_worker_ever_takes_fails_in_the_end(
    personas, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=personas.teammate)
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    assert data_exports_sweep()["failed"] == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED


def test_a_build_swept_as_failed_meanwhile_deletes_its_file(
    personas, clock, django_capture_on_commit_callbacks, monkeypatch
):
    from privacy.services import exports

    user = personas.teammate
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=user)
    real = exports.export_write_zip

    def slow(*, user, handle):
        real(user=user, handle=handle)
        DataExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED)

    monkeypatch.setattr(exports, "export_write_zip", slow)
    assert data_export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and not export.file
    assert _stored_exports() == []


# --- 2. no orphaned ZIP ----------------------------------------------------------------


def test_a_failure_after_the_file_is_stored_deletes_the_file(
    personas, clock, django_capture_on_commit_callbacks, monkeypatch
):
    user = personas.teammate
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=user)

    def broken(**kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr("privacy.services.exports.notification_create", broken)
    assert data_export_build(export_id=export.pk) is None
    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, "mail server down")
    assert not export.file
    assert _stored_exports() == []
    # And the person may ask again.
    assert data_export_request(user=user)[1]


def test_an_erasure_while_the_export_runs_leaves_no_file(
    rich, personas, django_capture_on_commit_callbacks, monkeypatch
):
    from privacy.services import exports

    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=rich.user)
    real = exports.export_write_zip

    def erased_meanwhile(*, user, handle):
        real(user=user, handle=handle)
        person_erase(actor=personas.owner, user=user, confirm_email=EMAIL)

    monkeypatch.setattr(exports, "export_write_zip", erased_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        assert data_export_build(export_id=export.pk) is None
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert _stored_exports() == []


def test_an_erasure_deletes_a_ready_export_file(rich, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=rich.user)
    export = data_export_build(export_id=export.pk)
    assert default_storage.exists(export.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=personas.owner, user=rich.user, confirm_email=EMAIL)
    assert _stored_exports() == []


# --- 4. a file missing from storage ----------------------------------------------------


def test_a_file_missing_from_storage_is_expired_not_a_server_error(
    personas, clock, django_capture_on_commit_callbacks
):
    user = _english(personas.teammate)
    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=user)
    export = data_export_build(export_id=export.pk)
    default_storage.delete(export.file.name)

    answer = api_client_for(user).get("/api/v1/me/data-export/download/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 409
    assert answer["Content-Type"].startswith("application/problem+json")
    assert "expired" in answer.json()["detail"]
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not export.file

    # The page: the same, as a message.
    DataExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.READY, file="exports/gone.zip"
    )
    page = client_for(user).get("/me/data/download/", follow=True)
    assert page.status_code == 200
    assert "Your last export has expired; ask for a new one." in page.content.decode()

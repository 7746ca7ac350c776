"""The archive of what was shared is kept under legal retention: the export lists its
records and says until when they are kept; erasure leaves them as they are (their rows
cannot change) and works around them."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.storage import default_storage

from archive.models import ArchivedShare
from archive.services import share_archive_observe
from privacy.services.erasure import person_erase
from privacy.services.exports import data_export_build, data_export_request
from tests.conftest import client_for
from tests.privacy.conftest import EMAIL

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_archive_and_erasure_leaves_it(
    rich, personas, django_capture_on_commit_callbacks
):
    share_archive_observe(share_id=rich.published.pk)
    kept = list(ArchivedShare.objects.filter(person_id=rich.user.pk).values())
    assert kept, "the published share is archived"

    with django_capture_on_commit_callbacks(execute=False):
        export, _created = data_export_request(user=rich.user)
    export = data_export_build(export_id=export.pk)
    with default_storage.open(export.file.name, "rb") as handle:
        bundle = zipfile.ZipFile(io.BytesIO(handle.read()))
    archive = json.loads(bundle.read("archive.json"))
    assert archive["count"] == len(kept) and archive["records"]
    assert archive["retained_until"]
    readme = bundle.read("README.txt").decode()
    assert f"kept under legal retention until {archive['retained_until']}" in readme
    assert "legal retention until" in client_for(rich.user).get("/me/data/").content.decode()
    assert "legal retention" in (
        client_for(personas.owner).get(f"/admin/people/{rich.user.pk}/erase/").content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=personas.owner, user=rich.user, confirm_email=EMAIL)
    assert list(ArchivedShare.objects.filter(person_id=rich.user.pk).values()) == kept

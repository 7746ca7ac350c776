"""The privacy page (generated from the organisation's settings), its administration
(contact, text, retention periods within bounds, audited), and the links to them."""

from __future__ import annotations

import pytest

from organizations.models import AuditLogEntry
from privacy.models import PrivacySettings
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

VALID = {
    "contact_name": "Délégué à la protection des données",
    "contact_email": "dpo@acme.example",
    "notice": "Our DPO answers within a month.",
    "click_retention_days": 180,
    "notification_retention_days": 200,
    "export_retention_days": 5,
}


def test_the_privacy_page_says_what_who_and_how_long(personas, clock):
    client = client_for(personas.teammate)
    html = client.get("/privacy/").content.decode()
    assert "395 days, then only daily totals." in html  # the default
    assert "has not named a data-protection contact yet" in html
    assert "legal retention" in html
    PrivacySettings.objects.create(organization=personas.organization, **VALID)
    html = client.get("/privacy/").content.decode()
    assert "180 days, then only daily totals." in html
    assert "200 days." in html and "5 days." in html
    assert "dpo@acme.example" in html and "Our DPO answers within a month." in html


def test_the_privacy_page_is_per_organisation(personas, clock):
    PrivacySettings.objects.create(organization=personas.other_organization, **VALID)
    html = client_for(personas.teammate).get("/privacy/").content.decode()
    assert "dpo@acme.example" not in html


def test_the_pages_are_linked_from_the_menu_and_the_profile(personas, clock):
    html = client_for(personas.teammate).get("/me/").content.decode()
    assert 'href="/privacy/"' in html and 'href="/me/data/"' in html


def test_pages_need_sign_in(client):
    for url in ("/privacy/", "/me/data/", "/admin/privacy/"):
        assert client.get(url).status_code == 302


def test_the_admin_page_saves_within_bounds_and_audits(personas, clock):
    client = client_for(personas.owner)
    assert client.get("/admin/privacy/").status_code == 200
    bad = client.post("/admin/privacy/", {**VALID, "click_retention_days": 5})
    assert bad.status_code == 200
    assert "Ensure this value is greater than or equal to 30." in bad.content.decode()
    assert not PrivacySettings.objects.exists()
    answer = client.post("/admin/privacy/", VALID, follow=True)
    assert "The privacy settings are saved." in answer.content.decode()
    saved = PrivacySettings.objects.get(organization=personas.organization)
    assert (saved.click_retention_days, saved.updated_by) == (180, personas.owner)
    entry = AuditLogEntry.objects.get(action="privacy.settings_changed")
    assert entry.details["changes"]["click_retention_days"] == [395, 180]
    audit = client.get("/admin/audit/").content.decode()
    assert "changed the privacy settings" in audit


def test_only_admins_reach_the_admin_page(personas, clock):
    assert client_for(personas.teammate).get("/admin/privacy/").status_code == 404
    client_for(personas.outsider).post("/admin/privacy/", VALID)
    assert not PrivacySettings.objects.filter(organization=personas.organization).exists()


def test_my_data_page_empty_state_and_participation(personas, clock):
    html = client_for(personas.teammate).get("/me/data/").content.decode()
    assert "You have not asked for an export yet." in html
    assert "You have not joined the programme yet." in html
    assert "Join the programme" in html


def _archived(user, count: int) -> None:
    from datetime import timedelta

    from archive.services import share_archive_observe
    from tests.challenges.conftest import make_share
    from tests.privacy.conftest import NOW

    for days in range(count):
        share = make_share(user, at=NOW - timedelta(days=days + 1))
        share_archive_observe(share_id=share.pk)


def _archive_queries(client, url: str) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    archive = [q["sql"] for q in queries.captured_queries if '"archive_' in q["sql"]]
    return len(queries.captured_queries), archive


@pytest.mark.parametrize("url", ["/me/data/", "/privacy/"])
def test_the_pages_count_the_archive_without_loading_it(personas, clock, url):
    user = personas.teammate
    user.language = "en"
    user.save(update_fields=["language"])
    client = client_for(user)
    _archived(user, 1)
    few, archive = _archive_queries(client, url)
    # At most one query on the archive, an aggregate; never its events.
    assert len(archive) <= 1
    assert not any("archive_archiveevent" in sql for sql in archive)
    assert all("COUNT(" in sql and "MAX(" in sql for sql in archive)
    _archived(user, 4)
    many, _archive = _archive_queries(client, url)
    assert many == few  # the number of records does not change the number of queries
    assert many <= 30
    if url == "/me/data/":
        html = client.get(url).content.decode()
        assert "keeps 5 records about you under legal retention until" in html


def test_the_erasure_page_counts_the_archive_without_loading_it(personas, clock):
    _archived(personas.teammate, 3)
    owner = personas.owner
    owner.language = "en"
    owner.save(update_fields=["language"])
    _count, archive = _archive_queries(
        client_for(owner), f"/admin/people/{personas.teammate.pk}/erase/"
    )
    assert len(archive) == 1 and "COUNT(" in archive[0] and "MAX(" in archive[0]
    html = client_for(owner).get(f"/admin/people/{personas.teammate.pk}/erase/").content.decode()
    assert "The archive keeps 3 records under legal retention until" in html

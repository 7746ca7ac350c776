"""Who reads the archive: the organisation's compliance officers, and no one else (pages
403, API problem JSON 403); another organisation's officer sees nothing of this one (404,
never in a list). Search filters, pagination, query counts, the retention setting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy.models import Share, ShareStatus
from archive.models import ArchiveExport, ArchivePolicy, ExportStatus
from archive.services import share_archive_observe
from organizations.audit_text import audit_rows
from organizations.models import AuditLogEntry, Role
from tests.archive.conftest import NOW, approved_content, archived
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    """Every date below is anchored: no test reads the real clock."""
    time_machine.move_to(NOW, tick=True)


@pytest.fixture
def records(personas):
    # Names of their own: the person filter matches parts of names and addresses, and two
    # random names may share one.
    for person, (first, last) in (
        (personas.owner, ("Odile", "Ordonneau")),
        (personas.teammate, ("Théo", "Tessier")),
    ):
        person.first_name, person.last_name = first, last
        person.email = f"{first[0].lower()}.{last.lower()}@acme.test"
        person.save()
    content = approved_content(
        personas.organization, title="Quarterly results", reviewer=personas.owner
    )
    other = approved_content(personas.organization, title="Summer party")
    now = NOW
    rows = [
        archived(
            personas.teammate,
            content,
            text="Great quarter for our teams",
            at=now - timedelta(days=40),
        ),
        archived(
            personas.owner, content, text="Revenue is up", network="x", at=now - timedelta(days=3)
        ),
        archived(personas.teammate, other, text="See you at the party", network="facebook", at=now),
    ]
    return rows


def test_other_roles_get_403_on_pages_and_problem_json_on_the_api(personas, records):
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    for user in (personas.teammate, personas.owner, editor):
        client = client_for(user)
        for url in ("/archive/", f"/archive/{records[0].pk}/", "/archive/exports/"):
            assert client.get(url).status_code == 403, (user.role, url)
        api = api_client_for(user)
        for url in (
            "/api/v1/archive/",
            f"/api/v1/archive/{records[0].pk}/",
            "/api/v1/archive/exports/",
        ):
            answer = api.get(url)
            assert answer.status_code == 403, (user.role, url)
            assert answer["Content-Type"].startswith("application/problem+json")
        answer = api.post(
            "/api/v1/archive/exports/", {"date_from": "2026-01-01", "date_to": "2026-01-02"}
        )
        assert answer.status_code == 403
    assert client_for(personas.teammate).get("/archive/").status_code == 403
    assert client_for(personas.owner).get("/archive/").status_code == 403
    assert not ArchiveExport.objects.exists()


def test_anonymous_is_sent_to_log_in(records):
    from django.test import Client

    assert Client().get("/archive/").status_code == 302
    assert Client().get("/api/v1/archive/").status_code in (401, 403)


def test_the_officer_sees_their_organisation_and_no_other(
    personas, officer, other_officer, records
):
    foreign = archived(
        personas.outsider, approved_content(personas.other_organization), text="Secret plan"
    )
    page = client_for(officer).get("/archive/")
    assert page.status_code == 200
    html = page.content.decode()
    for record in records:
        assert f'data-share="{record.share_id}"' in html
    assert "Secret plan" not in html
    assert client_for(officer).get(f"/archive/{foreign.pk}/").status_code == 404
    answer = api_client_for(officer).get("/api/v1/archive/")
    assert [row["share_id"] for row in answer.json()["results"]] == [
        records[2].share_id,
        records[1].share_id,
        records[0].share_id,
    ]
    assert api_client_for(officer).get(f"/api/v1/archive/{foreign.pk}/").status_code == 404
    # And the other way round.
    theirs = api_client_for(other_officer).get("/api/v1/archive/").json()["results"]
    assert [row["share_id"] for row in theirs] == [foreign.share_id]
    assert client_for(other_officer).get(f"/archive/{records[0].pk}/").status_code == 404


def test_search_filters_by_person_period_network_content_and_words(personas, officer, records):
    api = api_client_for(officer)

    def found(**params):
        answer = api.get("/api/v1/archive/", params)
        assert answer.status_code == 200, answer.content
        return {row["share_id"] for row in answer.json()["results"]}

    first, second, third = (r.share_id for r in records)
    assert found(person=personas.teammate.email) == {first, third}
    assert found(person=personas.owner.last_name) == {second}
    assert found(network="x") == {second}
    assert found(content="summer") == {third}
    assert found(content=str(records[0].content_id)) == {first, second}
    assert found(words="quarter teams") == {first}
    assert found(words="QUARTER") == {first}
    today = NOW.date()
    assert found(date_from=(today - timedelta(days=10)).isoformat()) == {second, third}
    assert found(date_to=(today - timedelta(days=10)).isoformat()) == {first}
    # The page filters alike.
    html = client_for(officer).get("/archive/", {"network": "facebook"}).content.decode()
    assert f'data-share="{third}"' in html and f'data-share="{first}"' not in html
    empty = client_for(officer).get("/archive/", {"words": "nowhere"}).content.decode()
    assert "No archived share matches" in empty


def test_bad_filters_are_clear_errors(officer, records):
    api = api_client_for(officer)
    answer = api.get("/api/v1/archive/", {"network": "myspace"})
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert "network" in answer.content.decode()
    answer = api.get("/api/v1/archive/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert answer.status_code == 400 and "date_to" in answer.content.decode()
    page = client_for(officer).get("/archive/", {"date_from": "not a date"})
    assert page.status_code == 200
    assert api.get("/api/v1/archive/exports/", {}).status_code == 200
    answer = api.post("/api/v1/archive/exports/", {"date_from": "2026-05-02"}, format="json")
    assert answer.status_code == 400 and "date_to" in answer.content.decode()
    assert not ArchiveExport.objects.exists()


def test_detail_shows_the_final_text_approvals_events_and_hash(personas, officer, records):
    record = records[0]
    Share.objects.filter(pk=record.share_id).update(status=ShareStatus.RECALL_ASKED)
    share_archive_observe(share_id=record.share_id)
    html = client_for(officer).get(f"/archive/{record.pk}/").content.decode()
    assert "Great quarter for our teams" in html
    assert record.record_hash in html
    assert "Employee asked to delete it" in html
    assert personas.owner.get_full_name() in html  # the approval
    body = api_client_for(officer).get(f"/api/v1/archive/{record.pk}/").json()
    assert body["text"] == "Great quarter for our teams"
    assert [event["kind"] for event in body["events"]] == ["recall_asked"]
    assert body["approvals"][0]["reviewer"] == personas.owner.get_full_name()
    assert body["latest_event"] == "recall_asked"


def test_list_queries_do_not_grow_with_the_rows(personas, officer, records):
    client, api = client_for(officer), api_client_for(officer)
    client.get("/archive/")
    with CaptureQueriesContext(connection) as few:
        client.get("/archive/")
    with CaptureQueriesContext(connection) as few_api:
        api.get("/api/v1/archive/")
    for n in range(12):
        archived(personas.teammate, approved_content(personas.organization), text=f"More {n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/archive/")
    with CaptureQueriesContext(connection) as many_api:
        api.get("/api/v1/archive/")
    assert len(many) == len(few)
    assert len(many_api) == len(few_api)


def test_pagination(personas, officer):
    for n in range(30):
        archived(personas.teammate, approved_content(personas.organization), text=f"Post {n}")
    client = client_for(officer)
    first = client.get("/archive/").content.decode()
    assert "Page 1 of 2" in first
    second = client.get("/archive/", {"page": 2}).content.decode()
    assert second.count("data-share=") == 5
    answer = api_client_for(officer).get("/api/v1/archive/").json()
    assert answer["count"] == 30 and len(answer["results"]) == 30  # 50 a page
    assert api_client_for(officer).get("/api/v1/archive/", {"page": 3}).status_code == 404


def test_export_pages_and_download_only_for_the_organisations_officers(
    personas, officer, other_officer, records, django_capture_on_commit_callbacks
):
    from archive.services import archive_export_build

    client = client_for(officer)
    today = NOW.date()
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post(
            "/archive/exports/",
            {"date_from": (today - timedelta(days=60)).isoformat(), "date_to": today.isoformat()},
        )
    export = ArchiveExport.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/archive/exports/{export.pk}/"
    pending = client.get(f"/archive/exports/{export.pk}/").content.decode()
    assert "Being prepared" in pending and 'http-equiv="refresh"' in pending
    assert client.get(f"/archive/exports/{export.pk}/download/").status_code == 302
    assert (
        api_client_for(officer).get(f"/api/v1/archive/exports/{export.pk}/download/").status_code
        == 409
    )

    archive_export_build(export_id=export.pk)
    download = client.get(f"/archive/exports/{export.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    api_download = api_client_for(officer).get(f"/api/v1/archive/exports/{export.pk}/download/")
    assert api_download.status_code == 200 and api_download.content == download.content
    listed = api_client_for(officer).get("/api/v1/archive/exports/").json()["results"]
    assert listed[0]["status"] == ExportStatus.READY and listed[0]["record_count"] == 3
    assert "Ready" in client.get("/archive/exports/").content.decode()

    for url in (f"/archive/exports/{export.pk}/", f"/archive/exports/{export.pk}/download/"):
        assert client_for(other_officer).get(url).status_code == 404
        assert client_for(personas.owner).get(url).status_code == 403
    api = api_client_for(other_officer)
    assert api.get(f"/api/v1/archive/exports/{export.pk}/download/").status_code == 404
    assert api.get("/api/v1/archive/exports/").json()["results"] == []


def test_api_creates_an_export(officer, records, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = api_client_for(officer).post(
            "/api/v1/archive/exports/",
            {"date_from": "2026-01-01", "date_to": "2026-01-31"},
            format="json",
        )
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "pending" and answer.json()["download_url"] is None
    assert len(callbacks) == 1


def test_empty_states(officer):
    html = client_for(officer).get("/archive/").content.decode()
    assert "Nothing archived yet" in html
    assert "No export yet" in client_for(officer).get("/archive/exports/").content.decode()


def test_retention_settings_for_org_admins_audited(personas, officer):
    client = client_for(personas.owner)
    page = client.get("/admin/archive/")
    assert page.status_code == 200 and 'value="7"' in page.content.decode()
    answer = client.post("/admin/archive/", {"retention_years": 10})
    assert answer.status_code == 302
    assert ArchivePolicy.objects.get(organization=personas.organization).retention_years == 10
    entry = AuditLogEntry.objects.get(action="archive.retention_changed")
    assert entry.details == {"from": 7, "to": 10}
    [row] = audit_rows([entry])
    assert "set the archive's retention to 10 years (was 7)" in row.sentence
    for bad in (0, 31, "seven"):
        again = client.post("/admin/archive/", {"retention_years": bad})
        assert again.status_code == 200 and "errorlist" in again.content.decode()
    assert ArchivePolicy.objects.get(organization=personas.organization).retention_years == 10
    assert client_for(officer).get("/admin/archive/").status_code == 404
    assert client_for(personas.teammate).get("/admin/archive/").status_code == 404


def test_navigation_entry_only_for_compliance_officers(personas, officer):
    assert 'href="/archive/"' in client_for(officer).get("/archive/").content.decode()
    assert 'href="/archive/"' not in client_for(personas.teammate).get("/feed/").content.decode()

"""The audit log: append-only in the ORM and in PostgreSQL, readable and filterable by the
org admin on a page and through the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction

from organizations.audit import audit_record
from organizations.models import AppendOnlyError, AuditLogEntry
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def entry(personas):
    return audit_record(
        action="team.created",
        organization=personas.organization,
        actor=personas.owner,
        target=personas.team,
        details={"parent": None},
    )


# --- Append-only ---------------------------------------------------------------------------


def test_saving_an_existing_entry_is_refused(entry):
    entry.action = "team.deleted"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditLogEntry.objects.get(pk=entry.pk).action == "team.created"


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        AuditLogEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditLogEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditLogEntry.objects.update(action="forged")
    assert AuditLogEntry.objects.get(pk=entry.pk).action == "team.created"


def test_new_entries_can_still_be_written(personas):
    first = audit_record(action="a.one", organization=personas.organization)
    second = audit_record(action="a.two", organization=personas.organization)
    assert first.pk != second.pk
    assert AuditLogEntry.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE organizations_auditlogentry SET action = 'forged' WHERE id = %s",
        "UPDATE organizations_auditlogentry SET actor_id = NULL, actor_email = '' WHERE id = %s",
        "DELETE FROM organizations_auditlogentry WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_remove_entries(entry, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    entry_now = AuditLogEntry.objects.get(pk=entry.pk)
    assert entry_now.action == "team.created"
    assert entry_now.actor_email == entry.actor_email


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
def test_raw_sql_truncate_style_bulk_delete_is_refused(entry, personas):
    audit_record(action="another", organization=personas.organization)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM organizations_auditlogentry")
    assert AuditLogEntry.objects.count() == 2


def test_deleting_a_user_keeps_their_entries(personas):
    leaver = UserFactory(organization=personas.organization, email="leaver@acme.test")
    done = audit_record(
        action="user.profile_updated",
        organization=personas.organization,
        actor=leaver,
        target=leaver,
    )
    about = audit_record(
        action="user.updated",
        organization=personas.organization,
        actor=personas.owner,
        target=leaver,
    )
    leaver.delete()

    kept = AuditLogEntry.objects.get(pk=done.pk)
    assert kept.actor_id is None
    assert kept.actor_email == "leaver@acme.test"
    assert kept.action == "user.profile_updated"
    assert kept.target_repr == done.target_repr
    assert AuditLogEntry.objects.get(pk=about.pk).actor == personas.owner


# --- The admin page ------------------------------------------------------------------------


@pytest.fixture
def history(personas):
    org, owner, mate = personas.organization, personas.owner, personas.teammate
    rows = [
        ("auth.login", owner, datetime(2026, 1, 10, 9, 0, tzinfo=PARIS)),
        ("auth.login_failed", None, datetime(2026, 1, 20, 9, 0, tzinfo=PARIS)),
        ("team.created", owner, datetime(2026, 2, 1, 0, 30, tzinfo=PARIS)),
        ("user.role_changed", owner, datetime(2026, 2, 15, 23, 30, tzinfo=PARIS)),
        ("auth.login", mate, datetime(2026, 3, 1, 12, 0, tzinfo=PARIS)),
    ]
    for action, actor, when in rows:
        AuditLogEntry.objects.create(
            organization=org,
            actor=actor,
            actor_email=actor.email if actor else "intruder@evil.test",
            action=action,
            created_at=when,
        )
    return rows


def _actions(response):
    return [e.action for e in response.context["page"].object_list]


def test_audit_page_lists_newest_first(personas, history):
    response = client_for(personas.owner).get("/admin/audit/")
    assert response.status_code == 200
    assert _actions(response) == [
        "auth.login",  # signing the test client in is itself logged, today
        "auth.login",
        "user.role_changed",
        "team.created",
        "auth.login_failed",
        "auth.login",
    ]


def test_audit_page_filters_by_action_prefix(personas, history):
    response = client_for(personas.owner).get("/admin/audit/?action=auth.&until=2026-06-30")
    assert _actions(response) == ["auth.login", "auth.login_failed", "auth.login"]
    response = client_for(personas.owner).get("/admin/audit/?action=team.created")
    assert _actions(response) == ["team.created"]


def test_audit_page_filters_by_actor(personas, history):
    response = client_for(personas.owner).get("/admin/audit/?actor=INTRUDER")
    assert _actions(response) == ["auth.login_failed"]
    response = client_for(personas.owner).get(f"/admin/audit/?actor={personas.teammate.email}")
    assert _actions(response) == ["auth.login"]


def test_audit_page_filters_by_dates_in_the_organisation_time_zone(personas, history):
    # 2026-02-01 00:30 and 2026-02-15 23:30 in Paris are inside February there, although
    # in UTC the first one is still January 31st.
    response = client_for(personas.owner).get("/admin/audit/?since=2026-02-01&until=2026-02-15")
    assert _actions(response) == ["user.role_changed", "team.created"]


def test_audit_page_bad_date_shows_an_error_not_500(personas, history):
    response = client_for(personas.owner).get("/admin/audit/?since=not-a-date")
    assert response.status_code == 200
    assert "since" in response.context["form"].errors


def test_audit_page_empty_state(personas, history):
    response = client_for(personas.owner).get("/admin/audit/?action=nothing.matches")
    assert response.status_code == 200
    assert "Nothing matches these filters." in response.content.decode()


def test_audit_page_paginates_and_keeps_the_filters(personas):
    for index in range(30):
        audit_record(
            action=f"bulk.{index:02d}", organization=personas.organization, actor=personas.owner
        )
    client = client_for(personas.owner)
    first = client.get("/admin/audit/?action=bulk.")
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "?action=bulk.&amp;page=2" in first.content.decode()
    second = client.get("/admin/audit/?action=bulk.&page=2")
    assert len(second.context["page"].object_list) == 5
    # A page number out of range falls back to the last page rather than a 404.
    assert client.get("/admin/audit/?action=bulk.&page=99").context["page"].number == 2


def test_audit_page_query_count_is_bounded(personas, django_assert_max_num_queries):
    for index in range(30):
        audit_record(
            action=f"bulk.{index}",
            organization=personas.organization,
            actor=personas.owner,
            target=personas.team,
        )
    client = client_for(personas.owner)
    with django_assert_max_num_queries(10):
        assert client.get("/admin/audit/").status_code == 200


# --- The API -------------------------------------------------------------------------------


def test_api_filters_by_action_prefix(personas, history):
    response = api_client_for(personas.owner).get("/api/v1/audit-log/?action=auth.")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {e["action"] for e in body["results"]} == {"auth.login", "auth.login_failed"}


def test_api_filters_by_date_and_actor(personas, history):
    response = api_client_for(personas.owner).get(
        f"/api/v1/audit-log/?since=2026-02-01&actor={personas.owner.email}"
    )
    assert [e["action"] for e in response.json()["results"]] == [
        "user.role_changed",
        "team.created",
    ]


@pytest.mark.parametrize("param", ["since", "until"])
def test_api_bad_date_is_400_naming_the_field(personas, history, param):
    response = api_client_for(personas.owner).get(f"/api/v1/audit-log/?{param}=yesterday")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == param


def test_api_entry_detail(personas, entry):
    response = api_client_for(personas.owner).get(f"/api/v1/audit-log/{entry.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["action"] == "team.created"
    assert body["actor_email"] == personas.owner.email
    assert body["target_repr"] == "Communication"


def test_api_is_read_only(personas, entry):
    api = api_client_for(personas.owner)
    assert api.delete(f"/api/v1/audit-log/{entry.pk}/").status_code == 405
    assert (
        api.patch(f"/api/v1/audit-log/{entry.pk}/", {"action": "x"}, format="json").status_code
        == 405
    )
    assert api.post("/api/v1/audit-log/", {"action": "x"}, format="json").status_code == 405
    assert AuditLogEntry.objects.count() == 1

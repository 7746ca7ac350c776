"""The pages: a person's reminders, the scheduled-share link and its cancel, the profile
section, and the org admin's settings (permissions, validation, audit, counts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy.models import Share, ShareStatus
from notifications.models import Notification
from nudges.models import NudgeDelivery, NudgeKind, NudgeOptOut, NudgeSettings
from nudges.services import nudges_send
from organizations.audit_text import audit_rows
from organizations.models import AuditLogEntry, Role
from tests.conftest import client_for
from tests.nudges.conftest import NOW, person, share_of

pytestmark = pytest.mark.django_db


# --- the person's reminders ---------------------------------------------------------------


def test_preferences_page_lists_every_kind_and_saves_opt_outs(personas):
    client = client_for(personas.teammate)
    page = client.get("/nudges/")
    assert page.status_code == 200
    html = page.content.decode()
    for kind in NudgeKind:
        assert f'value="{kind.value}"' in html
    assert "at most 1 reminder a week" in html

    answer = client.post("/nudges/", {"kinds": ["scheduled_share", "charter"]}, follow=True)
    assert "Your reminder choices are saved." in answer.content.decode()
    assert set(
        NudgeOptOut.objects.filter(user=personas.teammate).values_list("kind", flat=True)
    ) == {"challenge_ending", "inactive"}

    client.post("/nudges/", {"kinds": ["inactive"]})
    assert set(
        NudgeOptOut.objects.filter(user=personas.teammate).values_list("kind", flat=True)
    ) == {"challenge_ending", "scheduled_share", "charter"}


def test_preferences_page_refuses_an_unknown_kind_with_a_message(personas):
    answer = client_for(personas.teammate).post("/nudges/", {"kinds": ["spam"]})
    assert answer.status_code == 200
    assert "There is a problem to correct" in answer.content.decode()
    assert not NudgeOptOut.objects.exists()


def test_preferences_page_says_when_the_organisation_turned_a_kind_off(personas):
    NudgeSettings.objects.create(organization=personas.organization, charter_enabled=False)
    html = client_for(personas.teammate).get("/nudges/").content.decode()
    assert "Your organisation does not send this reminder at the moment." in html


def test_preferences_page_needs_sign_in(client):
    assert client.get("/nudges/").status_code == 302


def test_profile_shows_the_reminders_section(personas):
    NudgeOptOut.objects.create(user=personas.teammate, kind=NudgeKind.INACTIVE)
    html = client_for(personas.teammate).get("/me/").content.decode()
    assert 'id="profile-nudges-title"' in html
    assert "/nudges/" in html


# --- the scheduled-share reminder's link ---------------------------------------------------------


def test_scheduled_share_reminder_leads_to_the_share_where_it_is_cancelled(time_machine, personas):
    time_machine.move_to(NOW, tick=False)
    sharer = personas.teammate
    share = share_of(
        sharer,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(minutes=55),
        created_at=NOW - timedelta(days=1),
    )
    nudges_send()
    notification = Notification.objects.get(recipient=sharer, kind="nudges.scheduled_share")

    client = client_for(sharer)
    landing = client.get(notification.url)
    assert landing.status_code == 302
    assert landing["Location"] == f"/shares/{share.pk}/"
    detail = client.get(landing["Location"]).content.decode()
    assert f"/shares/{share.pk}/cancel/" in detail

    client.post(f"/shares/{share.pk}/cancel/")
    share.refresh_from_db()
    assert share.status == ShareStatus.CANCELLED

    # Once cancelled, the same link says so and shows the person's shares.
    again = client.get(notification.url, follow=True)
    assert again.redirect_chain[-1][0] == "/shares/"
    assert "no longer scheduled" in again.content.decode()


def test_scheduled_share_link_never_leads_to_someone_elses_share(personas):
    share = share_of(
        personas.teammate,
        status=ShareStatus.SCHEDULED,
        scheduled_at=NOW + timedelta(days=1),
    )
    answer = client_for(personas.outsider).get(f"/nudges/scheduled/{share.content_id}/")
    assert answer["Location"] == "/shares/"
    colleague = person(personas.organization)
    answer = client_for(colleague).get(f"/nudges/scheduled/{share.content_id}/")
    assert answer["Location"] == "/shares/"
    assert Share.objects.get(pk=share.pk).status == ShareStatus.SCHEDULED


# --- the org admin's page -----------------------------------------------------------------------


def test_admin_page_is_for_org_admins_only(personas, client):
    assert client.get("/admin/nudges/").status_code == 302
    for role in (Role.EMPLOYEE, Role.EDITOR, Role.MANAGER, Role.REVIEWER):
        someone = person(personas.organization, role=role)
        assert client_for(someone).get("/admin/nudges/").status_code == 404
        assert client_for(someone).post("/admin/nudges/", {"weekly_cap": 3}).status_code == 404
    assert not NudgeSettings.objects.exists()
    assert client_for(personas.owner).get("/admin/nudges/").status_code == 200


def test_admin_saves_settings_with_an_audit_entry(personas):
    client = client_for(personas.owner)
    answer = client.post(
        "/admin/nudges/",
        {
            "scheduled_share_enabled": "on",
            "charter_enabled": "on",
            "inactive_enabled": "on",
            "inactivity_weeks": "4",
            "weekly_cap": "2",
        },
        follow=True,
    )
    assert "The nudge settings are saved." in answer.content.decode()
    config = NudgeSettings.objects.get(organization=personas.organization)
    assert (config.challenge_ending_enabled, config.inactivity_weeks, config.weekly_cap) == (
        False,
        4,
        2,
    )
    assert config.updated_by == personas.owner
    entry = AuditLogEntry.objects.get(action="nudges.settings_changed")
    assert entry.organization == personas.organization
    assert entry.details["changes"]["weekly_cap"] == [1, 2]
    sentence = audit_rows([entry])[0].sentence
    assert "changed the nudges" in sentence
    assert "nudges per person in seven days: 1 → 2" in sentence
    assert "challenge about to end: on → off" in sentence

    # Saving the same values again writes no second entry.
    client.post(
        "/admin/nudges/",
        {
            "scheduled_share_enabled": "on",
            "charter_enabled": "on",
            "inactive_enabled": "on",
            "inactivity_weeks": "4",
            "weekly_cap": "2",
        },
    )
    assert AuditLogEntry.objects.filter(action="nudges.settings_changed").count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("weekly_cap", "0"), ("weekly_cap", "8"), ("inactivity_weeks", "x")]
)
def test_admin_refuses_bad_values_with_the_error_summary(personas, field, value):
    data = {"inactivity_weeks": "3", "weekly_cap": "1", field: value}
    answer = client_for(personas.owner).post("/admin/nudges/", data)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "There is a problem to correct" in html
    assert f'href="#id_{field}"' in html
    assert not NudgeSettings.objects.exists()
    assert not AuditLogEntry.objects.filter(action="nudges.settings_changed").exists()


def test_admin_page_counts_the_last_30_days_of_its_own_organisation(time_machine, personas):
    time_machine.move_to(NOW, tick=False)
    import uuid

    def delivery(user, kind, key, days_ago):
        NudgeDelivery.objects.create(
            organization=user.organization,
            user=user,
            kind=kind,
            key=key,
            run=uuid.uuid4(),
            sent_at=NOW - timedelta(days=days_ago),
        )

    delivery(personas.teammate, "inactive", "inactive:a", 2)
    delivery(personas.owner, "inactive", "inactive:b", 20)
    delivery(personas.teammate, "charter", "charter:v1", 40)  # too old
    delivery(personas.outsider, "charter", "charter:v1", 1)  # another organisation

    client = client_for(personas.owner)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/nudges/")
    html = page.content.decode()
    assert str(NudgeKind.INACTIVE.label) in html
    rows = page.context["sent"]
    assert dict(rows) == {
        str(NudgeKind.SCHEDULED_SHARE.label): 0,
        str(NudgeKind.CHALLENGE_ENDING.label): 0,
        str(NudgeKind.CHARTER.label): 0,
        str(NudgeKind.INACTIVE.label): 2,
    }
    assert len(queries.captured_queries) <= 15

"""The digest's pages: a person's choice and the profile section; the org admin's page
(permissions, audited schedule, preview of a person's digest, recent runs)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from digests.models import DigestPreference, DigestRun, DigestSettings, Frequency
from organizations.audit_text import audit_rows
from organizations.models import AuditLogEntry
from tests.conftest import client_for
from tests.digests.conftest import daily_at_nine, post
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_preferences_page_saves_my_choice(personas, clock):
    me = client_for(personas.teammate)

    page = me.get(reverse("digest_preferences"))
    assert page.status_code == 200
    assert "Email digest" in page.content.decode()
    response = me.post(reverse("digest_preferences"), {"frequency": "daily"}, follow=True)

    assert "Your digest choice is saved." in response.content.decode()
    assert DigestPreference.objects.get(user=personas.teammate).frequency == Frequency.DAILY


def test_preferences_page_shows_a_clear_error(personas, clock):
    response = client_for(personas.teammate).post(
        reverse("digest_preferences"), {"frequency": "hourly"}
    )

    assert response.status_code == 200
    assert "There is a problem to correct" in response.content.decode()
    assert not DigestPreference.objects.exists()


def test_preferences_need_sign_in():
    response = Client().get(reverse("digest_preferences"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_profile_links_to_the_preferences(personas, clock):
    body = client_for(personas.teammate).get(reverse("profile")).content.decode()

    assert "every day, every week or never" in body
    assert reverse("digest_preferences") in body


def test_admin_page_is_for_org_admins_only(personas, clock):
    assert client_for(personas.teammate).get(reverse("digest_admin")).status_code == 404
    assert Client().get(reverse("digest_admin")).status_code == 302
    assert client_for(personas.owner).get(reverse("digest_admin")).status_code == 200
    preview = reverse("digest_admin_preview_html", args=[personas.owner.pk])
    assert client_for(personas.teammate).get(preview).status_code == 404


def test_admin_saves_the_schedule_audited(personas, clock):
    response = client_for(personas.owner).post(
        reverse("digest_admin"),
        {"default_frequency": "daily", "weekday": "4", "hour": "7"},
        follow=True,
    )

    assert "The digest schedule is saved." in response.content.decode()
    saved = DigestSettings.objects.get(organization=personas.organization)
    assert (saved.default_frequency, saved.weekday, saved.hour) == ("daily", 4, 7)
    entry = AuditLogEntry.objects.get(action="digest.settings_changed")
    assert entry.organization == personas.organization
    assert entry.details["after"] == {"default_frequency": "daily", "weekday": 4, "hour": 7}
    [row] = audit_rows([entry])
    assert row.sentence == (
        f"{personas.owner.get_full_name()} changed the email digest: every day by default, "
        "weekly on Friday, at 07:00."
    )


def test_admin_schedule_errors_are_shown(personas, clock):
    response = client_for(personas.owner).post(
        reverse("digest_admin"), {"default_frequency": "daily", "weekday": "9", "hour": "25"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "There are 2 problems to correct" in body
    assert not DigestSettings.objects.exists()
    assert not AuditLogEntry.objects.filter(action="digest.settings_changed").exists()


def test_admin_previews_a_persons_digest(personas, clock):
    daily_at_nine(personas.organization)
    post(personas.organization, title="Our new plant")
    admin = client_for(personas.owner)

    page = admin.get(reverse("digest_admin"), {"person": personas.teammate.pk})
    frame = admin.get(reverse("digest_admin_preview_html", args=[personas.teammate.pk]))

    body = page.content.decode()
    assert "Our new plant" in body  # the text version
    assert 'sandbox=""' in body
    assert reverse("digest_admin_preview_html", args=[personas.teammate.pk]) in body
    assert frame.status_code == 200 and "Our new plant" in frame.content.decode()
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert "script-src 'none'" in frame["Content-Security-Policy"]
    # The person's unsubscribe link never expires: an admin's preview does not hand it out.
    unsubscribe = reverse("digest_unsubscribe", args=["x"]).rsplit("x", 1)[0]
    assert unsubscribe not in body and unsubscribe not in frame.content.decode()


def test_admin_preview_says_nothing_new(personas, clock):
    body = (
        client_for(personas.owner)
        .get(reverse("digest_admin"), {"person": personas.teammate.pk})
        .content.decode()
    )

    assert "Nothing new" in body
    assert "No digest would be sent to" in body


def test_admin_cannot_preview_another_organisations_person(personas, clock):
    admin = client_for(personas.owner)

    page = admin.get(reverse("digest_admin"), {"person": personas.outsider.pk})
    frame = admin.get(reverse("digest_admin_preview_html", args=[personas.outsider.pk]))

    assert page.status_code == 200
    assert "Choose a person of your organisation." in page.content.decode()
    assert frame.status_code == 404


def test_admin_page_lists_recent_runs_of_its_organisation_only(personas, clock):
    from django.utils import timezone

    DigestRun.objects.create(
        organization=personas.organization, started_at=timezone.now(), sent=12, skipped=3
    )
    DigestRun.objects.create(
        organization=personas.other_organization, started_at=timezone.now(), sent=777
    )

    body = client_for(personas.owner).get(reverse("digest_admin")).content.decode()

    # Cells, not bare numbers: a number can turn up anywhere in a page (an icon's path).
    assert "<td>12</td>" in body and "<td>777</td>" not in body


def test_admin_page_queries_do_not_grow_with_people(personas, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    daily_at_nine(personas.organization)
    post(personas.organization)
    admin = client_for(personas.owner)
    admin.get(reverse("digest_admin"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            admin.get(reverse("digest_admin"), {"person": personas.teammate.pk})
        return len(queries)

    count()  # caches warm (leaderboard sets, sessions)
    few = count()
    for _ in range(20):
        UserFactory(organization=personas.organization)
    assert count() == few <= 30

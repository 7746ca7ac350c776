"""Small things people noticed: one "Forgot your password?", password reset pages in the
app's look, "just now" instead of "0 minutes", no double full stop in the pause notice,
the charter's title once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from advocacy.services.sharing import sharing_pause
from content.models import GuidelineKind
from content.services import guideline_save
from notifications.services import notification_create
from organizations.models import Role
from organizations.templatetags.when import ago
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_login_page_offers_the_reset_link_once(language):
    with translation.override(language):
        from django.utils.translation import gettext

        forgot = gettext("Forgot your password?")
    html = Client(headers={"accept-language": language}).get(reverse("account_login"))
    assert html.content.decode().count(forgot) == 1


def test_password_reset_pages_use_the_app_layout():
    client = Client(headers={"accept-language": "en"})
    page = client.get(reverse("account_reset_password")).content.decode()
    assert "css/app.css" in page and "<h1>Reset your password</h1>" in page
    assert 'id="id_email"' in page
    refused = client.post(reverse("account_reset_password"), {"email": "not an address"})
    assert "data-error-summary" in refused.content.decode()
    done = client.get(reverse("account_reset_password_done")).content.decode()
    assert "css/app.css" in done and "<h1>Check your e-mail</h1>" in done


def test_just_now_then_minutes_ago():
    with translation.override("en"):
        assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
        assert ago(NOW - timedelta(minutes=5), NOW) == "5\xa0minutes ago"
        assert ago(NOW - timedelta(days=2, hours=3), NOW) == "2\xa0days ago"
        assert ago(None, NOW) == ""


def test_notification_list_says_just_now_without_bullets(personas, time_machine):
    time_machine.move_to(NOW, tick=False)
    personas.teammate.language = "en"
    personas.teammate.save()
    notification_create(
        recipient=personas.teammate, kind="advocacy.recall", title="Content withdrawn"
    )
    html = client_for(personas.teammate).get(reverse("notifications")).content.decode()
    assert "just now" in html and "0 minutes" not in html
    assert '<ul class="notification-list" role="list">' in html
    assert (
        ".notification-list { margin: 0 0 var(--pico-spacing); padding: 0; list-style: none; }"
        in html
    )


def test_pause_notice_has_no_double_full_stop(personas):
    personas.owner.language = "en"
    personas.owner.save()
    sharing_pause(actor=personas.owner, reason="Crisis on the Lyon site.")
    html = client_for(personas.owner).get(reverse("sharing_admin")).content.decode()
    assert "Reason: Crisis on the Lyon site." in html
    assert ".." not in html.replace("...", "")


def test_charter_title_is_shown_once(personas):
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR, language="en")
    guideline_save(
        actor=editor,
        kind=GuidelineKind.CHARTER,
        title="Social media charter",
        body="# Social media charter\n\nBe kind.",
    )
    html = client_for(editor).get(reverse("guideline_page", args=["charter"])).content.decode()
    assert 'class="guideline-body opens-with-title"' in html
    assert ".guideline-body.opens-with-title > h1:first-child { display: none; }" in html

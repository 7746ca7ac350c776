"""The Slack and Teams admin page in Chromium at 1280 and 390 px: connect Slack (against the
loopback fake), add a destination, send a test message, see a failure first with its
reason in words, and resend it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import ChannelMessage
from messaging.outbox import message_send
from organizations.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory
from tests.fakes.slack_api import FakeSlack

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOKEN = "xoxb-1111111111-2222222222-abcdefABCDEF"


@pytest.fixture
def fake_slack(settings):
    fake = FakeSlack().start()
    fake.add_workspace(TOKEN, team="Acme Santé", channels=("C0123456789", "C0PRIVATE01"))
    settings.SLACK_API_BASE_URL = fake.api_url
    settings.NETWORK_READ_TIMEOUT = 2
    yield fake
    fake.stop()


def _no_horizontal_scroll(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_admin_connects_slack_and_manages_destinations(page, fake_slack):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    team = TeamFactory(organization=organization, name="Pharmacy")
    admin = UserFactory(
        organization=organization,
        role=Role.ORG_ADMIN,
        email="admin@acme.test",
        language="en",
        teams=[team],
    )
    page.goto("/accounts/login/")
    page.fill("input[name=login]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/channels/")
    expect(page.get_by_text("No destination yet")).to_be_visible()
    _no_horizontal_scroll(page, 390)
    screenshot(page, "channels-admin-empty-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A bad token: the error summary names the problem.
    page.fill("input[name=token]", "xoxb-0000000000-not-known-here")
    page.get_by_role("button", name="Connect Slack").click()
    expect(page.get_by_text("There is a problem to correct")).to_be_visible()
    expect(page.get_by_text("Slack refused this token (invalid_auth)").first).to_be_visible()
    page.fill("input[name=token]", TOKEN)
    page.get_by_role("button", name="Connect Slack").click()
    expect(page.get_by_text("Slack is connected to the workspace “Acme Santé”")).to_be_visible()
    assert TOKEN not in page.content()

    for label, channel in (("#news", "C0123456789"), ("#private", "C0PRIVATE01")):
        if not page.locator("details.channels-add[open]").count():
            page.locator("details.channels-add > summary").click()
        page.locator("input[name=new-kind][value=slack]").check()
        page.fill("input[name=new-label]", label)
        page.fill("input[name=new-slack_channel_id]", channel)
        page.get_by_role("button", name="Add the destination").click()
        expect(page.get_by_text(f"“{label}” is added.")).to_be_visible()

    fake_slack.tokens[TOKEN].outside.add("C0PRIVATE01")
    for label in ("#news", "#private"):
        page.get_by_role("button", name=f"Send a test message — {label}").click()
        expect(page.get_by_text(f"A test message is on its way to “{label}”")).to_be_visible()
    for message in ChannelMessage.objects.order_by("pk"):
        message_send(message_id=message.pk)
    page.goto("/admin/channels/")
    rows = page.locator("table.channels-messages tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("The bot is not in this Slack channel")
    expect(rows.nth(1)).to_contain_text("Sent")
    screenshot(page, "channels-admin-1280")
    _no_horizontal_scroll(page, 390)
    screenshot(page, "channels-admin-390")

    fake_slack.tokens[TOKEN].outside.clear()
    page.set_viewport_size({"width": 1280, "height": 900})
    rows.first.get_by_role("button", name="Resend").click()
    expect(page.get_by_text("The message will be sent again.")).to_be_visible()
    failed = ChannelMessage.objects.get(destination__label="#private")
    assert message_send(message_id=failed.pk) == "sent"
    assert len(fake_slack.posted) == 2

"""Fixtures for the Slack and Teams tests: the loopback fakes, the settings pointing at
them, and builders for a connected organisation and its destinations."""

from __future__ import annotations

import pytest

from messaging.models import DestinationKind, EventKind
from messaging.services import DestinationInput, destination_create, slack_connect
from tests.fakes.slack_api import FakeSlack
from tests.fakes.teams_webhook import FakeTeamsWebhook

TOKEN = "xoxb-1111111111-2222222222-abcdefABCDEF"
CHANNEL = "C0123456789"


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    fake.add_workspace(TOKEN, team="Acme Santé", channels=(CHANNEL, "C0ARCHIVED1", "C0PRIVATE01"))
    yield fake
    fake.stop()


@pytest.fixture
def fake_teams():
    fake = FakeTeamsWebhook().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def messaging_settings(settings, fake_slack):
    settings.SLACK_API_BASE_URL = fake_slack.api_url
    settings.MESSAGING_ALLOW_LOOPBACK = True
    settings.NETWORK_READ_TIMEOUT = 1
    settings.NETWORK_CONNECT_TIMEOUT = 1
    settings.MESSAGING_RETRY_BASE_SECONDS = 10
    settings.MESSAGING_MAX_ATTEMPTS = 3
    settings.SITE_URL = "https://portevoix.example"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings


@pytest.fixture
def personas(personas):
    # Messages are written in the organisation's language: English here, to read the
    # source strings (one test switches to French).
    personas.organization.default_language = "en"
    personas.organization.save(update_fields=["default_language"])
    return personas


@pytest.fixture
def connected(personas, fake_slack):
    return slack_connect(actor=personas.owner, token=TOKEN)


def slack_destination(personas, **kwargs):
    data = DestinationInput(
        kind=DestinationKind.SLACK,
        label=kwargs.pop("label", "#announcements"),
        slack_channel_id=kwargs.pop("channel", CHANNEL),
        events=kwargs.pop("events", [e.value for e in EventKind]),
        **kwargs,
    )
    return destination_create(actor=personas.owner, data=data)


def teams_destination(personas, url: str, **kwargs):
    data = DestinationInput(
        kind=DestinationKind.TEAMS,
        label=kwargs.pop("label", "Teams · Général"),
        webhook_url=url,
        events=kwargs.pop("events", [e.value for e in EventKind]),
        **kwargs,
    )
    return destination_create(actor=personas.owner, data=data)

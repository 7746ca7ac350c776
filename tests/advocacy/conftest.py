"""Fixtures for the sharing tests: a fake social network per test on a free port, the
settings that point at it, and builders for connected employees and shareable content."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from advocacy.models import Share
from advocacy.ratelimit import rate_limit_reset
from advocacy.networks.sandbox.connect import sandbox_connect as account_connect_sandbox
from advocacy.services.sharing import ShareRequest, share_create
from content.models import Network
from organizations.models import User
from tests.content.factories import CaptionFactory, ContentFactory
from tests.fakes.social_network import FakeSocialNetwork


@pytest.fixture
def fake_network():
    network = FakeSocialNetwork().start()
    yield network
    network.stop()


@pytest.fixture(autouse=True)
def sharing_settings(settings, fake_network):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.SANDBOX_NETWORK_URL = fake_network.url
    settings.NETWORK_READ_TIMEOUT = 2
    settings.SHARE_RETRY_BASE_SECONDS = 0.2
    settings.RATE_LIMIT_KEY_PREFIX = f"test-ratelimit-{worker}"
    settings.CLICK_STREAM_KEY = f"test-clicks-{worker}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    rate_limit_reset()
    yield settings
    rate_limit_reset()


@dataclass
class Sharer:
    user: User
    content_id: int


def make_content(organization, *, link: str = "https://www.example.org/news/1", **kwargs):
    content = ContentFactory(
        organization=organization, link_url=link, kind="link" if link else "text", **kwargs
    )
    CaptionFactory(content=content, network=Network.LINKEDIN, text="Proud of our teams.")
    CaptionFactory(content=content, network=Network.X, text="Proud of our teams on X.")
    CaptionFactory(
        content=content, network=Network.FACEBOOK, text="Proud of our teams on Facebook."
    )
    return content


def connect(user: User, network: str = Network.LINKEDIN):
    return account_connect_sandbox(user=user, network=network)


def share_now(user: User, content, networks=("linkedin",), **kwargs) -> list[Share]:
    return share_create(
        user=user,
        data=ShareRequest(content_id=content.pk, networks=list(networks), captions={}, **kwargs),
    )

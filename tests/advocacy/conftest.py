"""Fixtures for the sharing tests: a fake social network per test on a free port, the
settings that point at it, and builders for connected employees and shareable content."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from advocacy.models import Share
from advocacy.networks.sandbox.connect import sandbox_connect as account_connect_sandbox
from advocacy.ratelimit import rate_limit_reset
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


# --- the real networks' adapters against loopback fakes of X and LinkedIn -------------------

X_CLIENT = ("portevoix-x-client", "portevoix-x-secret")
LINKEDIN_CLIENT = ("portevoix-linkedin-client", "portevoix-linkedin-secret")


@pytest.fixture
def fake_x(settings):
    from tests.fakes.x_api import FakeX

    fake = FakeX().start()
    fake.register_client(*X_CLIENT)
    settings.X_API_BASE_URL = fake.url
    settings.X_AUTHORIZE_URL = f"{fake.url}/i/oauth2/authorize"
    yield fake
    fake.stop()


@pytest.fixture
def fake_linkedin(settings):
    from tests.fakes.linkedin_api import FakeLinkedIn

    fake = FakeLinkedIn().start()
    fake.register_client(*LINKEDIN_CLIENT)
    settings.LINKEDIN_API_BASE_URL = fake.url
    settings.LINKEDIN_OAUTH_BASE_URL = f"{fake.url}/oauth"
    yield fake
    fake.stop()


def network_app(organization, adapter: str, **kwargs):
    """The organisation's app at X or LinkedIn, as the org admin enters it."""
    from advocacy.models import NetworkApp
    from advocacy.token_vault import token_encrypt

    client_id, secret = X_CLIENT if adapter == "x" else LINKEDIN_CLIENT
    return NetworkApp.objects.create(
        organization=organization,
        adapter=adapter,
        client_id=client_id,
        client_secret=token_encrypt(secret),
        **kwargs,
    )


def connect_real(user: User, fake, adapter: str, **token_kwargs):
    """A connected X or LinkedIn account without the browser: the fake issues a token as
    its OAuth endpoint would, and it is saved as the connect flow saves it."""
    from datetime import timedelta

    from django.utils import timezone

    from advocacy.networks.base import AccountIdentity, Credentials
    from advocacy.services.accounts import account_save

    if adapter == "x":
        handle = user.email.split("@")[0].replace(".", "_")
        answer = fake.issue_token(handle, client_id=X_CLIENT[0], **token_kwargs)
        account_id = fake.account(handle).id
        network = Network.X
    else:
        answer = fake.issue_token(
            user.email.split("@")[0], client_id=LINKEDIN_CLIENT[0], **token_kwargs
        )
        account_id = answer["sub"]
        network = Network.LINKEDIN
    return account_save(
        user=user,
        network=network,
        adapter=adapter,
        identity=AccountIdentity(external_id=account_id, display_name=user.email),
        credentials=Credentials(
            external_id=account_id,
            access_token=answer["access_token"],
            refresh_token=answer.get("refresh_token", ""),
            expires_at=timezone.now() + timedelta(seconds=int(answer["expires_in"])),
        ),
    )

"""Shared fixtures. Personas follow the house habit: an owner (org admin), a teammate in
the same organisation, and an outsider from another organisation."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from organizations.models import Organization, Role, Team, User
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory


@dataclass
class Personas:
    organization: Organization
    team: Team
    owner: User
    teammate: User
    outsider: User
    other_organization: Organization
    other_team: Team


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Code run outside a request (services, tasks) speaks English in tests, so that
    # assertions read the source strings; requests still follow each user's language.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _redis_keys_per_worker(settings):
    # Parallel test workers share one Redis database and number their organisations alike:
    # each worker keeps its leaderboard sets under its own prefix.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.LEADERBOARD_KEY_PREFIX = f"test-leaderboard-{worker}"


@pytest.fixture(autouse=True)
def _clean_cache(settings):
    # Redis (cache and lockout state) is shared by the whole run: start each test clean.
    # Only the cache's own keys: a FLUSHDB would also empty the broker queues, rate-limit
    # windows and click streams that tests running in parallel are using.
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    else:
        cache.clear()
    yield


@pytest.fixture
def personas(db) -> Personas:
    organization = OrganizationFactory(name="Acme Santé", slug="acme")
    team = TeamFactory(organization=organization, name="Communication")
    owner = UserFactory(organization=organization, role=Role.ORG_ADMIN, teams=[team])
    teammate = UserFactory(organization=organization, role=Role.EMPLOYEE, teams=[team])
    other_organization = OrganizationFactory(name="Other Corp", slug="other")
    other_team = TeamFactory(organization=other_organization, name="Secret team")
    outsider = UserFactory(organization=other_organization, role=Role.ORG_ADMIN, teams=[other_team])
    return Personas(organization, team, owner, teammate, outsider, other_organization, other_team)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def api_client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_configure(config):
    # Playwright's sync API runs an event loop in the test thread; the ORM calls made by
    # live_server fixtures from that thread are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

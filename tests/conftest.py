"""Shared fixtures. Personas follow the house habit: an owner (org admin), a teammate in
the same organisation, and an outsider from another organisation."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
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


# The moment the demo tests seed at, with the clock stopped: the demo is dated from "now"
# and some of its choices move with it (a content's age in whole days weighs what people
# share), so a second run seconds later could add shares on some days only.
DEMO_MOMENT = datetime(2026, 12, 5, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def demo_clock(time_machine) -> datetime:
    time_machine.move_to(DEMO_MOMENT, tick=False)
    return DEMO_MOMENT


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


def pytest_addoption(parser):
    parser.addoption(
        "--clock",
        default=None,
        metavar="ISO-8601",
        help=(
            "Run the whole session as if it started at this moment (the clock ticks from "
            "there), e.g. --clock=2026-12-31T23:50:00+01:00, to hunt tests that depend on "
            "today's date. Only this process and its xdist workers travel: deselect tests "
            "that start subprocesses (-m 'not e2e and not stack'), and the database's now() "
            "stays on the real clock."
        ),
    )


def pytest_configure(config):
    # Playwright's sync API runs an event loop in the test thread; the ORM calls made by
    # live_server fixtures from that thread are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    clock = config.getoption("--clock")
    if clock:
        moment = datetime.fromisoformat(clock)
        if moment.tzinfo is None:
            raise pytest.UsageError("--clock needs a moment with its UTC offset")
        # Started before the test database is created, stopped when the session ends.
        config._clock_travel = time_machine.travel(moment, tick=True)
        config._clock_travel.start()


def pytest_unconfigure(config):
    travel = getattr(config, "_clock_travel", None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config):
    clock = config.getoption("--clock")
    return f"clock: the session starts at {clock}" if clock else None

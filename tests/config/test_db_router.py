"""The read-replica router: off until DATABASE_REPLICA_URL is set; once set, the dashboard,
API and export reads go to the `replica` alias, every other read and every write to
`default`, and reads inside a transaction on the primary stay there.

The replica is a second alias on the same test database (a TEST mirror, as Django does
it), added for these tests only: a mirror is its own connection, so the data it reads must
be committed (transactional tests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from analytics.models import DailyRollup
from analytics.replica import replica_reads
from config.db_router import REPLICA, ReplicaRouter
from organizations.models import Role
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture
def replica(transactional_db, settings) -> Iterator[None]:
    # Added and connected once the test database is set up, past the test case's guard
    # (queries only to the databases it declares, checked when a connection opens).
    mirror = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    connections.settings[REPLICA] = mirror
    settings.DATABASES = {**settings.DATABASES, REPLICA: mirror}
    settings.DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    connections[REPLICA].connect()
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


def test_off_until_configured(settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    with replica_reads():
        assert ReplicaRouter().db_for_read(DailyRollup) is None


def test_the_setting_adds_the_alias_and_the_router(monkeypatch):
    """config/settings.py reads DATABASE_REPLICA_URL at import: run it with one set."""
    import importlib

    import config.settings as module

    monkeypatch.setenv("DATABASE_URL", "postgres://u@db-primary:5432/portevoix")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://u@db-replica:5432/portevoix")
    try:
        configured = importlib.reload(module)
        assert configured.DATABASES[REPLICA]["HOST"] == "db-replica"
        assert configured.DATABASES[REPLICA]["TEST"] == {"MIRROR": "default"}
        assert configured.DATABASE_ROUTERS == ["config.db_router.ReplicaRouter"]
        monkeypatch.delenv("DATABASE_REPLICA_URL")
        del module.DATABASE_ROUTERS  # a reload keeps the names it does not assign again
        plain = importlib.reload(module)
        assert REPLICA not in plain.DATABASES
        assert not getattr(plain, "DATABASE_ROUTERS", [])
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_dashboard_reads_go_to_the_replica_and_writes_to_the_primary(replica, client):
    organization = OrganizationFactory(time_zone="Europe/Paris")
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN)
    DailyRollup.objects.create(
        organization=organization,
        day=date(2026, 3, 2),
        user=admin,
        content=ContentFactory(organization=organization),
        network="linkedin",
        shares=1,
        clicks=4,
    )
    router = ReplicaRouter()
    assert router.db_for_read(DailyRollup) is None  # outside the dashboards
    with replica_reads():
        assert router.db_for_read(DailyRollup) == REPLICA
        assert router.db_for_write(DailyRollup) == "default"
        with transaction.atomic():
            assert router.db_for_read(DailyRollup) is None  # must see its own writes
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert DailyRollup.objects.filter(organization=organization).count() == 1
        assert any("analytics_dailyrollup" in q["sql"] for q in on_replica.captured_queries)

    client.force_login(admin)
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get(
            "/api/v1/analytics/summary/?period=custom&start=2026-03-01&end=2026-03-05"
        )
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["clicks"] == 4
    assert any("analytics_dailyrollup" in q["sql"] for q in on_replica.captured_queries)
    assert not any("analytics_dailyrollup" in q["sql"] for q in on_primary.captured_queries)

"""Clicks keep no raw IP address: not in the queued event (Redis), not in the database,
not in the logs. The visitor is a keyed hash of address and browser under a key derived
for each day, so a stored hash says "the same visitor" within its day only."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import RequestFactory, override_settings

from advocacy.models import Click
from advocacy.services import clicks
from advocacy.services.clicks import _visitor, clicks_drain, visitor_day_key
from tests.challenges.conftest import make_share
from tests.privacy.conftest import NOW, where_found

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture
def stream(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.CLICK_STREAM_KEY = "test-privacy-clicks"
    clicks._stream_down_until.clear()
    client = clicks._redis()
    client.delete(settings.CLICK_STREAM_KEY)
    yield client
    client.delete(settings.CLICK_STREAM_KEY)


def test_no_raw_ip_in_the_stream_the_database_or_the_logs(
    personas, clock, stream, settings, client, caplog
):
    share = make_share(personas.teammate, at=NOW - timedelta(hours=1))
    code = share.tracked_link.code
    with caplog.at_level(logging.DEBUG):
        answer = client.get(f"/s/{code}", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
        assert answer.status_code == 302
        entries = stream.xrange(settings.CLICK_STREAM_KEY)
        assert len(entries) == 1
        raw = b"".join(key + value for _id, fields in entries for key, value in fields.items())
        assert ADDRESS.encode() not in raw
        assert clicks_drain(consumer="privacy-test") == 1
    stored = Click.objects.get(share=share)
    assert ADDRESS not in stored.visitor and len(stored.visitor) == 32
    assert where_found(ADDRESS) == []
    assert ADDRESS not in caplog.text


def test_no_raw_ip_when_the_click_is_written_directly(personas, clock, settings, client):
    settings.REDIS_URL = ""
    share = make_share(personas.teammate, at=NOW - timedelta(hours=1))
    client.get(f"/s/{share.tracked_link.code}", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    assert Click.objects.filter(share=share).count() == 1
    assert where_found(ADDRESS) == []


def _request(address: str = ADDRESS):
    return RequestFactory().get("/s/x", REMOTE_ADDR=address, HTTP_USER_AGENT=BROWSER)


def test_the_visitor_hash_is_the_same_within_a_day_and_different_across_days():
    today = _visitor(_request(), "2026-12-09")
    assert _visitor(_request(), "2026-12-09") == today  # once per visitor and day
    assert _visitor(_request("198.51.100.1"), "2026-12-09") != today
    assert _visitor(_request(), "2026-12-10") != today
    assert visitor_day_key("2026-12-09") != visitor_day_key("2026-12-10")


def test_the_visitor_hash_needs_the_secret():
    with_key = _visitor(_request(), "2026-12-09")
    with override_settings(SECRET_KEY="another-secret-of-at-least-fifty-characters-0123456789"):
        assert _visitor(_request(), "2026-12-09") != with_key

"""The lean path of /s/<code> (advocacy.lean): answered right after SecurityMiddleware,
without creating or reading a session for anonymous visitors, from a per-process cache of
links, with the sharer's own click still flagged."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from advocacy.models import Click
from advocacy.services import clicks
from advocacy.services.clicks import clicks_drain
from tests.advocacy.test_clicks import (  # noqa: F401 - fixtures
    BROWSER,
    click_redis_at,
    click_redis_url,
    direct,
    expected_target,
    link_for,
    stream,
    visit,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_link_cache():
    clicks.link_cache_clear()
    yield
    clicks.link_cache_clear()


def test_the_lean_path_and_the_route_agree():
    assert reverse("tracked_link", args=["AbC-_1"]) == "/s/AbC-_1"


def test_anonymous_redirect_keeps_security_headers_and_sets_no_cookie(personas, direct):  # noqa: F811
    link = link_for(personas.teammate, personas.organization)
    response = visit(link)
    assert response.status_code == 302
    assert response["Location"] == expected_target(link)
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"] == "noindex"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Referrer-Policy" in response
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not Session.objects.exists()


def test_a_cached_link_is_served_without_a_query(
    personas,
    stream,  # noqa: F811
    django_assert_num_queries,
):
    link = link_for(personas.teammate, personas.organization)
    with django_assert_num_queries(1):
        visit(link)
    with django_assert_num_queries(0):
        response = visit(link)
    assert response["Location"] == expected_target(link)
    assert clicks_drain(consumer="a") == 2
    assert Click.objects.filter(link=link).count() == 2


def test_a_cached_link_is_looked_up_again_once_its_time_is_up(
    personas,
    stream,  # noqa: F811
    django_assert_num_queries,
):
    link = link_for(personas.teammate, personas.organization)
    visit(link)
    later = clicks.time.monotonic() + clicks.LINK_CACHE_SECONDS + 1
    with (
        mock.patch.object(clicks.time, "monotonic", return_value=later),
        django_assert_num_queries(1),
    ):
        visit(link)


def test_the_cache_stays_bounded(personas, direct, monkeypatch):  # noqa: F811
    monkeypatch.setattr(clicks, "LINK_CACHE_SIZE", 2)
    links = [link_for(personas.teammate, personas.organization) for _ in range(3)]
    for link in links:
        visit(link)
    assert list(clicks._link_cache) == [links[1].code, links[2].code]


def test_the_sharers_own_click_is_flagged_without_touching_the_session(
    personas,
    direct,  # noqa: F811
):
    link = link_for(personas.teammate, personas.organization)
    sharer = client_for(personas.teammate)
    before = Session.objects.get().expire_date
    response = visit(link, client=sharer)
    assert response.status_code == 302
    assert not response.cookies  # nothing saved, nothing renewed
    assert Session.objects.get().expire_date == before
    visit(link, client=client_for(personas.owner))
    assert sorted(Click.objects.values_list("is_self", flat=True)) == [False, True]


def test_a_session_whose_password_changed_is_not_the_sharer(personas, direct):  # noqa: F811
    link = link_for(personas.teammate, personas.organization)
    sharer = client_for(personas.teammate)
    personas.teammate.set_password("another-long-password-42")
    personas.teammate.save()
    visit(link, client=sharer)
    assert Click.objects.get().is_self is False


def test_another_signed_in_visitor_costs_the_session_read_only(
    personas,
    stream,  # noqa: F811
    django_assert_num_queries,
):
    link = link_for(personas.teammate, personas.organization)
    visit(link)  # the link is cached
    owner = client_for(personas.owner)
    # The session names someone else: the user is never loaded.
    with django_assert_num_queries(1):
        visit(link, client=owner)


def test_a_host_outside_allowed_hosts_is_refused(personas, direct):  # noqa: F811
    link = link_for(personas.teammate, personas.organization)
    response = visit(link, Host="evil.example")
    assert response.status_code == 400
    assert not Click.objects.exists()


@pytest.mark.parametrize("path", ["/s/", "/s/a/b", "/s//x"])
def test_other_paths_go_through_the_whole_stack(personas, direct, path):  # noqa: F811
    from django.test import Client

    assert Client().get(path, headers={"User-Agent": BROWSER}).status_code == 404

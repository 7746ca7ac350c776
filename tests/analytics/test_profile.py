"""An employee's own numbers on their profile page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.analytics.dashboards_data import NOW, TODAY, build_world, rollup
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def cell(html: str, days: int, measure: str) -> str:
    marker = f'data-days="{days}" data-measure="{measure}">'
    return html.split(marker, 1)[1].split("<", 1)[0].strip()


def test_the_profile_shows_my_own_numbers_over_30_and_90_days(django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        rollup(
            w.employee, w.content, TODAY, shares=1, clicks=6, reactions=2, comments=1, emv="9.00"
        )
        rollup(w.employee, w.other_content, TODAY - timedelta(days=60), shares=2, clicks=1)
        rollup(w.seller, w.content, TODAY, shares=5, clicks=50)  # someone else's
        client = client_for(w.employee)
        client.get(reverse("profile"))
        with django_assert_max_num_queries(20):
            html = client.get(reverse("profile")).content.decode()
    assert "My numbers" in html
    assert cell(html, 30, "shares") == "1" and cell(html, 90, "shares") == "3"
    assert cell(html, 30, "clicks") == "6" and cell(html, 90, "clicks") == "7"
    assert cell(html, 30, "engagement") == "3"
    assert cell(html, 90, "emv") == "9.00 EUR"


def test_a_newcomer_sees_zeros_not_an_error():
    with time_machine.travel(NOW, tick=False):
        w = build_world()
        html = client_for(w.marketer).get(reverse("profile")).content.decode()
    assert cell(html, 30, "shares") == "0" and cell(html, 90, "emv") == "0.00 EUR"

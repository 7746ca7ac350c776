"""One window for every date a person enters, with one message in both languages: a share
scheduled for 31/12/9999, a publication in year 231 or 1900 are refused the same way by
the form, the API and the service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import translation

from organizations.dates import date_error
from tests.conftest import api_client_for

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        datetime(231, 5, 1, tzinfo=UTC),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(2032, 1, 1, tzinfo=UTC),
    ],
)
def test_dates_outside_the_window_are_refused(value):
    assert date_error(value, now=NOW)


@pytest.mark.parametrize(
    "value", [datetime(2000, 1, 1, 12, tzinfo=UTC), datetime(2031, 12, 31, 12, tzinfo=UTC)]
)
def test_the_window_s_edges_are_inside(value):
    assert date_error(value, now=NOW) is None


def test_the_message_reads_well_in_french_and_english():
    with translation.override("fr"):
        french = date_error(datetime(9999, 1, 1, tzinfo=UTC), now=NOW)
    with translation.override("en"):
        english = date_error(datetime(9999, 1, 1, tzinfo=UTC), now=NOW)
    assert french == "Choisissez une date entre le 1 janvier 2000 et le 31 décembre 2031."
    assert english == "Choose a date between 1 January 2000 and 31 December 2031."


@pytest.mark.django_db
def test_the_api_refuses_a_publication_in_year_231(personas):
    with time_machine.travel(NOW, tick=False):
        response = api_client_for(personas.owner).post(
            "/api/v1/contents/",
            {
                "kind": "text",
                "title": "Old news",
                "language": "fr",
                "publish_at": "0231-05-01T10:00:00Z",
                "captions": {"linkedin": ["Hello"]},
            },
            format="json",
        )
    assert response.status_code == 400, response.content
    assert "publish_at" in response.content.decode()

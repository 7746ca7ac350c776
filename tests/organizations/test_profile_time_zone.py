"""A person's own time zone: blank means the organisation's; digests and nudges use it."""

from __future__ import annotations

import zoneinfo

import pytest

from tests.conftest import client_for


def _post(client, **extra):
    data = {"first_name": "Ana", "last_name": "Lima", "job_title": "", "language": "en"}
    data.update(extra)
    return client.post("/me/", data)


@pytest.mark.django_db
def test_zone_defaults_to_the_organisation(personas):
    personas.teammate.organization.time_zone = "America/Montreal"
    assert personas.teammate.time_zone == ""
    assert personas.teammate.zone == zoneinfo.ZoneInfo("America/Montreal")


@pytest.mark.django_db
def test_profile_sets_and_clears_the_time_zone(personas):
    client = client_for(personas.teammate)
    assert _post(client, time_zone="Asia/Tokyo").status_code == 302
    personas.teammate.refresh_from_db()
    assert personas.teammate.zone == zoneinfo.ZoneInfo("Asia/Tokyo")
    assert _post(client, time_zone="").status_code == 302
    personas.teammate.refresh_from_db()
    assert personas.teammate.time_zone == ""


@pytest.mark.django_db
def test_unknown_time_zone_is_a_form_error(personas):
    response = _post(client_for(personas.teammate), time_zone="Mars/Olympus")
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    personas.teammate.refresh_from_db()
    assert personas.teammate.time_zone == ""

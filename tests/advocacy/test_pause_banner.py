"""The crisis pause shows on every page of everyone in the organisation, with its reason,
and nowhere else."""

from __future__ import annotations

import pytest
from django.utils import timezone

from advocacy.models import SharingPause
from organizations.models import Role
from tests.conftest import client_for
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/feed/", "/me/", "/challenges/", "/notifications/"])
def test_the_pause_shows_on_every_page_with_its_reason(path):
    organization = OrganizationFactory()
    SharingPause.objects.create(
        organization=organization, paused_at=timezone.now(), reason="Crisis on the Lyon site"
    )
    employee = UserFactory(organization=organization, role=Role.EMPLOYEE, language="en")
    html = client_for(employee).get(path).content.decode()
    assert 'class="pause-banner"' in html
    assert "Sharing is paused." in html and "Crisis on the Lyon site" in html


def test_no_banner_when_running_or_paused_elsewhere():
    organization, other = OrganizationFactory(), OrganizationFactory()
    SharingPause.objects.create(organization=organization, paused_at=None)
    SharingPause.objects.create(organization=other, paused_at=timezone.now(), reason="Theirs")
    employee = UserFactory(organization=organization, role=Role.EMPLOYEE, language="en")
    html = client_for(employee).get("/feed/").content.decode()
    assert "pause-banner" not in html and "Theirs" not in html


def test_the_banner_without_a_reason_says_what_the_pause_means():
    organization = OrganizationFactory()
    SharingPause.objects.create(organization=organization, paused_at=timezone.now())
    employee = UserFactory(organization=organization, role=Role.EMPLOYEE, language="en")
    html = client_for(employee).get("/me/").content.decode()
    assert "Nothing is published until the communications team resumes sharing." in html

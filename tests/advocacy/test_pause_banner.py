"""The crisis pause shows on every page of everyone in the organisation, with its reason,
and nowhere else."""

from __future__ import annotations

import pytest
from django.utils import timezone

from advocacy.models import SharingPause
from organizations.models import Role
from tests.advocacy.conftest import make_content
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


def test_the_content_page_s_share_button_is_disabled_with_the_reason(personas):
    content = make_content(personas.organization)
    client = client_for(personas.teammate)
    running = client.get(f"/content/{content.pk}/").content.decode()
    assert f'href="/share/{content.pk}/"' in running
    SharingPause.objects.create(
        organization=personas.organization, paused_at=timezone.now(), reason="Hold every post"
    )
    paused = client.get(f"/content/{content.pk}/").content.decode()
    assert f'href="/share/{content.pk}/"' not in paused
    assert 'disabled aria-disabled="true" aria-describedby="actions-paused-' in paused
    assert "Sharing is paused:" in paused and "Hold every post" in paused

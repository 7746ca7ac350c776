"""The design system's page: every component, for anyone signed in, in both languages."""

from __future__ import annotations

import pytest

from organizations.models import Role
from tests.conftest import client_for
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_design_page_shows_every_component():
    employee = UserFactory(organization=OrganizationFactory(), role=Role.EMPLOYEE, language="en")
    response = client_for(employee).get("/design/")
    assert response.status_code == 200
    html = response.content.decode()
    for marker in (
        'class="badge badge-ok"',
        'class="messages"',
        'class="pause-banner"',
        'class="table-wrap"',
        'class="empty-state"',
        'class="pagination"',
        'aria-invalid="true"',  # a field shown in error
        'class="stat-value"',
    ):
        assert marker in html, marker


def test_the_design_page_needs_a_sign_in(client):
    response = client.get("/design/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_phone_bar_marks_where_the_person_is():
    employee = UserFactory(organization=OrganizationFactory(), role=Role.EMPLOYEE, language="en")
    html = client_for(employee).get("/me/").content.decode()
    bar = html[html.index('class="bottomnav"') :]
    assert 'href="/me/" aria-current="page"' in bar
    assert 'href="/feed/" aria-current' not in bar

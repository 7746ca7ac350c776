"""The Django admin signs people in through allauth's login, second factor included:
its own password-only form no longer signs anybody in."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from organizations.models import Role
from tests.factories import PASSWORD, UserFactory
from tests.twofactor.conftest import totp_code

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def superuser(tenant):
    person = UserFactory(
        organization=tenant.organization, role=Role.ORG_ADMIN, is_staff=True, is_superuser=True
    )
    TOTP.activate(person, SECRET)
    return person


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_form_does_not_sign_in_with_a_password_alone(superuser, clock):
    client = Client()
    answer = client.post(
        "/django-admin/login/",
        {"username": superuser.email, "password": PASSWORD, "next": "/django-admin/"},
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")
    assert not _signed_in(client)
    assert client.get("/django-admin/")["Location"].startswith("/django-admin/login/")


def test_the_admin_is_reached_through_the_second_factor(superuser, clock):
    client = Client()
    start = client.get("/django-admin/login/?next=/django-admin/")
    assert start["Location"].startswith("/accounts/login/")
    step = client.post("/accounts/login/", {"login": superuser.email, "password": PASSWORD})
    assert step["Location"].startswith("/accounts/2fa/authenticate/")
    assert not _signed_in(client)
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(SECRET)})
    assert _signed_in(client)
    assert client.get("/django-admin/").status_code == 200

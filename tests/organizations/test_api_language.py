"""API answers speak the caller's language: token clients get their account's language
unless they send Accept-Language."""

from __future__ import annotations

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from organizations.models import Role
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "header", "expected"),
    [
        ("en", None, "Not found."),
        ("fr", None, "Non trouvé."),
        ("fr", "en", "Not found."),
    ],
)
def test_token_clients_get_their_language(language, header, expected):
    user = UserFactory(organization=OrganizationFactory(), role=Role.EMPLOYEE, language=language)
    client = APIClient()
    _instance, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    response = client.get("/api/v1/shares/999999/", **extra)
    assert response.status_code == 404
    assert response.json()["detail"] == expected

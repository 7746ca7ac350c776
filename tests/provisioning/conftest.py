"""Builders for the SCIM tests. The clock: Tuesday 8 December 2026, 09:00 UTC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from organizations.models import Organization, Role, User
from provisioning.models import ScimToken
from provisioning.services import scim_token_create
from tests.factories import OrganizationFactory, UserFactory

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
SCIM_JSON = "application/scim+json"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@dataclass
class Tenant:
    organization: Organization
    admin: User
    token: ScimToken
    raw: str

    def client(self) -> ScimClient:
        return ScimClient(self.raw)


class ScimClient:
    """Django's test client speaking SCIM with a bearer token."""

    def __init__(self, raw: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"} if raw else {}

    def _send(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        send = getattr(self.client, method)
        kwargs: dict[str, Any] = {"headers": {**self.headers, **extra.pop("headers", {})}}
        if data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = extra.pop("content_type", SCIM_JSON)
        return send(f"/scim/v2{path}", **kwargs, **extra)

    def get(self, path: str, **extra: Any) -> Any:
        return self._send("get", path, **extra)

    def post(self, path: str, body: Any, **extra: Any) -> Any:
        return self._send("post", path, body, **extra)

    def put(self, path: str, body: Any, **extra: Any) -> Any:
        return self._send("put", path, body, **extra)

    def patch(self, path: str, body: Any, **extra: Any) -> Any:
        return self._send("patch", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._send("delete", path, **extra)


def make_tenant(name: str, slug: str) -> Tenant:
    organization = OrganizationFactory(name=name, slug=slug, default_language="fr")
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN)
    token, raw = scim_token_create(actor=admin, name="Entra ID")
    return Tenant(organization, admin, token, raw)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("Acme Santé", "acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("Other Corp", "other")


def new_user(**fields: Any) -> dict[str, Any]:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Claire.Martin@Acme.test",
        "name": {"givenName": "Claire", "familyName": "Martin"},
        "emails": [{"value": "claire.martin@acme.test", "type": "work", "primary": True}],
        "active": True,
        "externalId": "entra-0001",
        "preferredLanguage": "en",
        "title": "Pharmacist",
    }
    body.update(fields)
    return body


def scim_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(SCIM_JSON)
    body = json.loads(response.content)
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    return body

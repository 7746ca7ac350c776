"""The org admin's SCIM page: who reaches it, the token shown once, revoking, the setup
values, the mapping and the last provisioning events."""

from __future__ import annotations

import hashlib
import re

import pytest

from organizations.models import AuditLogEntry, Role
from provisioning.models import ScimToken
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.provisioning.conftest import new_user

pytestmark = pytest.mark.django_db


def test_only_org_admins_reach_the_page(tenant, client):
    assert client.get("/admin/scim/").status_code == 302
    employee = UserFactory(organization=tenant.organization, role=Role.EMPLOYEE)
    assert client_for(employee).get("/admin/scim/").status_code == 404
    manager = UserFactory(organization=tenant.organization, role=Role.MANAGER)
    assert client_for(manager).get("/admin/scim/").status_code == 404
    assert client_for(tenant.admin).get("/admin/scim/").status_code == 200


def test_the_page_shows_what_to_configure(tenant):
    html = client_for(tenant.admin).get("/admin/scim/").content.decode()
    assert "http://testserver/scim/v2/" in html
    assert "Authorization: Bearer pvscim_…" in html
    assert "<code>userName</code>" in html and "<code>members</code>" in html
    assert "Entra ID" in html and f"{tenant.token.prefix}…" in html


def test_empty_states(db):
    admin = UserFactory(role=Role.ORG_ADMIN)
    html = client_for(admin).get("/admin/scim/").content.decode()
    assert "No token yet" in html
    assert "Nothing provisioned yet" in html


def test_a_new_token_is_shown_once_and_only_its_digest_is_kept(tenant):
    client = client_for(tenant.admin)
    html = client.post("/admin/scim/", {"name": "Okta"}).content.decode()
    raw = re.search(r"data-scim-secret>(pvscim_[A-Za-z0-9_-]+)<", html).group(1)
    token = ScimToken.objects.get(name="Okta")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and raw not in (token.prefix, token.digest)
    assert token.created_by == tenant.admin and token.organization == tenant.organization
    again = client.get("/admin/scim/").content.decode()
    assert raw not in again and f"{token.prefix}…" in again
    entry = AuditLogEntry.objects.get(action="scim.token_created", target_id=str(token.pk))
    assert entry.actor == tenant.admin and raw not in str(entry.details)
    # The new token works.
    from tests.provisioning.conftest import ScimClient

    assert ScimClient(raw).get("/Users").status_code == 200


def test_a_token_needs_a_name(tenant):
    html = client_for(tenant.admin).post("/admin/scim/", {"name": "  "}).content.decode()
    assert "This field is required." in html
    assert ScimToken.objects.count() == 1


def test_revoking_a_token(tenant, other_tenant):
    client = client_for(tenant.admin)
    page = client.post("/admin/scim/", {"revoke": tenant.token.pk}, follow=True)
    assert "The token is revoked" in page.content.decode()
    tenant.token.refresh_from_db()
    assert tenant.token.revoked_at is not None and tenant.token.revoked_by == tenant.admin
    assert AuditLogEntry.objects.filter(action="scim.token_revoked").count() == 1
    assert "Revoked on" in client.get("/admin/scim/").content.decode()
    # Another organisation's token is not ours to revoke, nor to see.
    assert client.post("/admin/scim/", {"revoke": other_tenant.token.pk}).status_code == 404
    assert client.post("/admin/scim/", {"revoke": "abc"}).status_code == 404
    other_tenant.token.refresh_from_db()
    assert other_tenant.token.revoked_at is None
    assert "Other Corp" not in client.get("/admin/scim/").content.decode()


def test_the_last_provisioning_events_are_listed(tenant, other_tenant):
    tenant.client().post("/Users", new_user())
    other_tenant.client().post("/Users", new_user(userName="secret@other.test"))
    html = client_for(tenant.admin).get("/admin/scim/").content.decode()
    assert f"The SCIM token {tenant.token.prefix}… created the account of Claire Martin" in html
    assert "secret@other.test" not in html
    assert 'data-action="scim.token_created"' in html

"""scim2-tester, the RFC 7643/7644 compliance checker, against the app served on a free
port (pytest-django's live_server), as an identity provider would reach it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests.provisioning.conftest import make_tenant


class FreshEmails(Sequence[str]):
    """The checker fills userName with random text; ours is an email address (a rule a
    SCIM schema cannot state). As the field's `examples`, this gives the checker a new
    address each time it picks one."""

    def __len__(self) -> int:
        return 1_000_000

    def __getitem__(self, index):  # type: ignore[override]
        return f"{uuid.uuid4().hex[:12]}@checker.example"


def _describe_constraints(client: SyncSCIMClient) -> None:
    user = client.get_resource_model("User")
    assert user is not None
    user.model_fields["user_name"].examples = FreshEmails()  # type: ignore[assignment]
    user.model_fields["preferred_language"].examples = ["fr", "en"]


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_passes_every_check(live_server):
    tenant = make_tenant("Acme Santé", "acme")
    # Closed at the end: a kept-alive connection would hold a server thread (and its
    # database connection) past the test.
    with httpx2.Client(
        base_url=f"{live_server.url}/scim/v2",
        headers={"Authorization": f"Bearer {tenant.raw}"},
        timeout=30,
    ) as http:
        client = SyncSCIMClient(http)
        client.discover()
        _describe_constraints(client)
        results = check_server(client)
    failed = [
        f"{r.resource_type} {r.title}: {r.status.name} {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE)
    ]
    assert failed == []
    # Every resource type went through every kind of check (a check that did not run
    # cannot have passed).
    for resource_type in ("User", "Group"):
        titles = {r.title for r in results if r.resource_type == resource_type}
        assert {
            "object_creation",
            "object_query",
            "object_list_with_attributes",
            "search_with_attributes",
            "object_replacement",
            "object_deletion",
            "check_add_attribute",
            "check_remove_attribute",
            "check_replace_attribute",
        } <= titles, titles
    discovery = {r.title for r in results if r.resource_type is None}
    assert {"service_provider_config_endpoint", "query_all_schemas", "random_url"} <= discovery

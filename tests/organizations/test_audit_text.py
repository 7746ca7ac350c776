"""The audit page in sentences: registered keys from every app, a readable fallback for
unknown keys, names instead of ids and addresses, and a query count that does not grow
with the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from organizations.audit import audit_record
from organizations.audit_text import audit_rows
from organizations.models import AuditLogEntry
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claire(personas):
    personas.owner.first_name, personas.owner.last_name = "Claire", "Martin"
    personas.owner.save()
    return personas.owner


def _rows(organization):
    with translation.override("en"):
        return audit_rows(AuditLogEntry.objects.filter(organization=organization))


def test_registered_actions_read_as_sentences(personas, claire):
    paul = UserFactory(organization=personas.organization, first_name="Paul", last_name="Roy")
    org = personas.organization
    audit_record(
        action="sharing.paused",
        organization=org,
        actor=claire,
        details={"reason": "crisis on the Lyon site."},
    )
    audit_record(action="auth.login", organization=org, actor=paul)
    audit_record(
        action="share.created",
        organization=org,
        actor=paul,
        target=personas.team,
        details={"shares": [378, 379], "networks": ["linkedin", "x"], "when": "now"},
    )
    audit_record(
        action="team.updated",
        organization=org,
        actor=claire,
        target=personas.team,
        details={"managers": [paul.email]},
    )
    audit_record(action="content.withdrawn", organization=org, actor=claire, target=personas.team)
    sentences = {row.entry.action: row for row in _rows(org)}
    assert sentences["sharing.paused"].sentence == (
        "Claire Martin paused sharing: crisis on the Lyon site"
    )
    assert sentences["auth.login"].sentence == "Paul Roy signed in."
    shared = sentences["share.created"]
    assert shared.sentence == "Paul Roy shared “Communication” 2 times, on LinkedIn, X."
    assert ("Shares", "2") in shared.details and ("Networks", "LinkedIn, X") in shared.details
    assert ("Managers", "Paul Roy") in sentences["team.updated"].details
    assert sentences["content.withdrawn"].sentence == "Claire Martin withdrew “Communication”."


def test_unknown_keys_and_odd_details_never_show_the_key(personas, claire):
    org = personas.organization
    audit_record(
        action="plugin.frobnicated",
        organization=org,
        actor=claire,
        target=personas.team,
        details={"some_flag": True},
    )
    # Details from an older version of the code: missing keys, wrong types.
    audit_record(action="user.role_changed", organization=org, actor=claire, details={})
    audit_record(action="share.created", organization=org, details={"shares": "oops"})
    rows = {row.entry.action: row for row in _rows(org)}
    generic = rows["plugin.frobnicated"]
    assert generic.sentence == "Claire Martin made a change to “Communication”."
    assert ("Some flag", "yes") in generic.details
    for row in rows.values():
        assert row.entry.action not in row.sentence
    assert rows["share.created"].sentence.startswith("The system shared")


def test_the_page_shows_sentences_in_french_with_filters(personas, claire):
    claire.language = "fr"
    claire.save()
    audit_record(action="auth.login", organization=personas.organization, actor=claire)
    audit_record(action="team.created", organization=personas.organization, actor=claire)
    client = client_for(claire)
    body = client.get(reverse("org_admin_audit")).content.decode()
    assert "<code>auth.login</code>" not in body
    with translation.override("fr"):
        sentence = gettext("%(actor)s signed in.") % {"actor": "Claire Martin"}
    assert sentence != "Claire Martin signed in.", "the French catalogue is compiled"
    assert escape(sentence) in body
    filtered = client.get(reverse("org_admin_audit"), {"action": "team"}).content.decode()
    assert 'data-action="team.created"' in filtered
    assert 'data-action="auth.login"' not in filtered


def test_query_count_does_not_grow_with_the_page(personas, claire):
    org = personas.organization
    client = client_for(claire)
    url = reverse("org_admin_audit")

    def add(n: int) -> None:
        for i in range(n):
            person = UserFactory(organization=org)
            audit_record(action="auth.login", organization=org, actor=person)
            audit_record(
                action="team.updated",
                organization=org,
                actor=person,
                target=personas.team,
                details={"managers": [claire.email, f"gone{i}@example.test"]},
            )
            audit_record(action="unknown.thing", organization=org, actor=person)

    add(1)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(7)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    # Names come from one query for everybody on the page.
    people_queries = [q for q in many.captured_queries if 'FROM "organizations_user"' in q["sql"]]
    assert len(people_queries) <= 3  # the session's user, the page's people, the org admin check

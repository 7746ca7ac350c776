"""The SCIM endpoints through Django's test client: authentication, the mapping of Users
and Groups, filtering, pagination, PATCH and PUT, errors, and the wall between
organisations."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.core import mail

from organizations.models import AuditLogEntry, Role, Team, User
from provisioning.models import ScimToken
from provisioning.services import scim_token_revoke
from tests.factories import TeamFactory, UserFactory
from tests.provisioning.conftest import SCIM_JSON, ScimClient, new_user, scim_error

pytestmark = pytest.mark.django_db

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def body(response) -> dict:
    assert response["Content-Type"].startswith(SCIM_JSON), response["Content-Type"]
    return json.loads(response.content)


def patch(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def created_user(client: ScimClient, **fields) -> dict:
    response = client.post("/Users", new_user(**fields))
    assert response.status_code == 201, response.content
    return body(response)


def filtered(client: ScimClient, path: str, expression: str) -> dict:
    response = client.get(f"{path}?filter={quote(expression)}")
    assert response.status_code == 200, response.content
    return body(response)


# --- Authentication ---------------------------------------------------------------------


def test_no_token_wrong_token_or_revoked_token_is_a_scim_401(tenant):
    scim_error(ScimClient(None).get("/Users"), 401)
    scim_error(ScimClient("pvscim_not-a-real-token").get("/Users"), 401)
    scim_error(ScimClient(tenant.raw[:-1] + "x").get("/Users"), 401)
    scim_token_revoke(actor=tenant.admin, token=tenant.token)
    response = tenant.client().get("/Users")
    scim_error(response, 401)
    assert "Bearer" in response["WWW-Authenticate"]


def test_a_session_does_not_open_the_scim_api(tenant):
    from tests.conftest import client_for

    response = client_for(tenant.admin).get("/scim/v2/Users")
    scim_error(response, 401)


def test_the_token_records_when_it_was_last_used(tenant, clock):
    assert tenant.token.last_used_at is None
    tenant.client().get("/Users")
    tenant.token.refresh_from_db()
    assert tenant.token.last_used_at is not None


def test_discovery_endpoints(tenant):
    client = tenant.client()
    config = body(ScimClient(None).get("/ServiceProviderConfig"))
    assert config["patch"]["supported"] is True
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"]["supported"] is False
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = body(client.get("/ResourceTypes"))
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    schemas = body(client.get("/Schemas"))
    user_schema = next(s for s in schemas["Resources"] if s["name"] == "User")
    names = {a["name"] for a in user_schema["attributes"]}
    # Only what Portevoix stores is published.
    assert names == {
        "userName",
        "name",
        "displayName",
        "title",
        "preferredLanguage",
        "active",
        "emails",
        "groups",
    }


# --- Users ------------------------------------------------------------------------------


def test_creating_a_user_maps_every_attribute_and_sends_no_email(tenant, clock):
    resource = created_user(tenant.client())
    user = User.objects.get(pk=int(resource["id"]))
    assert user.email == "claire.martin@acme.test"  # lowercased
    assert (user.first_name, user.last_name) == ("Claire", "Martin")
    assert (user.job_title, user.language, user.external_id) == ("Pharmacist", "en", "entra-0001")
    assert user.organization == tenant.organization
    assert user.role == Role.EMPLOYEE and user.is_active
    assert not user.has_usable_password()
    assert mail.outbox == []
    assert resource["userName"] == "claire.martin@acme.test"
    assert resource["emails"] == [
        {"value": "claire.martin@acme.test", "type": "work", "primary": True}
    ]
    assert resource["meta"]["location"].endswith(f"/scim/v2/Users/{user.pk}")
    entry = AuditLogEntry.objects.get(action="scim.user_created")
    assert entry.organization == tenant.organization
    assert entry.target_id == str(user.pk)
    assert entry.details["token"] == tenant.token.prefix


def test_a_user_without_language_gets_the_organisation_s(tenant):
    resource = created_user(tenant.client(), preferredLanguage=None)
    assert User.objects.get(pk=int(resource["id"])).language == "fr"
    assert "preferredLanguage" not in resource


def test_an_email_of_another_organisation_is_a_409_that_names_nobody(tenant, other_tenant):
    UserFactory(organization=other_tenant.organization, email="claire.martin@acme.test")
    error = scim_error(tenant.client().post("/Users", new_user()), 409)
    assert error["scimType"] == "uniqueness"
    assert "Other Corp" not in error["detail"]
    assert User.objects.filter(email="claire.martin@acme.test").count() == 1


def test_a_duplicate_user_or_external_id_is_a_409(tenant):
    client = tenant.client()
    created_user(client)
    scim_error(client.post("/Users", new_user(userName="CLAIRE.martin@acme.test")), 409)
    scim_error(client.post("/Users", new_user(userName="other@acme.test")), 409)  # externalId
    assert User.objects.filter(organization=tenant.organization).count() == 2  # admin + Claire


@pytest.mark.parametrize(
    ("fields", "scim_type"),
    [
        ({"userName": "not an email"}, "invalidValue"),
        ({"preferredLanguage": "de"}, "invalidValue"),
        ({"title": "x" * 151}, "invalidValue"),
        ({"userName": None}, "invalidValue"),
    ],
)
def test_bad_values_are_a_400_and_write_nothing(tenant, fields, scim_type):
    error = scim_error(tenant.client().post("/Users", new_user(**fields)), 400)
    assert error["scimType"] == scim_type
    assert not User.objects.filter(organization=tenant.organization, role=Role.EMPLOYEE).exists()
    assert not AuditLogEntry.objects.filter(action="scim.user_created").exists()


def test_filters_and_pagination(tenant):
    client = tenant.client()
    for n in range(5):
        created_user(
            client,
            userName=f"person{n}@acme.test",
            externalId=f"ext-{n}",
            name={"givenName": f"Given{n}", "familyName": "Family"},
        )
    found = filtered(client, "/Users", 'userName eq "PERSON3@acme.test"')
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "person3@acme.test"
    found = filtered(client, "/Users", 'externalId eq "ext-4"')
    assert [r["userName"] for r in found["Resources"]] == ["person4@acme.test"]
    found = filtered(client, "/Users", 'name.givenName sw "Given" and externalId ne "ext-0"')
    assert found["totalResults"] == 4
    assert filtered(client, "/Users", 'userName eq "nobody@acme.test"')["totalResults"] == 0

    page = body(client.get("/Users?startIndex=2&count=2"))
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 2, 2)
    everyone = body(client.get("/Users"))["Resources"]
    assert [r["id"] for r in page["Resources"]] == [r["id"] for r in everyone[1:3]]
    assert body(client.get("/Users?count=0"))["totalResults"] == 6


def test_listing_users_does_not_grow_with_their_number(tenant, django_assert_max_num_queries):
    client = tenant.client()
    team = TeamFactory(organization=tenant.organization)
    for _n in range(3):
        UserFactory(organization=tenant.organization, teams=[team])
    with django_assert_max_num_queries(12) as small:
        client.get("/Users")
    for _n in range(12):
        UserFactory(organization=tenant.organization, teams=[team])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/Users")
    assert body(response)["totalResults"] == 16


def test_listing_groups_does_not_grow_with_their_number(tenant, django_assert_max_num_queries):
    client = tenant.client()
    people = [UserFactory(organization=tenant.organization) for _n in range(3)]
    TeamFactory(organization=tenant.organization).members.set(people)
    with django_assert_max_num_queries(12) as small:
        client.get("/Groups")
    for _n in range(8):
        TeamFactory(organization=tenant.organization).members.set(people)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/Groups")
    assert body(response)["totalResults"] == 9
    assert len(body(response)["Resources"][0]["members"]) == 3


def test_patch_replaces_attributes(tenant):
    client = tenant.client()
    resource = created_user(client)
    response = client.patch(
        f"/Users/{resource['id']}",
        patch(
            {"op": "replace", "path": "name.familyName", "value": "Durand"},
            {"op": "replace", "value": {"title": "Head pharmacist", "preferredLanguage": "fr"}},
        ),
    )
    assert response.status_code in (200, 204), response.content
    user = User.objects.get(pk=int(resource["id"]))
    assert (user.last_name, user.job_title, user.language) == ("Durand", "Head pharmacist", "fr")
    entry = AuditLogEntry.objects.filter(action="scim.user_updated").latest("id")
    assert entry.details["changed"] == ["job_title", "language", "last_name"]


def test_put_replaces_the_user(tenant):
    client = tenant.client()
    resource = created_user(client)
    replacement = new_user(
        userName="claire.durand@acme.test",
        name={"givenName": "Claire", "familyName": "Durand"},
        title=None,
        externalId="entra-0001",
    )
    response = client.put(f"/Users/{resource['id']}", replacement)
    assert response.status_code == 200, response.content
    user = User.objects.get(pk=int(resource["id"]))
    assert (user.email, user.last_name, user.job_title) == ("claire.durand@acme.test", "Durand", "")
    assert body(response)["userName"] == "claire.durand@acme.test"


def test_groups_are_read_only_on_the_user(tenant):
    client = tenant.client()
    resource = created_user(client)
    team = TeamFactory(organization=tenant.organization, name="Pharmacie")
    User.objects.get(pk=int(resource["id"])).teams.add(team)
    response = client.patch(
        f"/Users/{resource['id']}",
        patch({"op": "add", "path": "groups", "value": [{"value": "999"}]}),
    )
    scim_error(response, 400)
    shown = body(client.get(f"/Users/{resource['id']}"))
    assert shown["groups"] == [
        {
            "value": str(team.pk),
            "$ref": f"http://testserver/scim/v2/Groups/{team.pk}",
            "display": "Pharmacie",
            "type": "direct",
        }
    ]


def test_active_false_deactivates_and_active_true_reactivates(tenant):
    client = tenant.client()
    resource = created_user(client)
    path = f"/Users/{resource['id']}"
    client.patch(path, patch({"op": "replace", "path": "active", "value": False}))
    user = User.objects.get(pk=int(resource["id"]))
    assert not user.is_active
    assert AuditLogEntry.objects.filter(
        action="person.deprovisioned", target_id=str(user.pk)
    ).exists()
    assert body(client.get(path))["active"] is False
    client.put(path, new_user(active=True))
    user.refresh_from_db()
    assert user.is_active
    assert AuditLogEntry.objects.filter(
        action="person.reactivated", target_id=str(user.pk)
    ).exists()


def test_delete_keeps_the_person_deactivated_and_gone_for_scim(tenant):
    client = tenant.client()
    resource = created_user(client)
    path = f"/Users/{resource['id']}"
    response = client.delete(path)
    assert response.status_code == 204
    scim_error(client.get(path), 404)
    scim_error(client.delete(path), 404)
    scim_error(client.patch(path, patch({"op": "replace", "path": "active", "value": True})), 404)
    assert filtered(client, "/Users", 'userName eq "claire.martin@acme.test"')["totalResults"] == 0
    user = User.objects.get(pk=int(resource["id"]))
    assert not user.is_active and user.email == "claire.martin@acme.test"
    assert AuditLogEntry.objects.filter(action="scim.user_deleted", target_id=str(user.pk)).exists()
    # Created again by the identity provider: the same account comes back.
    again = created_user(client)
    assert again["id"] == resource["id"]
    user.refresh_from_db()
    assert user.is_active


# --- Groups -----------------------------------------------------------------------------


def test_groups_are_teams(tenant):
    client = tenant.client()
    claire = created_user(client)
    paul = created_user(client, userName="paul@acme.test", externalId="entra-0002")
    response = client.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "Pharmacovigilance",
            "externalId": "grp-1",
            "members": [{"value": claire["id"]}],
        },
    )
    assert response.status_code == 201, response.content
    group = body(response)
    team = Team.objects.get(pk=int(group["id"]))
    assert (team.name, team.parent, team.external_id) == ("Pharmacovigilance", None, "grp-1")
    assert team.organization == tenant.organization
    assert list(team.members.values_list("pk", flat=True)) == [int(claire["id"])]

    path = f"/Groups/{group['id']}"
    client.patch(
        path,
        patch(
            {"op": "add", "path": "members", "value": [{"value": paul["id"]}]},
            {"op": "remove", "path": f'members[value eq "{claire["id"]}"]'},
        ),
    )
    assert list(team.members.values_list("pk", flat=True)) == [int(paul["id"])]
    assert filtered(client, "/Groups", 'displayName eq "pharmacovigilance"')["totalResults"] == 1
    assert filtered(client, "/Groups", 'externalId eq "grp-1"')["totalResults"] == 1

    client.patch(path, patch({"op": "replace", "path": "displayName", "value": "PV"}))
    team.refresh_from_db()
    assert team.name == "PV"

    assert client.delete(path).status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()
    assert User.objects.filter(pk=int(paul["id"]), is_active=True).exists()
    assert [e.action for e in AuditLogEntry.objects.filter(action__startswith="scim.group")] == [
        "scim.group_deleted",
        "scim.group_updated",
        "scim.group_updated",
        "scim.group_created",
    ]


def test_a_group_name_taken_at_the_root_is_a_409(tenant):
    TeamFactory(organization=tenant.organization, name="Sales")
    response = tenant.client().post("/Groups", {"schemas": [GROUP], "displayName": "Sales"})
    assert scim_error(response, 409)["scimType"] == "uniqueness"


def test_a_team_with_sub_teams_is_not_deleted(tenant):
    parent = TeamFactory(organization=tenant.organization, name="Sales")
    TeamFactory(organization=tenant.organization, name="Sales West", parent=parent)
    scim_error(tenant.client().delete(f"/Groups/{parent.pk}"), 409)
    assert Team.objects.filter(pk=parent.pk).exists()


# --- Errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("post", "/Users", "{not json", 400),
        ("post", "/Users", "[]", 400),
        ("post", "/Users", b"\xff\xfe", 400),
        ("get", "/Users?filter=" + quote('userName eq "x" and ('), None, 400),
        ("get", "/Users?filter=" + quote("nickName eq 1"), None, 400),
        ("get", "/Users?startIndex=abc", None, 400),
        ("get", "/Users/abc", None, 404),
        ("get", "/Users/99999999999999999999999", None, 404),
        ("get", "/Nothing", None, 404),
        ("patch", "/Users/1", {"schemas": [PATCH_OP], "Operations": [{"op": "jump"}]}, 400),
        ("put", "/ServiceProviderConfig", {}, 405),
    ],
)
def test_bad_requests_answer_scim_errors_never_pages(tenant, method, path, payload, status):
    client = tenant.client()
    created_user(client)
    send = getattr(client, method)
    response = send(path, payload) if payload is not None else send(path)
    scim_error(response, status)


def test_a_json_body_of_the_wrong_media_type_is_refused_cleanly(tenant):
    response = tenant.client().post("/Users", "userName=x", content_type="text/plain")
    assert response.status_code in (400, 415)
    scim_error(response, response.status_code)


# --- Organisations ----------------------------------------------------------------------


def test_a_token_never_sees_or_changes_another_organisation(tenant, other_tenant):
    theirs = created_user(other_tenant.client(), userName="secret@other.test")
    their_team = TeamFactory(organization=other_tenant.organization, name="Secret team")
    client = tenant.client()
    ours = created_user(client)

    listed = body(client.get("/Users"))
    assert theirs["id"] not in [r["id"] for r in listed["Resources"]]
    assert filtered(client, "/Users", 'userName eq "secret@other.test"')["totalResults"] == 0
    assert str(their_team.pk) not in [r["id"] for r in body(client.get("/Groups"))["Resources"]]
    everything = body(
        client.post(
            "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
        )
    )
    assert theirs["id"] not in [r["id"] for r in everything["Resources"] if "userName" in r]

    scim_error(client.get(f"/Users/{theirs['id']}"), 404)
    scim_error(client.put(f"/Users/{theirs['id']}", new_user(userName="x@acme.test")), 404)
    scim_error(
        client.patch(
            f"/Users/{theirs['id']}", patch({"op": "replace", "path": "active", "value": False})
        ),
        404,
    )
    scim_error(client.delete(f"/Users/{theirs['id']}"), 404)
    scim_error(client.delete(f"/Groups/{their_team.pk}"), 404)
    # Their person cannot be put in our team.
    response = client.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Mixed", "members": [{"value": theirs["id"]}]},
    )
    scim_error(response, 400)
    assert not Team.objects.filter(name="Mixed").exists()

    user = User.objects.get(pk=int(theirs["id"]))
    assert user.is_active and user.organization == other_tenant.organization
    assert ours["id"] != theirs["id"]
    assert ScimToken.objects.filter(organization=other_tenant.organization).count() == 1


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
def test_deprovisioning_through_scim_ends_sessions_tokens_and_waiting_shares(tenant, how):
    from knox.models import AuthToken

    from advocacy.models import Share, ShareStatus
    from organizations.services import api_token_issue
    from tests.conftest import client_for
    from tests.provisioning.test_deprovision import _share

    client = tenant.client()
    resource = created_user(client)
    user = User.objects.get(pk=int(resource["id"]))
    user.set_password("a-long-enough-password-1")
    user.save()
    browser = client_for(user)
    assert browser.get("/feed/").status_code == 200
    api_token_issue(user=user)
    scheduled = _share(user, ShareStatus.SCHEDULED)
    published = _share(user, ShareStatus.PUBLISHED)

    path = f"/Users/{resource['id']}"
    if how == "patch":
        response = client.patch(path, patch({"op": "replace", "value": {"active": False}}))
    elif how == "put":
        response = client.put(path, new_user(active=False))
    else:
        response = client.delete(path)
    assert response.status_code in (200, 204), response.content

    user.refresh_from_db()
    assert not user.is_active
    assert browser.get("/feed/").status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()
    assert Share.objects.get(pk=scheduled.pk).status == ShareStatus.CANCELLED
    assert Share.objects.get(pk=published.pk).status == ShareStatus.PUBLISHED
    entry = AuditLogEntry.objects.get(action="person.deprovisioned", target_id=str(user.pk))
    assert entry.details["reason"] == f"scim:{tenant.token.prefix}"
    assert entry.details["sessions"] == 1 and entry.details["api_tokens"] == 1


def test_a_provisioned_person_sets_a_password_with_forgot_password(tenant):
    from django.test import Client

    created_user(tenant.client())
    assert mail.outbox == []
    response = Client().post(
        "/accounts/password/reset/", {"email": "claire.martin@acme.test"}, follow=True
    )
    assert response.status_code == 200
    assert [message.to for message in mail.outbox] == [["claire.martin@acme.test"]]


def test_entra_id_style_patch_and_refused_unmapped_attributes(tenant):
    """Entra ID writes the operation with a capital and booleans as strings; an attribute
    Portevoix does not store is refused whole, so that nothing is silently dropped."""
    client = tenant.client()
    path = f"/Users/{created_user(client)['id']}"
    response = client.patch(path, patch({"op": "Replace", "path": "active", "value": "False"}))
    assert response.status_code in (200, 204), response.content
    assert not User.objects.get(email="claire.martin@acme.test").is_active
    error = scim_error(
        client.patch(
            path,
            patch(
                {"op": "Replace", "path": "title", "value": "Chief"},
                {"op": "Add", "path": 'emails[type eq "work"].value', "value": "a@acme.test"},
            ),
        ),
        400,
    )
    assert error["scimType"] == "mutability"
    assert User.objects.get(email="claire.martin@acme.test").job_title == "Pharmacist"

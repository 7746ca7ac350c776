"""OpenID Connect sign-in against node-oidc-provider on loopback: just-in-time accounts,
the matching rules, and a state, nonce or PKCE that does not hold refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from advocacy.token_vault import token_decrypt
from organizations.models import AuditLogEntry, Role, User
from sso import services
from sso.models import SsoConnection
from tests.factories import TeamFactory, UserFactory
from tests.sso.conftest import (
    OIDC_CALLBACK,
    followed_text,
    oidc_sign_in,
    oidc_start,
    signed_in_user_id,
)
from tests.sso.idps import OIDC_CLIENT_SECRET

pytestmark = pytest.mark.django_db


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_first_sign_in_creates_the_person_with_the_mapped_team_and_role(acme_oidc):
    team = TeamFactory(organization=acme_oidc.organization, name="Pharmacovigilance")
    services.mapping_save(
        actor=acme_oidc.admin,
        values={
            "attr_email": "",
            "attr_first_name": "",
            "attr_last_name": "",
            "attr_language": "",
            "attr_team": "department",
            "team_match": "name",
            "create_unknown_teams": False,
            "attr_groups": "groups",
        },
        group_roles={"comms-team": Role.EDITOR},
    )
    client = Client()
    response = oidc_sign_in(client, "claire.martin@acme.test", "claire")

    assert response.status_code == 302 and response["Location"] == "/"
    claire = User.objects.get(email="claire.martin@acme.test")
    assert signed_in_user_id(client) == claire.pk
    assert claire.organization == acme_oidc.organization
    assert (claire.first_name, claire.last_name, claire.language) == ("Claire", "Martin", "en")
    assert claire.role == Role.EDITOR
    assert list(claire.teams.all()) == [team]
    assert not claire.has_usable_password()
    entry = AuditLogEntry.objects.get(action="sso.user_created")
    assert entry.organization == acme_oidc.organization and entry.target_id == str(claire.pk)
    assert SocialAccount.objects.filter(user=claire, provider="sso-acme").exists()


def test_default_role_and_no_unknown_team_created(acme_oidc):
    services.mapping_save(
        actor=acme_oidc.admin,
        values={
            "attr_email": "",
            "attr_first_name": "",
            "attr_last_name": "",
            "attr_language": "",
            "attr_team": "department",
            "team_match": "name",
            "create_unknown_teams": False,
            "attr_groups": "",
        },
        group_roles={},
    )
    client = Client()
    oidc_sign_in(client, "claire.martin@acme.test", "claire")
    claire = User.objects.get(email="claire.martin@acme.test")
    assert claire.role == Role.EMPLOYEE
    assert claire.teams.count() == 0
    assert not acme_oidc.organization.teams.filter(name="Pharmacovigilance").exists()
    entry = AuditLogEntry.objects.get(action="sso.user_created")
    assert entry.details["unknown_teams"] == ["Pharmacovigilance"]


def test_unknown_team_created_when_the_admin_allows_it(acme_oidc):
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    connection.attr_team = "department"
    connection.create_unknown_teams = True
    connection.save()
    client = Client()
    oidc_sign_in(client, "claire.martin@acme.test", "claire")
    claire = User.objects.get(email="claire.martin@acme.test")
    assert [team.name for team in claire.teams.all()] == ["Pharmacovigilance"]


def test_existing_person_is_matched_by_verified_email_in_a_verified_domain(acme_oidc):
    dora = UserFactory(organization=acme_oidc.organization, email="dora@acme.test")
    client = Client()
    response = oidc_sign_in(client, "dora@acme.test", "dora")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) == dora.pk
    assert User.objects.filter(email="dora@acme.test").count() == 1
    # The second time, the linked identity is enough.
    client2 = Client()
    oidc_sign_in(client2, "dora@acme.test", "dora")
    assert signed_in_user_id(client2) == dora.pk


def test_an_unverified_email_never_matches_an_existing_person(acme_oidc):
    dora = UserFactory(organization=acme_oidc.organization, email="dora@acme.test")
    client = Client()
    response = oidc_sign_in(client, "dora@acme.test", "dora-unverified")
    assert signed_in_user_id(client) is None
    assert "cannot be trusted with it here" in followed_text(client, response)
    assert not SocialAccount.objects.filter(user=dora).exists()
    assert AuditLogEntry.objects.filter(
        action="sso.sign_in_refused", details__reason="unverified_match"
    ).exists()


def test_an_existing_person_outside_a_verified_domain_is_not_matched(acme_oidc):
    UserFactory(organization=acme_oidc.organization, email="dora@acme.test")
    acme_oidc.domain.verified_at = None
    acme_oidc.domain.save()
    client = Client()
    # Without a verified domain the login page sends nobody to the IdP: start by hand.
    response = client.post("/accounts/oidc/sso-acme/login/")
    assert response.status_code == 302
    from tests.sso.idps import oidc_idp_sign_in

    back = oidc_idp_sign_in(response["Location"], "dora", stop_at="http://testserver/")
    parts = urlsplit(back)
    response = client.get(f"{parts.path}?{parts.query}")
    assert signed_in_user_id(client) is None
    assert "cannot be trusted with it here" in followed_text(client, response)


def test_nobody_is_created_for_an_address_outside_the_verified_domains(acme_oidc):
    client = Client()
    response = client.post("/accounts/oidc/sso-acme/login/")
    from tests.sso.idps import oidc_idp_sign_in

    back = oidc_idp_sign_in(response["Location"], "stranger", stop_at="http://testserver/")
    parts = urlsplit(back)
    response = client.get(f"{parts.path}?{parts.query}")
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="someone@elsewhere.test").exists()
    assert "not in a domain your organisation has verified" in followed_text(client, response)


def test_a_deactivated_person_is_refused(acme_oidc):
    UserFactory(organization=acme_oidc.organization, email="dora@acme.test", is_active=False)
    client = Client()
    response = oidc_sign_in(client, "dora@acme.test", "dora")
    assert signed_in_user_id(client) is None
    assert "Your account is deactivated" in followed_text(client, response)


def test_a_person_of_another_organisation_is_refused(acme_oidc):
    from tests.factories import OrganizationFactory

    other = OrganizationFactory(slug="other")
    UserFactory(organization=other, email="dora@acme.test")
    client = Client()
    response = oidc_sign_in(client, "dora@acme.test", "dora")
    assert signed_in_user_id(client) is None
    assert "belongs to another organisation" in followed_text(client, response)


def test_the_authorisation_request_carries_state_nonce_and_pkce(acme_oidc):
    authorize = oidc_start(Client(), "claire.martin@acme.test")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(acme_oidc_issuer(acme_oidc))
    assert query["client_id"] == ["portevoix-acme"]
    assert query["redirect_uri"] == [f"http://testserver{OIDC_CALLBACK}"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert len(query["state"][0]) >= 12 and len(query["nonce"][0]) >= 32
    assert query["login_hint"] == ["claire.martin@acme.test"]


def acme_oidc_issuer(acme) -> str:
    return SsoConnection.objects.get(organization=acme.organization).oidc_issuer


def test_a_state_mismatch_is_refused(acme_oidc):
    client = Client()
    response = oidc_sign_in(
        client,
        "claire.martin@acme.test",
        "claire",
        tamper_back=lambda url: _with_query(url, state="forged-state-value"),
    )
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="claire.martin@acme.test").exists()
    assert "Single sign-on did not complete" in followed_text(client, response)


def test_a_callback_from_another_browser_is_refused(acme_oidc):
    """The code and state sent back to a session that did not start the sign-in."""
    starter = Client()
    authorize = oidc_start(starter, "claire.martin@acme.test")
    from tests.sso.idps import oidc_idp_sign_in

    back = oidc_idp_sign_in(authorize, "claire", stop_at="http://testserver/")
    parts = urlsplit(back)
    intruder = Client()
    response = intruder.get(f"{parts.path}?{parts.query}")
    assert signed_in_user_id(intruder) is None
    assert "Single sign-on did not complete" in followed_text(intruder, response)


def test_a_nonce_mismatch_is_refused(acme_oidc):
    client = Client()
    response = oidc_sign_in(
        client,
        "claire.martin@acme.test",
        "claire",
        tamper=lambda url: _with_query(url, nonce="a-nonce-this-session-never-sent-0123456789"),
    )
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="claire.martin@acme.test").exists()
    assert "could not be checked" in followed_text(client, response)
    assert AuditLogEntry.objects.filter(details__reason="nonce_mismatch").exists()


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(acme_oidc):
    """The code challenge replaced on the way: the verifier kept in our session no longer
    matches, and the provider refuses to exchange the code."""
    client = Client()
    response = oidc_sign_in(
        client,
        "claire.martin@acme.test",
        "claire",
        tamper=lambda url: _with_query(
            url, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ),
    )
    assert signed_in_user_id(client) is None
    assert "Single sign-on did not complete" in followed_text(client, response)


def test_the_client_secret_is_encrypted_at_rest(acme_oidc):
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    assert OIDC_CLIENT_SECRET not in connection.oidc_client_secret
    assert token_decrypt(connection.oidc_client_secret) == OIDC_CLIENT_SECRET

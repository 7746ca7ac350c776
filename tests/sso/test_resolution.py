"""Who an SSO sign-in resolves to, and which connection an allauth app stands for: the
IdP's email must be one valid address, the teams it names are matched or created without
clashing and only with the sign-in, and "sso-" slugs never mix SAML and OpenID Connect."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialApp
from django.db import DataError, IntegrityError, transaction
from django.test import Client

from organizations.errors import DomainError
from organizations.models import AuditLogEntry, Role, Team, User
from sso import services
from sso.adapter import _app_connection
from sso.mapping import Profile
from sso.models import Protocol, SsoConnection
from tests.factories import OrganizationFactory, TeamFactory, UserFactory
from tests.sso.conftest import followed_text, oidc_sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


def _profile(email: str = "tom@acme.test", **values) -> Profile:
    return Profile(uid=email, email=email, email_verified=True, **values)


def _teams_mapping(acme_oidc, *, team_match: str = "name", create: bool = True) -> SsoConnection:
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    connection.attr_team = "department"
    connection.team_match = team_match
    connection.create_unknown_teams = create
    connection.save()
    return connection


# --- Email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["x@evil.test@acme.test", "x y@acme.test", "@acme.test", "x@acme.test\n"]
)
def test_an_invalid_email_from_the_idp_is_refused(acme_oidc, email):
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    if email.strip() != email:  # surrounding blanks are only trimmed
        user, created = services.sso_user_resolve(
            connection=connection, profile=_profile(email), linked_user=None
        )
        assert user.email == email.strip() and created
        return
    with pytest.raises(services.SsoRefused, match="not valid"):
        services.sso_user_resolve(connection=connection, profile=_profile(email), linked_user=None)
    assert not User.objects.filter(email__icontains="acme.test").exclude(pk=acme_oidc.admin.pk)
    assert AuditLogEntry.objects.get(action="sso.sign_in_refused").details["reason"] == (
        "invalid_email"
    )


def test_the_email_is_lowercased_before_matching(acme_oidc):
    dora = UserFactory(organization=acme_oidc.organization, email="dora@acme.test")
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    user, created = services.sso_user_resolve(
        connection=connection, profile=_profile(" Dora@ACME.test "), linked_user=None
    )
    assert user == dora and not created


def test_a_forged_address_from_a_real_idp_is_refused(acme_oidc):
    client = Client(HTTP_HOST="testserver")
    response = oidc_sign_in(client, "someone@acme.test", "forged")
    assert signed_in_user_id(client) is None
    assert "email address that is not valid" in followed_text(client, response)
    assert not User.objects.filter(email__contains="evil").exists()


# --- Teams ------------------------------------------------------------------------------------


def test_a_long_team_name_is_found_again_at_the_next_sign_in(acme_oidc):
    connection = _teams_mapping(acme_oidc)
    long_name = "Pharmacovigilance et affaires réglementaires " * 4
    profile = _profile(teams=[long_name], team_attribute_sent=True)
    user, _created = services.sso_user_resolve(
        connection=connection, profile=profile, linked_user=None
    )
    again, _created = services.sso_user_resolve(
        connection=connection, profile=profile, linked_user=user
    )
    teams = Team.objects.filter(organization=acme_oidc.organization)
    assert teams.count() == 1 and teams.get().name == long_name[:120]
    assert list(again.teams.all()) == list(teams)


def test_matching_by_external_id_never_takes_over_a_team_of_the_same_name(acme_oidc):
    connection = _teams_mapping(acme_oidc, team_match="external_id")
    existing = TeamFactory(organization=acme_oidc.organization, name="Comms")
    profile = _profile(teams=["Comms"], team_attribute_sent=True)
    user, _created = services.sso_user_resolve(
        connection=connection, profile=profile, linked_user=None
    )
    assert list(user.teams.all()) == []
    assert Team.objects.filter(organization=acme_oidc.organization).count() == 1
    existing.refresh_from_db()
    assert existing.external_id == ""
    entry = AuditLogEntry.objects.get(action="sso.user_created")
    assert entry.details["unknown_teams"] == ["Comms"]


def test_a_sign_in_that_fails_leaves_no_team_behind(acme_oidc):
    connection = _teams_mapping(acme_oidc)
    # A language longer than the column: creating the person fails inside the sign-in.
    profile = _profile(teams=["New team"], team_attribute_sent=True, language="x" * 300)
    with pytest.raises(DataError):
        services.sso_user_resolve(connection=connection, profile=profile, linked_user=None)
    assert not Team.objects.filter(organization=acme_oidc.organization, name="New team").exists()


def test_team_creation_clash_is_not_an_error(acme_oidc):
    """The unique constraint on root team names is never hit by a sign-in."""
    connection = _teams_mapping(acme_oidc)
    TeamFactory(organization=acme_oidc.organization, name="Comms")
    user, _created = services.sso_user_resolve(
        connection=connection,
        profile=_profile(teams=["comms", "Comms "], team_attribute_sent=True),
        linked_user=None,
    )
    assert [t.name for t in user.teams.all()] == ["Comms"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(organization=acme_oidc.organization, name="Comms")


# --- "sso-" slugs -------------------------------------------------------------------------------


@pytest.fixture
def partners(acme_oidc):
    """Acme's OpenID connection is "sso-acme"; an organisation whose slug is "sso-acme"
    would have the same provider id for SAML."""
    organization = OrganizationFactory(name="SSO Acme", slug="sso-acme")
    admin = UserFactory(organization=organization, role=Role.ORG_ADMIN, email="a@sso-acme.test")
    return organization, admin


def test_sso_cannot_be_set_up_for_a_slug_starting_with_sso(partners, saml_idp, oidc_idp):
    organization, admin = partners
    with pytest.raises(DomainError, match="starts with “sso-”"):
        services.connection_save_saml(actor=admin, metadata_url=f"{saml_idp.base_url}/metadata")
    with pytest.raises(DomainError, match="starts with “sso-”"):
        services.connection_save_oidc(
            actor=admin, issuer=oidc_idp.issuer, client_id="c", client_secret="s"
        )
    assert not SsoConnection.objects.filter(organization=organization).exclude(protocol="")
    client = Client()
    client.force_login(admin)
    page = client.post(
        "/admin/sso/",
        {"action": "saml", "saml_metadata_url": f"{saml_idp.base_url}/metadata"},
    )
    assert page.status_code == 200 and "starts with “sso-”" in page.content.decode()


def test_the_app_s_provider_decides_saml_or_openid(partners, acme_oidc):
    organization, _admin = partners
    # Even a SAML connection saved before the rule never resolves as Acme's OpenID one.
    SsoConnection.objects.create(
        organization=organization,
        protocol=Protocol.SAML,
        saml_idp_entity_id="https://idp.example/",
        saml_idp_sso_url="https://idp.example/sso",
    )
    saml = SocialApp(provider="saml", provider_id="sso-acme", client_id="sso-acme")
    assert _app_connection(saml) is None
    oidc = SocialApp(provider="openid_connect", provider_id="sso-acme", client_id="x")
    found = _app_connection(oidc)
    assert found is not None and found.organization == acme_oidc.organization
    network = SocialApp(provider="linkedin_oauth2", provider_id="sso-acme", client_id="x")
    assert _app_connection(network) is None

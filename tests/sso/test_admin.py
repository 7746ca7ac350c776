"""The org admin's SSO page: what to give the IdP, the IdP's data taken and checked
(nothing saved when it is wrong), domains claimed and verified, access and scoping."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from organizations.models import AuditLogEntry, Role
from sso.models import ClaimedDomain, SsoConnection
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.sso.dns_server import TxtDnsServer
from tests.sso.idps import OIDC_CLIENT_ID, OIDC_CLIENT_SECRET

pytestmark = pytest.mark.django_db
URL = "/admin/sso/"


def _admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return unescape(response.content.decode())


def test_the_page_shows_what_to_give_the_idp(acme):
    page = _text(_admin_client(acme.admin).get(URL))
    assert "http://testserver/accounts/saml/acme/metadata/" in page
    assert "http://testserver/accounts/saml/acme/acs/" in page
    assert "http://testserver/accounts/oidc/sso-acme/login/callback/" in page
    assert "Off: everyone signs in with a password." in page


def test_only_admins_see_it(acme):
    employee = UserFactory(organization=acme.organization, role=Role.EDITOR)
    assert _admin_client(employee).get(URL).status_code == 404
    assert Client().get(URL).status_code == 302


def test_oidc_set_up_from_the_page(acme, oidc_idp):
    client = _admin_client(acme.admin)
    response = client.post(
        URL,
        {
            "action": "oidc",
            "oidc_issuer": oidc_idp.issuer,
            "oidc_client_id": OIDC_CLIENT_ID,
            "oidc_client_secret": OIDC_CLIENT_SECRET,
        },
    )
    assert response.status_code == 302
    connection = SsoConnection.objects.get(organization=acme.organization)
    assert connection.protocol == "oidc" and connection.oidc_issuer == oidc_idp.issuer
    assert OIDC_CLIENT_SECRET not in _text(client.get(URL))
    # A blank secret keeps the saved one.
    client.post(
        URL,
        {"action": "oidc", "oidc_issuer": oidc_idp.issuer, "oidc_client_id": "renamed"},
    )
    connection.refresh_from_db()
    assert connection.oidc_client_id == "renamed" and connection.oidc_client_secret


def test_an_issuer_that_does_not_answer_is_a_clear_error_and_nothing_is_saved(acme, oidc_idp):
    client = _admin_client(acme.admin)
    response = client.post(
        URL,
        {
            "action": "oidc",
            "oidc_issuer": oidc_idp.issuer + "/nothing-here",
            "oidc_client_id": "x",
            "oidc_client_secret": "y",
        },
    )
    assert response.status_code == 200
    assert "answered with the error 404" in _text(response)
    response = client.post(
        URL,
        {
            "action": "oidc",
            "oidc_issuer": "http://127.0.0.1:1",
            "oidc_client_id": "x",
            "oidc_client_secret": "y",
        },
    )
    assert "could not be reached" in _text(response)
    assert not SsoConnection.objects.filter(organization=acme.organization, protocol="oidc")


def test_saml_metadata_file_and_url(acme, saml_idp):
    client = _admin_client(acme.admin)
    upload = SimpleUploadedFile("idp.xml", saml_idp.metadata().encode(), "text/xml")
    response = client.post(URL, {"action": "saml", "saml_metadata_file": upload})
    assert response.status_code == 302
    connection = SsoConnection.objects.get(organization=acme.organization)
    assert connection.protocol == "saml" and connection.saml_idp_entity_id == saml_idp.entity_id
    response = client.post(
        URL, {"action": "saml", "saml_metadata_url": f"{saml_idp.base_url}/metadata"}
    )
    assert response.status_code == 302
    page = _text(client.get(URL))
    assert "On, with SAML 2.0." in page
    assert 'href="http://testserver/accounts/saml/acme/metadata/"' in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not xml", "not readable SAML metadata"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>',
            "DOCTYPE is refused",
        ),
        (
            b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            b'entityID="https://sp.example"><md:SPSSODescriptor '
            b'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
            b"</md:EntityDescriptor>",
            "describes no identity provider",
        ),
    ],
)
def test_bad_metadata_is_a_clear_error(acme, content, message):
    client = _admin_client(acme.admin)
    upload = SimpleUploadedFile("idp.xml", content, "text/xml")
    response = client.post(URL, {"action": "saml", "saml_metadata_file": upload})
    assert response.status_code == 200
    assert message in _text(response)
    assert not SsoConnection.objects.filter(organization=acme.organization, protocol="saml")


def test_saml_needs_the_file_or_the_url(acme):
    response = _admin_client(acme.admin).post(URL, {"action": "saml"})
    assert "Give either the metadata file or its URL" in _text(response)


@pytest.fixture
def dns_server(settings):
    server = TxtDnsServer()
    settings.SSO_DNS_NAMESERVERS = [server.address]
    yield server
    server.stop()


def test_a_domain_is_verified_by_its_txt_record(acme, dns_server):
    client = _admin_client(acme.admin)
    assert (
        client.post(URL, {"action": "domain_add", "domain": "Acme-Sante.TEST"}).status_code == 302
    )
    claimed = ClaimedDomain.objects.get(organization=acme.organization, domain="acme-sante.test")
    page = _text(client.get(URL))
    assert claimed.record_name in page and claimed.record_value in page

    response = client.post(URL, {"action": "domain_verify", "domain": claimed.pk})
    assert "The TXT record was not found at _portevoix.acme-sante.test" in _text(
        client.get(response["Location"])
    )
    claimed.refresh_from_db()
    assert claimed.verified_at is None

    dns_server.records[claimed.record_name] = ["v=spf1 -all", claimed.record_value]
    client.post(URL, {"action": "domain_verify", "domain": claimed.pk})
    claimed.refresh_from_db()
    assert claimed.verified_at is not None and claimed.verified_by == "dns"
    assert AuditLogEntry.objects.filter(action="sso.domain_verified", target_id=str(claimed.pk))


def test_a_domain_verified_elsewhere_cannot_be_verified_again(acme, dns_server):
    other = OrganizationFactory(slug="other")
    other_admin = UserFactory(organization=other, role=Role.ORG_ADMIN)
    client = _admin_client(other_admin)
    client.post(URL, {"action": "domain_add", "domain": "acme.test"})
    claimed = ClaimedDomain.objects.get(organization=other)
    dns_server.records[claimed.record_name] = [claimed.record_value]
    response = client.post(URL, {"action": "domain_verify", "domain": claimed.pk})
    assert "Another organisation has already verified acme.test" in _text(
        client.get(response["Location"])
    )


def test_bad_domains_are_refused(acme):
    client = _admin_client(acme.admin)
    for bad in ("localhost", "not a domain", "acme.test"):
        response = client.post(URL, {"action": "domain_add", "domain": bad})
        assert response.status_code == 200
    assert ClaimedDomain.objects.filter(organization=acme.organization).count() == 1


def test_another_organisations_domain_is_a_404(acme):
    other = OrganizationFactory(slug="other")
    other_admin = UserFactory(organization=other, role=Role.ORG_ADMIN)
    client = _admin_client(other_admin)
    assert (
        client.post(URL, {"action": "domain_remove", "domain": acme.domain.pk}).status_code == 404
    )
    assert client.post(URL, {"action": "domain_verify", "domain": "x1"}).status_code == 404
    assert "acme.test" not in _text(client.get(URL))
    assert ClaimedDomain.objects.filter(pk=acme.domain.pk).exists()


def test_removing_the_last_verified_domain_ends_enforcement(acme_oidc):
    from sso import services

    services.enforcement_set(actor=acme_oidc.admin, require_sso=True, break_glass_admin=None)
    client = _admin_client(acme_oidc.admin)
    client.post(URL, {"action": "domain_remove", "domain": acme_oidc.domain.pk})
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    assert connection.require_sso is False


def test_mapping_and_enforcement_forms(acme_oidc):
    client = _admin_client(acme_oidc.admin)
    response = client.post(
        URL,
        {
            "action": "mapping",
            "attr_team": "department",
            "team_match": "external_id",
            "attr_groups": "groups",
            "group_roles": "comms-team = editor\nadmins = org_admin",
        },
    )
    assert response.status_code == 302
    connection = SsoConnection.objects.get(organization=acme_oidc.organization)
    assert connection.group_roles == {"comms-team": "editor", "admins": "org_admin"}
    response = client.post(
        URL, {"action": "mapping", "team_match": "name", "group_roles": "comms-team = boss"}
    )
    assert response.status_code == 200 and "Line 1 is not" in _text(response)
    response = client.post(
        URL,
        {"action": "enforcement", "require_sso": "on", "break_glass_admin": acme_oidc.admin.pk},
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.require_sso and connection.break_glass_admin == acme_oidc.admin


def test_operator_command_verifies_a_domain(acme):
    other = OrganizationFactory(slug="other")
    admin = UserFactory(organization=other, role=Role.ORG_ADMIN)
    from sso import services

    claimed = services.domain_claim(actor=admin, domain="other.test")
    call_command("sso_domain_verify", "other", "other.test")
    claimed.refresh_from_db()
    assert claimed.verified_by == "operator"
    with pytest.raises(CommandError):
        call_command("sso_domain_verify", "other", "unknown.test")


def test_password_form_still_works_for_the_admin_page_users(acme):
    client = Client()
    client.post("/accounts/login/", {"login": "ada@acme.test", "password": PASSWORD})
    assert client.get(URL).status_code == 200

"""SAML 2.0 sign-in against pysaml2's IdP on loopback: signed assertions required, the
clock's tolerance bounded, a replayed, forged, unsigned or expired assertion refused."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.conf import settings

from organizations.models import AuditLogEntry, Role, User
from sso.models import SamlAssertion, SsoConnection
from tests.factories import UserFactory
from tests.sso.conftest import (
    SAML_NOW,
    browser,
    followed_text,
    saml_post,
    saml_start,
    signed_in_user_id,
)
from tests.sso.saml_idp import ASSERTION_LIFETIME_MINUTES

pytestmark = pytest.mark.django_db


def test_metadata_for_the_idp_admin(acme_saml):
    response = browser().get("/accounts/saml/acme/metadata/")
    xml = response.content.decode()
    assert response.status_code == 200
    assert 'entityID="http://testserver/accounts/saml/acme/metadata/"' in xml
    assert 'Location="http://testserver/accounts/saml/acme/acs/"' in xml
    assert 'WantAssertionsSigned="true"' in xml


def test_the_idp_metadata_was_read(acme_saml, saml_idp):
    connection = SsoConnection.objects.get(organization=acme_saml.organization)
    assert connection.saml_idp_entity_id == saml_idp.entity_id
    assert connection.saml_idp_sso_url == f"{saml_idp.base_url}/sso/redirect"
    assert connection.saml_idp_x509cert


def test_first_sign_in_creates_the_person(acme_saml, saml_idp):
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    response = saml_post(client, acs, saml_response, request.relay_state)

    assert response.status_code == 302 and response["Location"] == "/", response.content[:300]
    claire = User.objects.get(email="claire.martin@acme.test")
    assert signed_in_user_id(client) == claire.pk
    assert claire.organization == acme_saml.organization and claire.role == Role.EMPLOYEE
    assert (claire.first_name, claire.last_name, claire.language) == ("Claire", "Martin", "en")
    assert AuditLogEntry.objects.filter(action="sso.user_created", target_id=str(claire.pk))


def test_an_existing_person_is_matched(acme_saml, saml_idp):
    dora = UserFactory(organization=acme_saml.organization, email="dora@acme.test")
    client = browser()
    request = saml_start(client, saml_idp, "dora@acme.test")
    response = saml_post(client, *saml_idp.respond(request.args, "dora"), request.relay_state)
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == dora.pk


def test_an_unsigned_assertion_is_refused(acme_saml, saml_idp):
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire", sign=False)
    response = saml_post(client, acs, saml_response, request.relay_state)
    assert signed_in_user_id(client) is None
    assert not User.objects.filter(email="claire.martin@acme.test").exists()
    assert "Single sign-on did not complete" in followed_text(client, response)
    refused = AuditLogEntry.objects.get(action="sso.sign_in_refused")
    assert "not signed" in refused.details["error"]


def test_a_forged_assertion_is_refused(acme_saml, saml_idp):
    """A signed assertion for Claire, rewritten to say it is the admin: the signature no
    longer holds."""
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    xml = base64.b64decode(saml_response).decode()
    assert "claire.martin@acme.test" in xml
    forged = base64.b64encode(xml.replace("claire.martin@acme.test", "ada@acme.test").encode())
    response = saml_post(client, acs, forged.decode(), request.relay_state)
    assert signed_in_user_id(client) is None
    assert "Single sign-on did not complete" in followed_text(client, response)


def test_an_expired_assertion_is_refused(acme_saml, saml_idp, saml_clock):
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    late = ASSERTION_LIFETIME_MINUTES * 60 + settings.SSO_SAML_CLOCK_SKEW_SECONDS + 60
    saml_clock.move_to(SAML_NOW + timedelta(seconds=late), tick=False)
    response = saml_post(client, acs, saml_response, request.relay_state)
    assert signed_in_user_id(client) is None
    assert "Single sign-on did not complete" in followed_text(client, response)


def test_the_idp_clock_may_be_a_little_ahead_not_more(acme_saml, saml_idp, saml_clock):
    # Issued by an IdP whose clock is 60 s ahead of ours: within the tolerance.
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    saml_clock.move_to(SAML_NOW - timedelta(seconds=60), tick=False)
    response = saml_post(client, acs, saml_response, request.relay_state)
    assert response["Location"] == "/"
    # Ten minutes ahead: refused as not yet valid.
    saml_clock.move_to(SAML_NOW, tick=False)
    other = browser()
    request = saml_start(other, saml_idp, "dora@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "dora")
    saml_clock.move_to(SAML_NOW - timedelta(minutes=10), tick=False)
    response = saml_post(other, acs, saml_response, request.relay_state)
    assert signed_in_user_id(other) is None
    assert "Single sign-on did not complete" in followed_text(other, response)


def test_a_replayed_assertion_is_refused(acme_saml, saml_idp):
    client = browser()
    request = saml_start(client, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    assert saml_post(client, acs, saml_response, request.relay_state)["Location"] == "/"
    assert SamlAssertion.objects.count() == 1

    replayer = browser()
    response = saml_post(replayer, acs, saml_response, request.relay_state)
    assert signed_in_user_id(replayer) is None
    assert "already used" in followed_text(replayer, response)
    assert AuditLogEntry.objects.filter(details__reason="assertion_replayed").exists()


def test_an_answer_to_a_request_this_browser_did_not_make_is_refused(acme_saml, saml_idp):
    starter = browser()
    request = saml_start(starter, saml_idp, "claire.martin@acme.test")
    acs, saml_response = saml_idp.respond(request.args, "claire")
    intruder = browser()
    response = saml_post(intruder, acs, saml_response, request.relay_state)
    assert signed_in_user_id(intruder) is None
    assert "does not match a sign-in started here" in followed_text(intruder, response)

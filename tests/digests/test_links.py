"""The links of a digest email: the signed, expiring, single-person Share link and the
one-click unsubscribe (RFC 8058: POST without session or CSRF token; GET changes nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from digests.models import DigestPreference, Frequency
from digests.services import digests_send_due
from digests.tokens import share_token_make, unsubscribe_token_make
from tests.conftest import client_for
from tests.digests.conftest import MONDAY_PARIS, daily_here_quiet_there, post

pytestmark = pytest.mark.django_db


def share_url(user, content) -> str:
    return reverse("digest_share", args=[share_token_make(user_id=user.pk, content_id=content.pk)])


def test_share_link_takes_its_person_to_the_share_page(personas, clock):
    content = post(personas.organization)

    response = client_for(personas.teammate).get(share_url(personas.teammate, content))

    assert response.status_code == 302
    assert response["Location"] == reverse("share_content", args=[content.pk])


def test_share_link_without_a_session_goes_through_sign_in(personas, clock):
    content = post(personas.organization)
    url = share_url(personas.teammate, content)

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url.replace(':', '%3A')}"


def test_share_link_of_someone_else_is_refused_clearly(personas, clock):
    content = post(personas.organization)

    response = client_for(personas.owner).get(share_url(personas.teammate, content))

    assert response.status_code == 403
    assert "This link was made for someone else" in response.content.decode()
    assert reverse("share_content", args=[content.pk]) not in response.get("Location", "")


def test_share_link_expires_after_seven_days(personas, clock, time_machine):
    content = post(personas.organization)
    url = share_url(personas.teammate, content)
    me = client_for(personas.teammate)

    time_machine.move_to(MONDAY_PARIS + timedelta(days=6, hours=23), tick=False)
    assert me.get(url).status_code == 302
    time_machine.move_to(MONDAY_PARIS + timedelta(days=7, minutes=1), tick=False)
    response = me.get(url)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


@pytest.mark.parametrize("kind", ["nonsense", "forged", "an unsubscribe token"])
def test_tampered_share_link_is_a_clear_page(personas, clock, kind):
    # Made in the test, not at collection: a signed token holds the moment it is made, and
    # every pytest-xdist worker must collect the same test ids.
    token = {
        "nonsense": "nonsense",
        "forged": "eyJ1IjoxLCJjIjoxfQ:1vR:forged",
        "an unsubscribe token": unsubscribe_token_make(user_id=1),
    }[kind]
    response = client_for(personas.teammate).get(reverse("digest_share", args=[token]))

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()


def test_share_token_changed_to_another_content_is_refused(personas, clock):
    content = post(personas.organization)
    token = share_token_make(user_id=personas.teammate.pk, content_id=content.pk)
    _payload, rest = token.split(":", 1)
    forged = share_token_make(user_id=personas.teammate.pk, content_id=content.pk + 1)
    mixed = forged.split(":", 1)[0] + ":" + rest

    response = client_for(personas.teammate).get(reverse("digest_share", args=[mixed]))

    assert response.status_code == 400


def test_one_click_unsubscribe_from_the_headers(personas, clock):
    daily_here_quiet_there(personas)
    post(personas.organization)
    digests_send_due()
    message = next(m for m in mail.outbox if m.to == [personas.teammate.email])
    url = message.extra_headers["List-Unsubscribe"].strip("<>").split(">")[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = url.split("://", 1)[1].split("/", 1)[1]

    # The mail client posts the form body of RFC 8058, with no session and no CSRF token.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/" + path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert DigestPreference.objects.get(user=personas.teammate).frequency == Frequency.NEVER


def test_unsubscribe_get_only_shows_the_button(personas, clock):
    url = reverse("digest_unsubscribe", args=[unsubscribe_token_make(user_id=personas.teammate.pk)])

    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'method="post"' in body and "Unsubscribe" in body
    assert not DigestPreference.objects.exists()


def test_unsubscribe_with_a_tampered_token_changes_nothing(personas, clock):
    token = unsubscribe_token_make(user_id=personas.teammate.pk)[:-2] + "xx"

    response = Client().post(reverse("digest_unsubscribe", args=[token]))

    assert response.status_code == 400
    assert not DigestPreference.objects.exists()


def test_unsubscribed_person_gets_no_more_digests(personas, clock, time_machine):
    daily_here_quiet_there(personas)
    url = reverse("digest_unsubscribe", args=[unsubscribe_token_make(user_id=personas.teammate.pk)])
    Client().post(url)
    post(personas.organization)

    digests_send_due()

    assert [m.to for m in mail.outbox] == [[personas.owner.email]]

"""The share page in words: what happened, in the reader's language, from the structured
fields (old rows with English error text included); the raw exchanges for org admins."""

from __future__ import annotations

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import time_format
from django.utils.translation import gettext

from advocacy import outcome_text
from advocacy.models import Share, ShareAttempt, ShareStatus
from tests.advocacy.conftest import make_content, share_now
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 5, 14, 0, tzinfo=PARIS)
RETRY_AT = datetime(2026, 12, 5, 14, 32, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _no_broker():
    with mock.patch("advocacy.services.dispatch._enqueue"):
        yield


def _old_share(user, *, status, attempts=(), **fields) -> Share:
    """A LinkedIn share as the worker left it, with its English log lines."""
    [share] = share_now(user, make_content(user.organization), networks=("facebook",))
    Share.objects.filter(pk=share.pk).update(network="linkedin", status=status, **fields)
    for index, (outcome, code, body) in enumerate(attempts):
        ShareAttempt.objects.create(
            share=share,
            kind="publish",
            outcome=outcome,
            status_code=code,
            body=body,
            started_at=datetime(2026, 12, 5, 13, 50 + index, tzinfo=PARIS),
        )
    return Share.objects.get(pk=share.pk)


def _summary(response) -> str:
    body = response.content.decode()
    start = body.index("data-summary>")
    return " ".join(body[start : body.index("</article>", start)].split())


def _retrying(user) -> Share:
    return _old_share(
        user,
        status=ShareStatus.SCHEDULED,
        attempt_count=1,
        next_attempt_at=RETRY_AT,
        last_error="The network answered 503.",
        attempts=[("retry_later", 503, "The network answered 503.")],
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_retry_reads_as_a_sentence_with_the_local_time(personas, language):
    personas.teammate.language = language
    personas.teammate.save()
    share = _retrying(personas.teammate)
    response = client_for(personas.teammate).get(reverse("share_detail", args=[share.pk]))
    body = response.content.decode()
    with translation.override(language):
        expected = gettext("%(why)s; we will try again %(when)s.") % {
            "why": gettext("%(network)s is not answering") % {"network": "LinkedIn"},
            "when": gettext("at %(time)s") % {"time": time_format(RETRY_AT, "TIME_FORMAT")},
        }
    assert expected in _summary(response)
    # The stored English log line is not what people read.
    if language == "fr":
        assert "14:32" in _summary(response)
    # The stored English log line is not what people read.
    assert "The network answered" not in body
    assert "retry_later" not in body


def test_old_english_reason_is_read_in_french(personas):
    personas.teammate.language = "fr"
    personas.teammate.save()
    share = _old_share(
        personas.teammate, status=ShareStatus.CANCELLED, last_error="The account was disconnected."
    )
    response = client_for(personas.teammate).get(reverse("share_detail", args=[share.pk]))
    assert "Le compte a été déconnecté." in _summary(response)
    assert "The account was disconnected." not in response.content.decode()


def test_refusal_quotes_the_network_and_reconnect_says_what_to_do(personas):
    rejected = _old_share(
        personas.teammate,
        status=ShareStatus.FAILED,
        last_error="X refused the post: Text too long",
        attempts=[("rejected", 400, '{"detail": "Text too long", "status": 400}')],
    )
    with translation.override("en"):
        summary = outcome_text.share_summary(rejected, list(rejected.attempts.all()))
        assert summary.text == "LinkedIn refused the post: “Text too long”"
        assert summary.tone == "danger"
        # A body that is our own log line is never quoted.
        attempt = ShareAttempt(outcome="rejected", status_code=None, body="Our English line.")
        assert outcome_text.attempt_sentence(attempt, network="X") == "X refused the post."
        expired = Share(network="linkedin", status=ShareStatus.NEEDS_RECONNECT)
        expired.user = personas.teammate
        mine = outcome_text.share_summary(expired, [], viewer=personas.teammate).text
        assert mine == "Your LinkedIn connection has expired: reconnect it, then try again."
        theirs = outcome_text.share_summary(expired, [], viewer=personas.owner).text
        assert personas.teammate.email in theirs or personas.teammate.get_full_name() in theirs


def test_every_state_has_words_and_unknown_outcomes_never_leak(personas):
    with translation.override("en"):
        for status in ShareStatus.values:
            share = Share(network="x", status=status, last_error="raw english")
            share.user = personas.teammate
            text = outcome_text.share_summary(share, []).text
            assert text and status not in text and "raw english" not in text
            assert outcome_text.state_label(status) != status
        assert outcome_text.state_label("needs_reconnect") == "Needs reconnect"
        strange = ShareAttempt(kind="publish", outcome="exploded", body="{}")
        assert outcome_text.attempt_sentence(strange, network="X") == (
            "Something unexpected happened."
        )


def test_technical_details_are_for_org_admins_only(personas):
    share = _retrying(personas.teammate)
    url = reverse("share_detail", args=[share.pk])
    employee = client_for(personas.teammate).get(url).content.decode()
    assert "Technical details" not in employee and "Détails techniques" not in employee
    assert "<code>retry_later</code>" not in employee
    admin = client_for(personas.owner).get(url).content.decode()
    assert '<details class="technical-details">' in admin
    assert "The network answered 503." in admin  # the raw log, behind the disclosure
    assert ">503<" in admin

"""The loopback fakes answer as Slack and Teams document, whatever client calls them."""

from __future__ import annotations

import json

import requests

from tests.messaging.conftest import CHANNEL, TOKEN


def test_slack_takes_a_form_body_with_a_bearer_token(fake_slack):
    response = requests.post(
        f"{fake_slack.api_url}chat.postMessage",
        data={"channel": CHANNEL, "text": "Hello", "blocks": json.dumps([])},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    assert body["channel"] == CHANNEL and body["message"]["text"] == "Hello"
    assert body["ts"] == fake_slack.posted[0].ts


def test_slack_errors_are_http_200_and_rate_limits_429(fake_slack):
    url = f"{fake_slack.api_url}chat.postMessage"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.post(
        url, json={"channel": "C0NOTHERE01", "text": "x"}, headers=headers, timeout=5
    )
    assert (response.status_code, response.json()) == (
        200, {"ok": False, "error": "channel_not_found"},
    )  # fmt: skip
    response = requests.post(url, json={"channel": CHANNEL, "text": "x"}, headers={}, timeout=5)
    assert response.json() == {"ok": False, "error": "not_authed"}
    fake_slack.rate_limit_next(retry_after=7)
    response = requests.post(
        url, json={"channel": CHANNEL, "text": "x"}, headers=headers, timeout=5
    )
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json() == {"ok": False, "error": "ratelimited"}
    fake_slack.revoke(TOKEN)
    response = requests.post(f"{fake_slack.api_url}auth.test", headers=headers, timeout=5)
    assert response.json() == {"ok": False, "error": "token_revoked"}


def test_teams_accepts_the_workflows_payload_and_refuses_others(fake_teams):
    url = fake_teams.add_flow()
    card = {"type": "AdaptiveCard", "version": "1.4", "body": []}
    good = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    assert requests.post(url, json=good, timeout=5).status_code == 202
    assert requests.post(url, json={"text": "legacy"}, timeout=5).status_code == 400
    assert requests.post(url.replace("sig=", "sig=x"), json=good, timeout=5).status_code == 401
    fake_teams.fail_next(429, retry_after=9)
    response = requests.post(url, json=good, timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "9"
    assert len(fake_teams.received) == 1

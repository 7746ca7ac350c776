"""The sandbox adapter against the fake network over HTTP: every answer maps to exactly one
of the four outcomes the pipeline knows."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from advocacy.networks.base import (
    Credentials,
    NeedsReconnect,
    OutcomeUnknown,
    PermanentRejection,
    PostRequest,
    RetryLater,
)
from advocacy.networks.sandbox import SandboxAdapter
from tests.advocacy.workers import wait_for
from tests.conftest import free_port
from tests.fakes.social_network import FakeSocialNetwork


@pytest.fixture
def adapter(fake_network) -> SandboxAdapter:
    return SandboxAdapter(base_url=fake_network.url)


@pytest.fixture
def credentials(adapter) -> Credentials:
    creds, identity = adapter.connect("ana")
    assert identity.external_id == "sbx-ana"
    return creds


def _post(text: str = "Hello", key: str = "k-1") -> PostRequest:
    return PostRequest(text=text, link_url="https://pv.test/s/abc", idempotency_key=key)


def test_success_names_the_post(adapter, credentials, fake_network):
    post = adapter.publish(credentials, _post())
    [held] = fake_network.live_posts()
    assert post.external_id == held.id
    assert post.url.endswith(f"/p/{held.id}")
    assert post.call.status_code == 201
    assert (
        adapter.find_post(credentials, PostRequest(text="", idempotency_key="k-1")).external_id
        == held.id
    )
    assert adapter.find_post(credentials, PostRequest(text="", idempotency_key="other")) is None


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"status": 401}, NeedsReconnect),
        ({"duplicate": True}, PermanentRejection),
        ({"status": 422}, PermanentRejection),
        ({"status": 500}, RetryLater),
        ({"status": 502}, RetryLater),
        ({"status": 503}, RetryLater),
        ({"status": 429, "reset_in": 7}, RetryLater),
    ],
)
def test_scripted_answers_map_to_one_outcome(adapter, credentials, fake_network, answer, error):
    fake_network.script(answer)
    with pytest.raises(error) as caught:
        adapter.publish(credentials, _post())
    assert type(caught.value) is error
    if "reset_in" in answer:
        assert 5 < caught.value.retry_after <= 7
    assert caught.value.call.status_code is not None


def test_bad_token_and_empty_text(adapter, credentials):
    with pytest.raises(NeedsReconnect):
        adapter.publish(Credentials(external_id="x", access_token="forged"), _post())
    with pytest.raises(PermanentRejection, match="text is required"):
        adapter.publish(credentials, _post(text=" "))


def test_same_text_twice_is_a_permanent_rejection(adapter, credentials):
    adapter.publish(credentials, _post(key="a"))
    with pytest.raises(PermanentRejection, match="already posted"):
        adapter.publish(credentials, _post(key="b"))


def test_accepted_then_no_answer_is_unknown_and_reconcilable(
    adapter, credentials, fake_network, settings
):
    settings.NETWORK_READ_TIMEOUT = 1
    adapter = SandboxAdapter(base_url=fake_network.url)
    fake_network.script({"accept_then_hang": 3})
    with pytest.raises(OutcomeUnknown):
        adapter.publish(credentials, _post(key="hung"))
    assert len(fake_network.live_posts()) == 1
    assert adapter.find_post(credentials, PostRequest(text="", idempotency_key="hung")) is not None


def test_read_timeout_before_any_answer_is_unknown(credentials, fake_network, settings):
    settings.NETWORK_READ_TIMEOUT = 1
    fake_network.script({"latency": 2, "status": 500})
    with pytest.raises(OutcomeUnknown):
        SandboxAdapter(base_url=fake_network.url).publish(credentials, _post())


def test_connection_refused_is_retry_later(credentials):
    adapter = SandboxAdapter(base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RetryLater) as caught:
        adapter.publish(credentials, _post())
    assert caught.value.retry_after == 0


def test_delete_is_idempotent_and_5xx_retries(adapter, credentials, fake_network):
    post = adapter.publish(credentials, _post())
    fake_network.script({"status": 503})
    with pytest.raises(RetryLater):
        adapter.delete(credentials, post.external_id)
    assert adapter.delete(credentials, post.external_id).status_code == 204
    assert adapter.delete(credentials, post.external_id).status_code == 404  # already gone
    assert fake_network.live_posts() == []


def test_refresh_rotates_and_a_spent_refresh_token_is_refused(adapter, credentials):
    fresh = adapter.refresh_credentials(credentials)
    assert fresh.access_token != credentials.access_token
    assert fresh.refresh_token != credentials.refresh_token
    assert fresh.expires_at is not None
    with pytest.raises(NeedsReconnect):
        adapter.refresh_credentials(credentials)  # single use
    with pytest.raises(NeedsReconnect):
        adapter.refresh_credentials(Credentials(external_id="x", access_token="t"))


def test_non_json_success_is_unknown(adapter, credentials, monkeypatch):
    class NotJson:
        status_code = 201
        text = "<html>ok</html>"
        headers: dict[str, str] = {}

        def json(self):
            raise ValueError

    monkeypatch.setattr(adapter, "_call", lambda *a, **k: NotJson())
    with pytest.raises(OutcomeUnknown):
        adapter.publish(credentials, _post())


def test_demo_tokens_only_when_asked():
    strict = FakeSocialNetwork().start()
    demo = FakeSocialNetwork(demo_tokens=True).start()
    try:
        token = Credentials(external_id="sbx-zoe", access_token="sandbox-demo:zoe")
        with pytest.raises(NeedsReconnect):
            SandboxAdapter(base_url=strict.url).publish(token, _post())
        post = SandboxAdapter(base_url=demo.url).publish(token, _post())
        [held] = demo.live_posts()
        assert held.account_id == "sbx-zoe" and held.id == post.external_id
    finally:
        strict.stop()
        demo.stop()


def test_demo_flag_on_the_command_line():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.social_network", "--port", str(port), "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def me():
            try:
                return requests.get(
                    f"http://127.0.0.1:{port}/me",
                    headers={"Authorization": "Bearer sandbox-demo:lea"},
                    timeout=1,
                )
            except requests.ConnectionError:
                return None

        response = wait_for(me, timeout=15, what="the fake network to listen")
        assert response.json()["id"] == "sbx-lea"
    finally:
        process.kill()
        process.wait(timeout=5)

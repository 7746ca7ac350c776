"""The fake LinkedIn answers as LinkedIn does: the OpenID Connect sign-in (consent, code, token,
signed id_token, userinfo), the versioned REST calls (images, posts, analytics) and their error
bodies, and the scripted faults. Plain HTTP with requests; no database."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.advocacy.workers import wait_for
from tests.conftest import free_port
from tests.fakes.linkedin_api import DEMO_CLIENT_ID, FakeLinkedIn, kept_little_text

CALLBACK = "https://app.test/accounts/oidc/linkedin/login/callback/"
SCOPE = "openid profile email w_member_social"


@pytest.fixture
def linkedin():
    fake = FakeLinkedIn(clients={"app-id": "app-secret"}).start()
    yield fake
    fake.stop()


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _authorize(linkedin: FakeLinkedIn, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "app-id",
        "redirect_uri": CALLBACK,
        "state": "st-1",
        "scope": SCOPE,
        **extra,
    }


def _consent(linkedin: FakeLinkedIn, action: str = "allow", **extra: str) -> dict[str, str]:
    answer = requests.post(
        f"{linkedin.oauth_url}/v2/authorization",
        data={**_authorize(linkedin, **extra), "name": "Ana Lopez", "action": action},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(CALLBACK)
    return _query(answer.headers["Location"])


def _token(linkedin: FakeLinkedIn, code: str, **extra: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "app-id",
        "client_secret": "app-secret",
        **extra,
    }
    return requests.post(f"{linkedin.oauth_url}/v2/accessToken", data=form, timeout=5)


def _rest(token: str, version: str = "202609") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": version,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def _post_body(author: str, text: str, content: dict | None = None) -> dict:
    body = {
        "author": author,
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    if content:
        body["content"] = content
    return body


def test_discovery_points_at_the_fake_and_the_id_token_is_signed_by_its_key(linkedin):
    config = requests.get(linkedin.discovery_url, timeout=5).json()
    assert config["issuer"] == f"{linkedin.url}/oauth"
    assert config["authorization_endpoint"] == f"{linkedin.url}/oauth/v2/authorization"
    assert config["token_endpoint"] == f"{linkedin.url}/oauth/v2/accessToken"
    assert config["userinfo_endpoint"] == f"{linkedin.url}/v2/userinfo"
    assert config["jwks_uri"] == f"{linkedin.url}/oauth/openid/jwks"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "token_endpoint_auth_methods_supported" not in config  # so clients post the secret

    code = _consent(linkedin, nonce="n-1")["code"]
    answer = _token(linkedin, code).json()
    assert answer["expires_in"] == 5184000
    assert answer["scope"] == "email,openid,profile,w_member_social"
    assert answer["token_type"] == "Bearer"
    assert "refresh_token" not in answer

    header, claims, signature = answer["id_token"].split(".")
    assert json.loads(_b64(header)) == {
        "zip": "RS256",
        "typ": "JWT",
        "kid": linkedin.kid,
        "alg": "RS256",
    }
    [key] = requests.get(config["jwks_uri"], timeout=5).json()["keys"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(_b64(key["e"]), "big"), int.from_bytes(_b64(key["n"]), "big")
    ).public_key()
    public.verify(
        _b64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    payload = json.loads(_b64(claims))
    assert payload["iss"] == config["issuer"]
    assert payload["aud"] == "app-id"
    assert payload["exp"] - payload["iat"] == 3600
    assert payload["nonce"] == "n-1"
    assert payload["email_verified"] == "true"  # a string, as LinkedIn sends it
    assert payload["locale"] == "en_US"


def test_consent_gives_a_single_use_code_and_userinfo_names_the_member(linkedin):
    page = requests.get(
        f"{linkedin.oauth_url}/v2/authorization", params=_authorize(linkedin), timeout=5
    )
    assert page.status_code == 200
    assert "<title>LinkedIn — Allow access</title>" in page.text
    assert "value='Demo Member'" in page.text

    redirect = _consent(linkedin)
    assert redirect["state"] == "st-1"
    answer = _token(linkedin, redirect["code"])
    assert answer.status_code == 200
    again = _token(linkedin, redirect["code"])
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_request",
        "error_description": "Unable to retrieve access token: appid/redirect uri/code verifier "
        "does not match authorization code. Or authorization code expired. Or external member "
        "binding exists",
    }
    unknown = _token(linkedin, "AQnope")
    assert unknown.status_code == 401
    assert unknown.json()["error_description"] == (
        "Unable to retrieve access token: authorization code not found"
    )

    token = answer.json()["access_token"]
    info = requests.get(
        f"{linkedin.url}/v2/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    assert info["name"] == "Ana Lopez"
    assert (info["given_name"], info["family_name"]) == ("Ana", "Lopez")
    assert info["locale"] == {"country": "US", "language": "en"}
    assert info["email_verified"] is True
    assert linkedin.member(info["sub"]).urn == f"urn:li:person:{info['sub']}"


def test_cancel_pkce_and_unknown_clients_answer_as_linkedin(linkedin):
    cancelled = _consent(linkedin, action="cancel")
    assert cancelled["error"] == "user_cancelled_authorize"
    assert cancelled["state"] == "st-1"

    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 43).digest())
    pkce = {"code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"}
    wrong = _token(linkedin, _consent(linkedin, **pkce)["code"], code_verifier="w" * 43)
    assert wrong.status_code == 400
    right = _token(linkedin, _consent(linkedin, **pkce)["code"], code_verifier="v" * 43)
    assert right.status_code == 200

    bad_secret = _token(linkedin, _consent(linkedin)["code"], client_secret="nope")
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
    unknown = requests.get(
        f"{linkedin.oauth_url}/v2/authorization",
        params=_authorize(linkedin, client_id="other"),
        timeout=5,
    )
    assert unknown.status_code == 401
    refused = requests.get(
        f"{linkedin.oauth_url}/v2/authorization",
        params=_authorize(linkedin, scope="openid r_member_postAnalytics"),
        allow_redirects=False,
        timeout=5,
    )
    assert _query(refused.headers["Location"])["error"] == "unauthorized_scope_error"


def test_a_post_with_an_image_then_its_duplicate_then_its_deletion(linkedin):
    account = linkedin.issue_token("Ana Lopez")
    author, headers = account["author"], _rest(account["access_token"])
    init = requests.post(
        f"{linkedin.url}/rest/images?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": author}},
        headers=headers,
        timeout=5,
    ).json()["value"]
    assert init["image"].startswith("urn:li:image:")
    assert init["uploadUrl"].startswith(f"{linkedin.url}/dms-uploads/")
    not_yet = _post_body(author, "Our news", {"media": {"id": init["image"], "altText": "A"}})
    early = requests.post(f"{linkedin.url}/rest/posts", json=not_yet, headers=headers, timeout=5)
    assert early.status_code == 400  # the image is not uploaded yet
    uploaded = requests.put(
        init["uploadUrl"],
        data=b"\x89PNG fake",
        headers={"Authorization": f"Bearer {account['access_token']}"},
        timeout=5,
    )
    assert (uploaded.status_code, uploaded.content) == (201, b"")

    created = requests.post(f"{linkedin.url}/rest/posts", json=not_yet, headers=headers, timeout=5)
    assert (created.status_code, created.content) == (201, b"")
    urn = created.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:") and len(urn.rsplit(":", 1)[1]) == 19
    [post] = linkedin.live_posts()
    assert (post.urn, post.author, post.commentary) == (urn, author, "Our news")

    duplicate = requests.post(
        f"{linkedin.url}/rest/posts", json=not_yet, headers=headers, timeout=5
    )
    assert duplicate.status_code == 422
    assert duplicate.json() == {
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
        f"Content is a duplicate of {urn}",
        "errorDetails": {
            "inputErrors": [
                {"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}
            ]
        },
        "status": 422,
    }

    post_url = f"{linkedin.url}/rest/posts/{quote(urn, safe='')}"
    read = requests.get(post_url, headers=headers, timeout=5)
    assert read.status_code == 403  # reading needs r_member_social, which apps rarely get
    gone = requests.delete(post_url, headers=headers, timeout=5)
    assert (gone.status_code, gone.content) == (204, b"")
    again = requests.delete(post_url, headers=headers, timeout=5)
    assert again.status_code == 404
    assert linkedin.live_posts() == []
    assert {r.linkedin_version for r in linkedin.requests_log if r.path.startswith("/rest/")} == {
        "202609"
    }


def test_versions_tokens_and_permissions_fail_with_linkedin_bodies(linkedin):
    account = linkedin.issue_token("Ana Lopez", scopes=("openid", "profile"))
    body = _post_body(account["author"], "Hello")
    url = f"{linkedin.url}/rest/posts"

    missing = requests.post(url, json=body, headers={"Authorization": "Bearer x"}, timeout=5)
    assert missing.status_code == 400
    assert missing.json()["code"] == "VERSION_MISSING"
    assert missing.headers["X-Restli-Gateway-Error"] == "true"
    old_version = _rest(account["access_token"], "202504")
    retired = requests.post(url, json=body, headers=old_version, timeout=5)
    assert retired.status_code == 426
    assert retired.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 20250401 is not active",
    }
    invalid = requests.post(url, json=body, headers=_rest("AQunknown"), timeout=5)
    assert invalid.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
    denied = requests.post(url, json=body, headers=_rest(account["access_token"]), timeout=5)
    assert denied.status_code == 403
    assert denied.json() == {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260901",
    }
    linkedin.expire(account["access_token"])
    expired = requests.post(url, json=body, headers=_rest(account["access_token"]), timeout=5)
    assert expired.json()["code"] == "EXPIRED_ACCESS_TOKEN"


def test_scripted_faults_then_normal_service(linkedin):
    account = linkedin.issue_token("Ana Lopez")
    body = _post_body(account["author"], "Scripted")
    headers = _rest(account["access_token"])
    url = f"{linkedin.url}/rest/posts"
    linkedin.script({"status": 429}, {"status": 503}, {"duplicate": True}, {"accept_then_hang": 5})

    throttled = requests.post(url, json=body, headers=headers, timeout=5)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "TOO_MANY_REQUESTS"
    assert "Retry-After" not in throttled.headers
    assert requests.post(url, json=body, headers=headers, timeout=5).status_code == 503
    ghost = requests.post(url, json=body, headers=headers, timeout=5)
    assert ghost.status_code == 422 and "DUPLICATE_POST" in ghost.text
    with pytest.raises(requests.Timeout):
        requests.post(url, json=body, headers=headers, timeout=0.3)
    [held] = linkedin.live_posts()  # accepted though the answer never came in time
    assert held.commentary == "Scripted"
    assert [r.status for r in linkedin.requests_log[:3]] == [429, 503, 422]


def test_little_text_is_cut_at_the_first_unescaped_reserved_character():
    assert kept_little_text("Hello (world)") == "Hello "
    assert kept_little_text("Hello \\(world\\)") == "Hello \\(world\\)"
    assert kept_little_text("Ask @[Ana](urn:li:person:abc) #news") == (
        "Ask @[Ana](urn:li:person:abc) #news"
    )


def test_post_analytics_need_the_permission_and_grow_with_age(linkedin):
    account = linkedin.issue_token("Ana Lopez")
    headers = _rest(account["access_token"])
    created = requests.post(
        f"{linkedin.url}/rest/posts",
        json=_post_body(account["author"], "Measured"),
        headers=headers,
        timeout=5,
    )
    urn = created.headers["x-restli-id"]
    query = f"q=entity&entity=(share:{quote(urn, safe='')})&queryType=IMPRESSION&aggregation=TOTAL"
    url = f"{linkedin.url}/rest/memberCreatorPostAnalytics?{query}"
    assert requests.get(url, headers=headers, timeout=5).status_code == 403

    linkedin.community_management = True
    start = linkedin.post(urn).created_at
    linkedin.clock = lambda: start + 3600
    early = requests.get(url, headers=headers, timeout=5).json()
    linkedin.clock = lambda: start + 3 * 86400
    later = requests.get(url, headers=headers, timeout=5).json()
    [element] = later["elements"]
    assert element["metricType"] == "IMPRESSION"
    assert element["targetEntity"] == {"share": urn}
    assert later["elements"][0]["count"] > early["elements"][0]["count"] > 0
    old = requests.get(url, headers=_rest(account["access_token"], "202601"), timeout=5).json()
    assert old["elements"][0]["metricType"] == {
        "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": (
            "IMPRESSION"
        )
    }


def test_allauth_accepts_the_id_token(linkedin):
    pytest.importorskip("jwt")  # allauth's openid_connect provider needs PyJWT
    from allauth.socialaccount.internal import jwtkit

    answer = linkedin.issue_token("Ana Lopez", client_id="app-id")
    claims = jwtkit.verify_and_decode(
        credential=answer["id_token"],
        keys_url=f"{linkedin.oauth_url}/openid/jwks",
        issuer=linkedin.oauth_url,
        audience=["app-id"],
        lookup_kid=jwtkit.lookup_kid_jwk,
    )
    assert claims["sub"] == answer["sub"]


def test_runs_as_a_program_with_the_demo_client():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.linkedin_api", "--port", str(port), "--demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def token():
            try:
                return requests.post(
                    f"http://127.0.0.1:{port}/_fake/token", json={"name": "Lea"}, timeout=1
                )
            except requests.ConnectionError:
                return None

        answer = wait_for(token, timeout=15, what="the fake LinkedIn to listen").json()
        claims = json.loads(_b64(answer["id_token"].split(".")[1]))
        assert claims["aud"] == DEMO_CLIENT_ID
        assert claims["iss"] == f"http://127.0.0.1:{port}/oauth"
    finally:
        process.kill()
        process.wait(timeout=5)

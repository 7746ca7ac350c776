"""The identity providers the SSO tests start on loopback, and the steps a person takes on
their sign-in pages.

- OpenID Connect: node-oidc-provider (tests/sso/idp/oidc.mjs), installed with `npm ci` from
  the committed lockfile the first time it is needed.
- SAML 2.0: pysaml2's IdP (saml2.server.Server) behind a small WSGI app (tests/sso/saml_idp.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

IDP_DIR = Path(__file__).resolve().parent / "idp"
START_DEADLINE_SECONDS = 20
NPM_DEADLINE_SECONDS = 300

# Who can sign in at the test OpenID provider: login -> claims.
OIDC_ACCOUNTS: dict[str, dict[str, Any]] = {
    "claire": {
        "email": "claire.martin@acme.test",
        "email_verified": True,
        "given_name": "Claire",
        "family_name": "Martin",
        "locale": "en-GB",
        "department": "Pharmacovigilance",
        "groups": ["comms-team"],
    },
    "dora": {
        "email": "dora@acme.test",
        "email_verified": True,
        "given_name": "Dora",
        "family_name": "Durand",
        "locale": "fr-FR",
    },
    "dora-unverified": {
        "email": "dora@acme.test",
        "email_verified": False,
        "given_name": "Dora",
        "family_name": "Durand",
    },
    "stranger": {
        "email": "someone@elsewhere.test",
        "email_verified": True,
        "given_name": "Sam",
        "family_name": "Stranger",
    },
    # Two "@": the part after the last one is a verified domain, the address is not valid.
    "forged": {
        "email": "x@evil.test@acme.test",
        "email_verified": True,
        "given_name": "Forged",
        "family_name": "Address",
    },
    "ada": {
        "email": "ada@acme.test",
        "email_verified": True,
        "given_name": "Ada",
        "family_name": "Admin",
    },
}
OIDC_CLIENT_ID = "portevoix-acme"
OIDC_CLIENT_SECRET = "a-long-client-secret-for-the-tests-0123456789"


def _npm_ci() -> None:
    """node_modules from the lockfile, once per machine (a lock serialises test workers)."""
    if (IDP_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: the SSO tests need Node.js and npm (.ci/run installs them).")
    with open(Path(tempfile.gettempdir()) / "portevoix-sso-npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (IDP_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=IDP_DIR,
                check=True,
                timeout=NPM_DEADLINE_SECONDS,
                capture_output=True,
            )


@dataclass
class OidcIdp:
    issuer: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def oidc_idp_start(redirect_uris: list[str]) -> OidcIdp:
    _npm_ci()
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: the SSO tests need Node.js (.ci/run installs it).")
    env = {
        **os.environ,
        "OIDC_CLIENTS": json.dumps(
            [
                {
                    "client_id": OIDC_CLIENT_ID,
                    "client_secret": OIDC_CLIENT_SECRET,
                    "redirect_uris": redirect_uris,
                }
            ]
        ),
        "OIDC_ACCOUNTS": json.dumps(OIDC_ACCOUNTS),
        "NODE_ENV": "test",
    }
    process = subprocess.Popen(
        [node, "oidc.mjs"],
        cwd=IDP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    poller = selectors.DefaultSelector()
    poller.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if poller.select(timeout=0.2):
            line = process.stdout.readline()
            if line:
                poller.close()
                return OidcIdp(issuer=json.loads(line)["issuer"], process=process)
        if process.poll() is not None:
            break
    OidcIdp("", process).stop()
    pytest.fail("The test OpenID provider (node oidc-provider) did not start.")


def _form_action(html: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert match, html[:2000]
    return unescape(match.group(1))


def oidc_idp_sign_in(authorize_url: str, login: str, *, stop_at: str) -> str:
    """A person at the OpenID provider: opens the authorisation URL, signs in as `login`,
    and is sent back. Returns the URL of the way back (to our callback), not followed."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:2000]
    response = browser.post(
        urljoin(page.url, _form_action(page.text)),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    for _hop in range(10):
        location = response.headers.get("Location", "")
        assert response.status_code in (302, 303), response.text[:2000]
        target = urljoin(response.url, location)
        if target.startswith(stop_at):
            return target
        response = browser.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("the OpenID provider never sent the person back")

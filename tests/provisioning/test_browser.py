"""The SCIM page in Chromium at 390 and 1280 px, in English and French: an admin creates a
token, copies it, and the page never scrolls sideways."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from organizations.models import Role
from provisioning.models import ScimToken
from tests.e2e.conftest import browser, page, screenshot  # noqa: F401  (fixtures)
from tests.factories import PASSWORD, OrganizationFactory, UserFactory
from tests.provisioning.conftest import ScimClient, new_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
WIDTHS = (390, 1280)
# Where the screenshots are also copied, when set (to look at them outside the run).
SHOTS = os.environ.get("SCIM_SHOTS_DIR", "")


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=True)


def _sign_in(page, user) -> None:  # noqa: F811
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state()


def _shot(page, name: str) -> None:  # noqa: F811
    path = screenshot(page, name)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(SHOTS, path.name))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_admin_creates_a_token_and_sees_the_setup(page, live_server, language):  # noqa: F811
    organization = OrganizationFactory(name="Acme Santé", default_language=language)
    admin = UserFactory(
        organization=organization, role=Role.ORG_ADMIN, email="ada@acme.test", language=language
    )
    _sign_in(page, admin)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/admin/scim/")
    expect(page.locator("[data-scim-base-url]")).to_have_text(f"{live_server.url}/scim/v2/")
    _shot(page, f"scim-admin-empty-{language}-390")

    page.fill("input[name=name]", "Microsoft Entra ID")
    page.locator("form button[type=submit]").last.click()
    secret = page.locator("[data-scim-secret]")
    expect(secret).to_be_visible()
    raw = secret.inner_text().strip()
    token = ScimToken.objects.get(organization=organization)
    assert raw.startswith(token.prefix)
    # The identity provider uses it: the event shows on the page.
    assert ScimClient(raw).post("/Users", new_user()).status_code == 201
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/scim/")
        expect(page.locator("[data-scim-secret]")).to_have_count(0)
        expect(page.locator("[data-action='scim.user_created']")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, f"scim-admin-{language}-{width}")

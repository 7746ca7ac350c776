"""An employee connects LinkedIn through the real OAuth flow against the loopback fake of
LinkedIn, shares a post that Portevoix publishes through the real LinkedIn adapter, sees it
published with its link in My shares, and the communications team's withdrawal deletes the
post on the fake."""

from __future__ import annotations

import os
import re

import pytest

from advocacy.models import Share, ShareMode, ShareStatus
from advocacy.ratelimit import rate_limit_reset
from config.celery import app as celery_app
from content.models import ContentStatus, Network
from organizations.models import Role
from tests.advocacy.conftest import LINKEDIN_CLIENT, network_app
from tests.advocacy.workers import wait_for
from tests.content.factories import CaptionFactory, ContentFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory
from tests.fakes.linkedin_api import FakeLinkedIn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def linkedin(settings):
    """The fake LinkedIn on a free port, with the organisation's app registered there; the
    live server runs in this process, so the settings below are the ones it reads."""
    fake = FakeLinkedIn().start()
    fake.register_client(*LINKEDIN_CLIENT)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    settings.LINKEDIN_API_BASE_URL = fake.url
    settings.LINKEDIN_OAUTH_BASE_URL = fake.oauth_url
    settings.RATE_LIMIT_KEY_PREFIX = f"e2e-ratelimit-{worker}"
    settings.CLICK_STREAM_KEY = f"e2e-clicks-{worker}"
    rate_limit_reset()
    # The live server runs the publish and delete tasks in-process; the pipeline's own
    # tests use real workers.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield fake
    celery_app.conf.task_always_eager = eager
    fake.stop()
    rate_limit_reset()


def _sign_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def test_employee_connects_linkedin_shares_for_real_and_the_recall_deletes_it(
    page, live_server, linkedin, settings
):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    team = TeamFactory(organization=organization, name="Sales")
    employee = UserFactory(
        email="ambassador@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language="en",
        teams=[team],
    )
    editor = UserFactory(
        email="comms@example.test",
        organization=organization,
        role=Role.EDITOR,
        language="en",
        teams=[team],
    )
    network_app(organization, "linkedin")
    content = ContentFactory(
        organization=organization,
        author=editor,
        title="Our new Lyon site",
        kind="link",
        link_url="https://www.example.org/lyon",
    )
    CaptionFactory(content=content, network=Network.LINKEDIN, text="Proud of the Lyon team!")

    # Connect LinkedIn: our page, the network's consent page, back to ours.
    _sign_in(page, employee.email)
    page.goto("/networks/")
    card = page.locator("[data-network=linkedin]")
    card.get_by_role("button", name="Connect LinkedIn", exact=True).click()
    page.wait_for_url(f"{linkedin.oauth_url}/v2/authorization?*")
    assert page.title() == "LinkedIn — Allow access"
    page.fill("input[name=name]", "Camille Martin")
    page.get_by_role("button", name="Allow", exact=True).click()
    page.wait_for_url(f"{live_server.url}/networks/")
    card.locator(".badge-ok").wait_for()
    assert "Camille Martin" in card.inner_text()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"networks-linkedin-connected-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    [member] = [m for m in linkedin.state.members.values() if m.name == "Camille Martin"]

    # Share it on LinkedIn, posted for me, now.
    page.goto(f"/share/{content.pk}/")
    assert page.is_checked("input[name=networks][value=linkedin]")
    assert page.input_value("select[name=mode_linkedin]") == "api"
    assert "Post for me as Camille Martin" in page.inner_text("select[name=mode_linkedin]")
    page.get_by_role("button", name="Share", exact=True).click()
    page.wait_for_url("**/shares/")
    row = page.locator("tr", has_text="Our new Lyon site")
    row.locator("[data-status=published]").wait_for()
    share = Share.objects.get(content=content)
    assert share.mode == ShareMode.API and share.status == ShareStatus.PUBLISHED
    [post] = linkedin.live_posts()
    assert share.external_id == post.urn
    assert post.author == member.urn
    assert post.commentary.startswith("Proud of the Lyon team")
    code = share.tracked_link.code
    assert post.content["article"]["source"] == f"{settings.SITE_URL}/s/{code}"
    link = row.get_by_role("link", name="See the post")
    assert link.get_attribute("href") == f"https://www.linkedin.com/feed/update/{post.urn}/"
    assert re.fullmatch(r"urn:li:share:\d{19}", post.urn)

    # The communications team withdraws the content: the post is deleted on LinkedIn.
    _sign_in(page, editor.email)
    page.goto(f"/content/{content.pk}/")
    page.get_by_text("Withdraw (crisis)").click()
    page.fill("#id_reason", "Wrong opening date")
    page.get_by_role("button", name="Withdraw now").click()
    page.locator(".messages").get_by_text("Withdrawn. Employees no longer see it.").wait_for()
    content.refresh_from_db()
    assert content.status == ContentStatus.WITHDRAWN
    wait_for(lambda: not linkedin.live_posts(), timeout=15, what="the post deleted on the fake")
    assert linkedin.post(post.urn).deleted_at is not None
    deletes = [r for r in linkedin.requests_log if r.method == "DELETE"]
    assert [(r.path, r.status) for r in deletes] == [
        (f"/rest/posts/{post.urn.replace(':', '%3A')}", 204)
    ]

    # The employee sees it deleted in My shares.
    _sign_in(page, employee.email)
    page.goto("/shares/")
    page.locator("tr", has_text="Our new Lyon site").locator("[data-status=recalled]").wait_for()
    share.refresh_from_db()
    assert share.status == ShareStatus.RECALLED

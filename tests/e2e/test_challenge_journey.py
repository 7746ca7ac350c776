"""An employee inside a running challenge shares a post by share link, confirms "I posted
it", and sees their progress bar and rank move on the challenge page."""

from __future__ import annotations

import pytest

from challenges.models import ChallengeMetric
from content.models import Network
from organizations.models import Role
from tests.challenges.challenge_factories import make_challenge
from tests.challenges.conftest import make_share, publish
from tests.content.factories import CaptionFactory, ContentFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sharing_inside_a_challenge_moves_my_progress_and_rank(page):
    organization = OrganizationFactory(name="Acme Santé", default_language="en")
    team = TeamFactory(organization=organization, name="Sales")
    employee = UserFactory(
        email="ambassador@example.test",
        organization=organization,
        role=Role.EMPLOYEE,
        language="en",
        teams=[team],
    )
    leader = UserFactory(
        organization=organization, first_name="Lea", last_name="Leader", teams=[team]
    )
    runner_up = UserFactory(
        organization=organization, first_name="Remy", last_name="Runner", teams=[team]
    )
    for _ in range(2):
        publish(make_share(leader))
    publish(make_share(runner_up))
    challenge = make_challenge(
        organization,
        title="Launch month",
        metric=ChallengeMetric.SHARES,
        teams=[team],
        goal=2,
        winners_count=3,
        prize="A day off",
    )
    content = ContentFactory(
        organization=organization,
        title="We are hiring pharmacists",
        kind="link",
        link_url="https://www.example.org/jobs",
    )
    CaptionFactory(content=content, network=Network.FACEBOOK, text="Join us!")

    page.goto("/accounts/login/")
    page.fill("input[name=login]", employee.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")

    page.goto("/challenges/")
    page.get_by_role("link", name="Launch month").click()
    page.wait_for_url(f"**/challenges/{challenge.pk}/")
    progress = page.locator("#my-progress")
    assert progress.get_attribute("data-value") == "0"
    assert "not ranked yet" in progress.inner_text()
    assert progress.locator("progress").get_attribute("value") == "0"
    ranking = page.locator("table.challenge-ranking tbody tr")
    assert ranking.count() == 2 and "Lea Leader" in ranking.nth(0).inner_text()
    screenshot(page, "challenge-before")

    # Share by Facebook share link, then confirm it was posted.
    page.goto(f"/share/{content.pk}/")
    page.check("input[name=networks][value=facebook]")
    page.get_by_role("button", name="Share", exact=True).click()
    page.wait_for_url("**/shares/")
    row = page.locator("tr", has_text="We are hiring pharmacists")
    row.get_by_role("button", name="I posted it").click()
    page.wait_for_url("**/shares/")
    page.locator("tr", has_text="We are hiring pharmacists").locator(
        "[data-status=published]"
    ).wait_for()

    page.goto(f"/challenges/{challenge.pk}/")
    progress = page.locator("#my-progress")
    assert progress.get_attribute("data-value") == "1"
    # Tied with the runner-up: both second.
    assert progress.get_attribute("data-rank") == "2"
    assert progress.locator("progress").get_attribute("value") == "50"
    me_row = page.locator("table.challenge-ranking tr.is-me")
    assert me_row.locator("td").nth(0).inner_text().strip() == "2"
    assert page.locator("#team-progress").is_visible()
    screenshot(page, "challenge-after")

"""The comms desk at a laptop's and a phone's width, in French and in English: the library,
the calendar's month and week and the review queue never scroll sideways, the month shows
its seven weekdays on screen, and the filter button keeps its label on one line."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from content.models import ContentKind, ContentStatus
from organizations.models import Role
from tests.content.factories import ContentFactory, TopicFactory
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, OrganizationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"wide": (1280, 900), "phone": (390, 844)}
PAGES = {
    "library": "/library/",
    "calendar-month": "/library/calendar/",
    "calendar-week": "/library/calendar/?view=week",
}

# One line of text: all of an element's text boxes share a top edge.
LINES_OF_TEXT = """(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
    .map((r) => Math.round(r.top)));
  return tops.size;
}"""


def _sign_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")


def _no_sideways_scroll(page, where: str) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner, f"{where}: the page is {scroll} px wide in a {inner} px window"


def _desk_content(organization, editor) -> None:
    """A busy month: long titles, a crowded day, every state, in the organisation's days."""
    topic = TopicFactory(organization=organization, name="Responsabilité sociétale")
    zone = ZoneInfo(organization.time_zone)
    noon = datetime.combine(timezone.localdate(timezone=zone), time(12, 0), tzinfo=zone)
    for hour in range(5):  # a crowded day: three chips and "+2 more"
        ContentFactory(
            organization=organization,
            author=editor,
            title=f"Annonce importante numéro {hour} sur notre nouveau site de production",
            publish_at=noon + timedelta(hours=hour - 2),
            topics=[topic],
        )
    ContentFactory(
        organization=organization,
        author=editor,
        title="Unmotsanslaissedespacepourvoirsilacolonnetientdanslapage" * 2,
        status=ContentStatus.IN_REVIEW,
        kind=ContentKind.LINK,
        link_url="https://example.org/",
        publish_at=noon + timedelta(days=1),
    )
    ContentFactory(
        organization=organization,
        author=editor,
        title="Brouillon de la lettre interne",
        status=ContentStatus.DRAFT,
        publish_at=noon + timedelta(days=2),
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_comms_desk_fits_a_laptop_and_a_phone(page, language):
    with translation.override(language):
        filter_label = gettext("Filter")
    organization = OrganizationFactory(name="Santéa", default_language=language)
    team = TeamFactory(organization=organization, name="Communication")
    editor, reviewer = (
        UserFactory(
            email=f"{role}-desk-{language}@example.test",
            organization=organization,
            role=role,
            language=language,
            teams=[team],
        )
        for role in (Role.EDITOR, Role.REVIEWER)
    )
    _desk_content(organization, editor)

    _sign_in(page, editor.email)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in PAGES.items():
            page.goto(path)
            _no_sideways_scroll(page, f"{name} at {width}")
            screenshot(page, f"comms-desk-{name}-{language}-{width}")
            if name == "library":
                button = page.locator(".desk-filters button[type=submit]")
                assert button.inner_text().strip() == filter_label
                assert button.evaluate(LINES_OF_TEXT) == 1, "the filter button's label wraps"
                assert page.locator(".desk-library tbody tr").count() == 7
            if name == "calendar-month" and size == "wide":
                headers = page.locator(".cal-month thead th")
                assert headers.count() == 7
                for index in range(7):
                    box = headers.nth(index).bounding_box()
                    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                assert page.locator(".cal-month td[aria-current=date]").count() == 1
                assert page.locator(".cal-month .cal-more").count() == 1
            if name == "calendar-month" and size == "phone":
                assert page.locator(".cal-month").is_hidden()
                assert page.locator(".cal-agenda-day").count() >= 1
            if name == "calendar-week":
                assert page.locator(".cal-week-day").count() == 7

    _sign_in(page, reviewer.email)
    for _size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/review/")
        _no_sideways_scroll(page, f"review at {width}")
        assert page.locator(".desk-review tbody tr").count() == 1
        assert page.locator(".desk-review a[href$='#decision']").is_visible()
        screenshot(page, f"comms-desk-review-{language}-{width}")

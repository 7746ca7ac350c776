"""Every page of the organisation admin, the reviewer and the compliance officer, in both languages, at both widths:
the other half of tests/e2e/test_every_page.py (which says what is checked), in a module
of its own so that a second test worker walks it."""

from __future__ import annotations

import pytest

from tests.e2e.test_every_page import HERE_ROLES as OTHER_ROLES
from tests.e2e.test_every_page import (  # noqa: F401 - demo_site is this module's fixture
    LANGUAGES,
    ROLES,
    WIDTHS,
    DemoSite,
    demo_site,
    every_page_case,
)

pytestmark = [pytest.mark.e2e, pytest.mark.every_page, pytest.mark.django_db]

HERE_ROLES = tuple(role for role in ROLES if role not in OTHER_ROLES)


def test_the_two_modules_walk_every_role_once():
    assert sorted(HERE_ROLES + OTHER_ROLES) == sorted(ROLES)
    assert set(HERE_ROLES) == {"org-admin", "reviewer", "compliance"}


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", HERE_ROLES)
def test_every_page(browser, demo_site: DemoSite, role, language, width):  # noqa: F811
    every_page_case(browser, demo_site, role, language, width)

"""Every page of every role, in both languages, at both widths (issue 13).

On the demo organisation (`seed_demo`, seeded once for this module at the fixed moment
`tests.conftest.DEMO_MOMENT`), each test case is one (role, language, width): the demo
person of that role reads the app in that language in a Chromium window of that size and
visits every page they can reach (found by `tests/e2e/pages.py` from the URL conf, the
navigation registry and the links of those pages). On each page it checks:

- status: the page answers below 400;
- console: no console message of type "error" (which includes resources that fail to
  load and scripts or styles the CSP refuses) and no uncaught exception;
- overflow: no horizontal scroll (`documentElement.scrollWidth <= innerWidth`);
- axe (on the French pages, the markup being the same in English): axe-core (vendored in
  tests/e2e/vendor) finds no "serious" or "critical" violation of the WCAG 2.0/2.1 A and
  AA rules;
- untranslated: no visible text (text nodes, and the placeholder, aria-label, title, alt
  and button value attributes) equals, after whitespace normalisation, an English source
  string of the French catalogue on a French page, or a French translation on an English
  page (see tests/e2e/catalogue.py for what is left out: short strings, proper names,
  strings the same in both languages, strings with placeholders). Text written by people
  (a post's title, a team's name: any value of a text column in the database) is data, not
  interface, and is ignored; so is anything inside an element marked `translate="no"`,
  `data-i18n-exempt`, or `lang` in another language (the language switch's "English").

Each case collects every failure of every page and reports them all in one assertion
message, and writes them to test-artifacts/every-page/<case>.json; a full-page screenshot
of each failing visit (of every visit with EVERY_PAGE_SCREENSHOTS=all) goes to
test-artifacts/screenshots/pages/<role>-<lang>-<width>-<slug>.jpg.

About 780 visits: some 5 minutes on two shared cores (the seed ~40 s, then 20-70 s a
case). Deselect it alone with `-m "not every_page"` (or the whole browser suite with
`-m "not e2e"`); run one case with e.g. `-k "manager-fr-390"`.

The browser context enforces the app's CSP, so that a refused inline script or style shows
up as a console error; axe is therefore evaluated through Playwright (a DevTools
evaluation, which the page's CSP does not govern) rather than added as a <script> tag."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.test.utils import override_settings
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pytest_django.live_server_helper import LiveServer

from organizations.management.commands.seed_demo import DEMO_PASSWORD
from organizations.models import Organization, User
from tests.conftest import DEMO_MOMENT
from tests.e2e.catalogue import french_catalogue, normalise
from tests.e2e.conftest import ROOT, SCREENSHOTS
from tests.e2e.pages import PROJECT_APPS, Page, pages_for

# The `django_db` mark makes pytest-django create the test database; the demo itself is
# committed by `demo_site`, outside any test's transaction.
pytestmark = [pytest.mark.e2e, pytest.mark.every_page, pytest.mark.django_db]

ROLES = {
    "employee": "employee",
    "reviewer": "reviewer",
    "comms": "comms",
    "manager": "manager",
    "org-admin": "admin",
    "compliance": "compliance",
}
# Roles that see what the employee sees plus pages of their own: only those are walked for
# them (the employee's are walked already).
EMPLOYEE_PLUS = ("compliance",)
LANGUAGES = ("fr", "en")
# The markup, roles, labels and colours are the same in both languages: axe runs on every
# page of every role at both widths in French (the organisations' default), and the
# English pages are checked for everything else. Halves the file's longest step.
AXE_LANGUAGES = ("fr",)
WIDTHS = {1280: 900, 390: 844}
ALL_SCREENSHOTS = os.environ.get("EVERY_PAGE_SCREENSHOTS") == "all"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
RESULTS = ROOT / "test-artifacts" / "every-page"
PAGE_SCREENSHOTS = SCREENSHOTS / "pages"
# The marker a template can put on an element whose text is deliberately not translated.
EXEMPT_ATTRIBUTE = "data-i18n-exempt"


@dataclass
class DemoSite:
    url: str
    users: dict[str, User]
    pages: dict[str, list[Page]]
    data_strings: frozenset[str]


def _data_strings() -> frozenset[str]:
    """Every value of a free-text column of the project's tables: what people wrote."""
    values: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
        ]
        for field_name in fields:
            for value in model._default_manager.values_list(field_name, flat=True).distinct():
                if value and 4 <= len(value) <= 2000:
                    values.add(normalise(value))
    return frozenset(values)


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[DemoSite]:
    """The demo, seeded and committed once for the module, served by a live server of the
    module's own. pytest-django's `live_server` would bring `transactional_db`, which empties
    the database after every test: the 30-second seed would then run for every case."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    media = tmp_path_factory.mktemp("every-page-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            # tests/conftest.py's autouse fixture sets this for every test: seed under it.
            LEADERBOARD_KEY_PREFIX=f"test-leaderboard-{worker}",
        ),
    ):
        try:
            # Seeded with the clock stopped (the demo is dated from "now"), browsed with it
            # running from the same moment: the demo never depends on today's date.
            with time_machine.travel(DEMO_MOMENT, tick=False):
                call_command("seed_demo", stdout=io.StringIO())
            with time_machine.travel(DEMO_MOMENT, tick=True):
                organization = Organization.objects.get(slug="demo")
                users = {
                    role: User.objects.get(
                        organization=organization, email=f"{login}@demo.portevoix.test"
                    )
                    for role, login in ROLES.items()
                }
                pages = {role: pages_for(user) for role, user in users.items()}
                walked = {page.route for page in pages["employee"]}
                for role in EMPLOYEE_PLUS:
                    pages[role] = [page for page in pages[role] if page.route not in walked]
                server = LiveServer("localhost")
                server._live_server_modified_settings.enable()
                try:
                    yield DemoSite(server.url, users, pages, _data_strings())
                finally:
                    server._live_server_modified_settings.disable()
                    server.stop()
        finally:
            # Leave the database as empty as the next test expects it.
            call_command("flush", interactive=False, verbosity=0)


# Runs in the page: the visible texts, each with the tag of its element.
COLLECT_TEXTS = """(exempt) => {
  const pageLang = (document.documentElement.lang || "").split("-")[0];
  const SKIPPED = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "CODE", "PRE"]);
  const ATTRIBUTES = ["placeholder", "aria-label", "title", "alt"];
  const out = [];
  const otherLanguage = (el) => {
    const holder = el.closest("[lang]");
    return holder && holder.getAttribute("lang").split("-")[0] !== pageLang;
  };
  const shown = (el) => {
    const target = (el.tagName === "OPTION" || el.tagName === "OPTGROUP")
      ? (el.closest("select") || el) : el;
    return target.checkVisibility({visibilityProperty: true});
  };
  const walker = document.createTreeWalker(
    document.body,
    NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT,
    {acceptNode(node) {
      if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      const el = node;
      if (SKIPPED.has(el.tagName) || el.getAttribute("translate") === "no"
          || el.hasAttribute(exempt) || otherLanguage(el)) return NodeFilter.FILTER_REJECT;
      if (!(el.tagName === "OPTION" || el.tagName === "OPTGROUP") && !el.checkVisibility())
        return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_ACCEPT;
    }},
  );
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      const parent = node.parentElement;
      if (parent && node.data.trim() && shown(parent)) out.push([parent.tagName, node.data]);
      continue;
    }
    if (!shown(node)) continue;
    for (const name of ATTRIBUTES) {
      const value = node.getAttribute(name);
      if (value && value.trim()) out.push([`${node.tagName}@${name}`, value]);
    }
    if (node.tagName === "INPUT" && ["submit", "button", "reset"].includes(node.type) && node.value)
      out.push(["INPUT@value", node.value]);
  }
  return out;
}"""

SETTLED = """() => document.readyState === "complete"
  && !document.querySelector(".htmx-request")"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


def _untranslated(
    texts: list[list[str]], language: str, data_strings: frozenset[str]
) -> tuple[list[str], list[str]]:
    catalogue = french_catalogue()
    # On a French page the English sources must not show, and the reverse.
    wrong = catalogue.english if language == "fr" else catalogue.french
    found: dict[str, None] = {}
    ignored: dict[str, None] = {}
    for where, raw in texts:
        text = normalise(raw)
        if text not in wrong:
            continue
        label = f"{text!r} ({where.lower()})"
        if text in data_strings:
            ignored[label] = None
        else:
            expected = wrong[text]
            found[f"{label} → {expected!r}" if expected else f"{label} (no translation)"] = None
    return list(found), list(ignored)


def _check_page(page: Any, site: DemoSite, target: Page, language: str, shot: Path) -> dict:
    console: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            console.append(f"{message.text} [{where}]" if where else message.text)

    def on_page_error(error: Any) -> None:
        console.append(f"uncaught: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    report: dict[str, Any] = {"page": target.slug, "path": target.path}
    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(step: str) -> None:
        timings[step] = round(time.monotonic() - started - sum(timings.values()), 2)

    try:
        response = page.goto(target.path, wait_until="load")
        status = response.status if response else 0
        report["status"] = status
        if response is None or status >= 400:
            report["failures"] = {"status": [f"HTTP {status}"]}
            return report
        lap("load")
        # Let any htmx request under way finish (waiting for the network to idle costs half
        # a second a page, and a page that polls never idles).
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(SETTLED, timeout=5_000)
        lap("idle")
        failures: dict[str, list[str]] = {}
        sizes = page.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
        )
        if sizes["scroll"] > sizes["inner"]:
            failures["overflow"] = [f"scrollWidth {sizes['scroll']} > innerWidth {sizes['inner']}"]
        texts = page.evaluate(COLLECT_TEXTS, EXEMPT_ATTRIBUTE)
        report["texts"] = len(texts)
        # A page written in another language on purpose (the lobby screen's preview speaks
        # the organisation's language) is checked against that language.
        declared = (page.evaluate("document.documentElement.lang") or language).split("-")[0]
        untranslated, ignored = _untranslated(
            texts, declared if declared in LANGUAGES else language, site.data_strings
        )
        lap("texts")
        if untranslated:
            failures["untranslated"] = untranslated
        if ignored:
            report["ignored_as_data"] = ignored
        if language in AXE_LANGUAGES:
            page.evaluate(AXE.read_text(encoding="utf-8"))
            violations = page.evaluate(RUN_AXE, AXE_TAGS)
            lap("axe")
            serious = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
            if serious:
                failures["axe"] = [
                    f"{v['id']} ({v['impact']}, {v['count']} node(s)): {v['help']} — "
                    + "; ".join(v["targets"])
                    for v in serious
                ]
            report["axe_minor"] = [
                f"{v['id']} ({v['impact']})" for v in violations if v not in serious
            ]
        # JPEG: a long page's PNG took a second to encode; these are for looking at. A
        # quarter of the test's time went to them: taken for the pages that fail, and for
        # every page with EVERY_PAGE_SCREENSHOTS=all (to look at the whole app).
        if failures or console or ALL_SCREENSHOTS:
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=70)
            lap("screenshot")
        report["seconds"] = timings
        if console:
            failures["console"] = list(dict.fromkeys(console))
        report["failures"] = failures
        return report
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_page_error)


def _sign_in(page: Any, email: str, language: str) -> None:
    """Through the pages, like a person: the live server writes the session and the
    language itself, so this test writes nothing to the database from its own thread
    (whose writes the `django_db` mark keeps in a transaction the server cannot see)."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url("**/feed/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        "/language/",
        form={"language": language, "next": "/feed/"},
        headers={"X-CSRFToken": token},
    )
    assert answer.ok, f"the language switch answered {answer.status}"
    page.goto("/feed/")
    assert page.locator("html").get_attribute("lang") == language


# The roles are split between this module and test_every_page_admins.py (the organisation
# admin and the reviewer, the two longest walks after the manager's), so that two test
# workers share them (tests are handed out by file); each module seeds its own demo.
HERE_ROLES = ("employee", "comms", "manager")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", HERE_ROLES)
def test_every_page(browser, demo_site: DemoSite, role, language, width):
    every_page_case(browser, demo_site, role, language, width)


def every_page_case(browser: Any, demo_site: DemoSite, role: str, language: str, width: int):
    """One (role, language, width): every page of the role, each failure reported."""
    case = f"{role}-{language}-{width}"
    context = browser.new_context(
        base_url=demo_site.url,
        viewport={"width": width, "height": WIDTHS[width]},
        locale="fr-FR" if language == "fr" else "en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    _sign_in(page, demo_site.users[role].email, language)
    PAGE_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reports = []
    try:
        for target in demo_site.pages[role]:
            shot = PAGE_SCREENSHOTS / f"{case}-{target.slug}.jpg"
            reports.append(_check_page(page, demo_site, target, language, shot))
    finally:
        context.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{case}.json").write_text(
        json.dumps(reports, ensure_ascii=False, indent=2), encoding="utf-8"
    )

    assert reports, f"{role} reaches no page at all"
    # A problem of the shell shows on every page: each problem once, with its pages.
    pages_by_problem: dict[tuple[str, str], list[str]] = {}
    for report in reports:
        for kind, items in report.get("failures", {}).items():
            for item in items:
                pages_by_problem.setdefault((kind, item), []).append(report["path"])
    lines = [
        f"[{kind}] {item}\n    on {len(paths)} page(s): {' '.join(paths)}"
        for (kind, item), paths in pages_by_problem.items()
    ]
    assert not lines, (
        f"{len(lines)} problem(s) on {len(reports)} page(s) for {case} "
        f"(details: {RESULTS.relative_to(ROOT)}/{case}.json):\n" + "\n".join(lines)
    )


PO_SAMPLE = r"""msgid ""
msgstr ""
"Language: fr\n"

#: templates/a.html:1
msgid "Share now"
msgstr "Partager maintenant"

#, fuzzy
msgid "Pending approval"
msgstr "En attente"

msgid ""
"A long sentence "
"on two lines"
msgstr ""
"Une longue phrase "
"sur deux lignes"

msgid "%(n)s share"
msgid_plural "%(n)s shares"
msgstr[0] "%(n)s partage"
msgstr[1] "%(n)s partages"

msgid "Notifications"
msgstr "Notifications"

#~ msgid "Gone button"
#~ msgstr "Bouton disparu"
"""


def test_the_catalogue_reader_keeps_what_can_be_seen_untranslated(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(PO_SAMPLE, encoding="utf-8")
    catalogue = french_catalogue(po)
    assert catalogue.english == {
        "Share now": "Partager maintenant",
        "Pending approval": "En attente",  # fuzzy: Django shows the English
        "A long sentence on two lines": "Une longue phrase sur deux lignes",
    }
    # The fuzzy French is never shown, so it is not looked for on English pages.
    assert catalogue.french == {
        "Partager maintenant": "Share now",
        "Une longue phrase sur deux lignes": "A long sentence on two lines",
    }


def test_untranslated_text_is_found_and_data_is_not():
    catalogue = french_catalogue()
    source, french = next((s, f) for s, f in catalogue.english.items() if f in catalogue.french)
    texts = [["BUTTON", f"  {source}\n "], ["H1", "Un titre écrit par quelqu'un"]]
    found, ignored = _untranslated(texts, "fr", frozenset())
    assert found == [f"{source!r} (button) → {french!r}"]
    found, ignored = _untranslated(texts, "fr", frozenset({source}))
    assert (found, ignored) == ([], [f"{source!r} (button)"])
    assert _untranslated([["P", french]], "fr", frozenset()) == ([], [])
    assert _untranslated([["P", french]], "en", frozenset())[0]

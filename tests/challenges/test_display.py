"""The lobby screen and its intranet widget: the secret stored hashed and refused once
rotated, the same 404 for any wrong secret, no cookie, nobody hidden from the rankings on
the page, the data of the screen's organisation only, the widget's frame-ancestors, the
admin page (org admins only, the address shown once, audited), a fixed query count."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from challenges.display import display_origin_normalise, display_screen_issue, secret_hash
from challenges.models import ChallengeMode, ChallengeStatus, DisplayScreen
from challenges.services.points import points_hide_from_rankings
from content.models import ContentStatus
from organizations.audit import AuditLogEntry
from organizations.audit_text import audit_rows
from organizations.errors import DomainError
from organizations.models import Role
from tests.challenges.challenge_factories import give_points, make_challenge
from tests.challenges.conftest import make_share, publish
from tests.conftest import client_for
from tests.content.factories import ContentFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# A Wednesday noon in Paris: "this week" is well inside its Monday-to-Sunday bounds.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
# The screen with one running challenge: the screen, hidden people, challenges and their
# scope, participants, values, names, posts; whatever the number of people or posts.
DISPLAY_QUERIES = 12


@pytest.fixture(autouse=True)
def _english(settings, request):
    """The screen speaks the organisation's language (French by default): these tests read
    it in English unless they set French themselves."""
    settings.LANGUAGE_CODE = "en"
    if "personas" in request.fixturenames:
        personas = request.getfixturevalue("personas")
        personas.organization.default_language = "en"
        personas.organization.save(update_fields=["default_language"])


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def _screen_url(secret: str, suffix: str = "") -> str:
    return f"/display/{secret}/{suffix}"


def test_the_secret_is_stored_hashed_and_opens_the_screen(personas, clock):
    secret = display_screen_issue(actor=personas.owner)
    screen = DisplayScreen.objects.get(organization=personas.organization)
    assert len(secret) >= 40
    assert screen.secret_hash == secret_hash(secret) and secret not in screen.secret_hash
    response = Client().get(_screen_url(secret))
    assert response.status_code == 200
    assert "Acme Santé" in response.content.decode()


def test_rotation_refuses_the_old_secret_at_once(personas, clock):
    old = display_screen_issue(actor=personas.owner)
    new = display_screen_issue(actor=personas.owner)
    assert old != new
    assert DisplayScreen.objects.filter(organization=personas.organization).count() == 1
    client = Client()
    for suffix in ("", "live/", "widget/", "widget/live/"):
        assert client.get(_screen_url(old, suffix)).status_code == 404
        assert client.get(_screen_url(new, suffix)).status_code == 200
    screen = DisplayScreen.objects.get()
    assert screen.rotated_by == personas.owner and screen.rotated_at == clock


def test_unknown_and_rotated_secrets_get_the_same_answer(personas, clock):
    old = display_screen_issue(actor=personas.owner)
    display_screen_issue(actor=personas.owner)
    client = Client()
    rotated = client.get(_screen_url(old))
    unknown = client.get(_screen_url("x" * len(old)))
    assert rotated.status_code == unknown.status_code == 404
    assert rotated.content == unknown.content
    assert "no longer connected" in rotated.content.decode()
    # The partial answers 404 with a fragment that the screen swaps in (htmx config).
    partial = client.get(_screen_url(old, "live/"))
    assert partial.status_code == 404 and "<html" not in partial.content.decode()


def test_the_screen_sets_no_cookie_and_stays_out_of_caches(personas, clock):
    secret = display_screen_issue(actor=personas.owner)
    # Even a signed-in admin's browser: the screen never reads or writes the session.
    client = client_for(personas.owner)
    response = client.get(_screen_url(secret))
    assert response.status_code == 200
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    sessions = Session.objects.count()
    assert not Client().get(_screen_url(secret)).cookies
    assert Session.objects.count() == sessions


def test_people_hidden_from_rankings_never_appear(
    personas, clock, django_capture_on_commit_callbacks
):
    org = personas.organization
    shown = UserFactory(organization=org, first_name="Alice", last_name="Martin")
    hidden = UserFactory(organization=org, first_name="Zoé", last_name="Secret")
    challenge_leader = UserFactory(organization=org, first_name="Bruno", last_name="Durand")
    make_challenge(org, title="Share week", goal=3)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            publish(make_share(hidden))
        publish(make_share(challenge_leader))
    give_points(shown, 40, at=clock)
    give_points(hidden, 90, at=clock)
    points_hide_from_rankings(user=hidden, hidden=True)
    secret = display_screen_issue(actor=personas.owner)
    for suffix in ("", "live/", "widget/", "widget/live/"):
        html = Client().get(_screen_url(secret, suffix)).content.decode()
        assert "Zoé" not in html and "Secret" not in html, suffix
        assert "Alice M." in html, suffix
        # First name and initial only: no last name, no address.
        assert "Martin" not in html and shown.email not in html, suffix
    html = Client().get(_screen_url(secret)).content.decode()
    assert "Bruno D." in html and "Share week" in html
    # The hidden person's three shares still count towards "reached the goal".
    assert "1 person has reached the goal." in html


def test_the_screen_shows_its_organisation_only(personas, clock):
    org, other = personas.organization, personas.other_organization
    make_challenge(org, title="Our challenge")
    make_challenge(other, title="Their challenge")
    make_challenge(org, title="Our draft", status=ChallengeStatus.DRAFT)
    make_challenge(org, title="For one team only", teams=[personas.team])
    ContentFactory(organization=org, title="Our post", status=ContentStatus.APPROVED)
    ContentFactory(organization=other, title="Their post", status=ContentStatus.APPROVED)
    ContentFactory(organization=org, title="Our draft post", status=ContentStatus.DRAFT)
    targeted = ContentFactory(organization=org, title="Team post", status=ContentStatus.APPROVED)
    targeted.audience_teams.set([personas.team])
    give_points(personas.teammate, 10, at=clock)
    give_points(personas.outsider, 50, at=clock)
    secret = display_screen_issue(actor=personas.owner)
    display_screen_issue(actor=personas.outsider)
    html = Client().get(_screen_url(secret)).content.decode()
    assert "Our challenge" in html and "Our post" in html
    assert f'display-name">{personas.teammate.first_name}' in html
    for absent in ("Their challenge", "Their post", "Our draft", "For one team only", "Team post"):
        assert absent not in html
    # As a name on the board (a bare first name such as "Marc" is also in "March").
    assert f'display-name">{personas.outsider.first_name}' not in html
    assert "Other Corp" not in html


def test_the_screen_speaks_the_organisation_language(personas, clock):
    personas.organization.default_language = "fr"
    personas.organization.save()
    secret = display_screen_issue(actor=personas.owner)
    response = Client(headers={"accept-language": "en"}).get(_screen_url(secret))
    html = response.content.decode()
    assert '<html lang="fr"' in html and response["Content-Language"] == "fr"


def test_team_challenge_shows_teams(personas, clock, django_capture_on_commit_callbacks):
    org = personas.organization
    make_challenge(org, title="Teams race", mode=ChallengeMode.TEAM, goal=2)
    with django_capture_on_commit_callbacks(execute=True):
        publish(make_share(personas.teammate))
    secret = display_screen_issue(actor=personas.owner)
    html = Client().get(_screen_url(secret)).content.decode()
    assert "Teams race" in html and "Communication" in html


def test_the_page_refreshes_itself_at_the_configured_interval(personas, clock, settings):
    settings.DISPLAY_REFRESH_SECONDS = 7
    secret = display_screen_issue(actor=personas.owner)
    html = Client().get(_screen_url(secret)).content.decode()
    assert f'hx-get="/display/{secret}/live/"' in html
    assert 'hx-trigger="every 7s"' in html
    assert "<script>" not in html  # CSP: only script files of this origin


def test_the_query_count_does_not_grow(personas, clock, django_assert_num_queries):
    org = personas.organization
    secret = display_screen_issue(actor=personas.owner)
    make_challenge(org, title="Running", goal=5)

    def add(count: int) -> None:
        for index in range(count):
            person = UserFactory(organization=org, teams=[personas.team])
            give_points(person, 10 + index, at=clock)
            ContentFactory(organization=org, status=ContentStatus.APPROVED)

    add(2)
    client = Client()
    client.get(_screen_url(secret))  # the week's set is built once, on the first look
    with django_assert_num_queries(DISPLAY_QUERIES):
        assert client.get(_screen_url(secret)).status_code == 200
    add(12)
    client.get(_screen_url(secret))
    with django_assert_num_queries(DISPLAY_QUERIES):
        html = client.get(_screen_url(secret)).content.decode()
    assert html.count('class="display-post"') == 4


def test_widget_frame_ancestors_lists_exactly_the_origins(personas, clock):
    secret = display_screen_issue(actor=personas.owner)
    client = Client()
    response = client.get(_screen_url(secret, "widget/"))
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    screen = DisplayScreen.objects.get()
    screen.intranet_origins = ["https://intranet.acme.test", "https://portal.acme.test:8443"]
    screen.save()
    for suffix in ("widget/", "widget/live/"):
        response = client.get(_screen_url(secret, suffix))
        policy = response["Content-Security-Policy"]
        directive = re.search(r"frame-ancestors ([^;]*)", policy)
        assert directive is not None
        assert directive.group(1).split() == [
            "https://intranet.acme.test",
            "https://portal.acme.test:8443",
        ]
        # The widget is framed, so no blanket X-Frame-Options: DENY.
        assert "X-Frame-Options" not in response
    # The full screen page stays unframeable.
    page = client.get(_screen_url(secret))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Intranet.Example.com/", "https://intranet.example.com"),
        ("https://intranet.example.com:443", "https://intranet.example.com"),
        ("https://intranet.example.com:8443", "https://intranet.example.com:8443"),
        ("http://localhost:8000", "http://localhost:8000"),
    ],
)
def test_origins_are_normalised(raw, expected):
    assert display_origin_normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://intranet.example.com",
        "intranet.example.com",
        "https://intranet.example.com/home",
        "https://*.example.com",
        "https://user:pw@intranet.example.com",
        "javascript:alert(1)",
        "https://intranet.example.com;script-src *",
        "https://",
        "https://example.com:99999",
    ],
)
def test_bad_origins_are_refused(raw):
    with pytest.raises(DomainError):
        display_origin_normalise(raw)


def test_admin_page_is_for_org_admins_only(personas):
    assert client_for(personas.teammate).get("/admin/display/").status_code == 404
    assert (
        client_for(personas.teammate).post("/admin/display/", {"action": "issue"}).status_code
        == 404
    )
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    assert client_for(editor).get("/admin/display/preview/").status_code == 404
    assert Client().get("/admin/display/").status_code == 302
    assert not DisplayScreen.objects.exists()


def test_admin_creates_sees_the_address_once_rotates_and_audits(personas, clock):
    client = client_for(personas.owner)
    html = client.get("/admin/display/").content.decode()
    assert "has no lobby screen yet" in html
    response = client.post("/admin/display/", {"action": "issue"})
    html = response.content.decode()
    found = re.search(r'value="http://testserver/display/([A-Za-z0-9_-]+)/"', html)
    assert found is not None
    first = found.group(1)
    assert response["Cache-Control"] == "no-store"
    assert Client().get(_screen_url(first)).status_code == 200
    # Shown once: the next visit says the screen exists, not its address.
    html = client.get("/admin/display/").content.decode()
    assert first not in html and "Address created" in html
    response = client.post("/admin/display/", {"action": "issue"})
    second = re.search(
        r'value="http://testserver/display/([A-Za-z0-9_-]+)/"', response.content.decode()
    ).group(1)  # type: ignore[union-attr]
    assert second != first
    assert Client().get(_screen_url(first)).status_code == 404
    actions = list(
        AuditLogEntry.objects.filter(
            organization=personas.organization, action__startswith="display."
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["display.created", "display.rotated"]
    entry = AuditLogEntry.objects.filter(action="display.rotated").get()
    assert entry.actor == personas.owner and first not in str(entry.details)
    assert "new address" in audit_rows([entry])[0].sentence


def test_admin_sets_origins_with_clear_errors(personas, clock):
    client = client_for(personas.owner)
    client.post("/admin/display/", {"action": "issue"})
    response = client.post(
        "/admin/display/", {"action": "origins", "origins": "http://intranet.example.com"}
    )
    assert response.status_code == 200
    assert "must start with https://" in response.content.decode()
    assert DisplayScreen.objects.get().intranet_origins == []
    response = client.post(
        "/admin/display/",
        {
            "action": "origins",
            "origins": "https://intranet.example.com/\nhttps://INTRANET.example.com",
        },
    )
    assert DisplayScreen.objects.get().intranet_origins == ["https://intranet.example.com"]
    entry = AuditLogEntry.objects.get(action="display.origins_changed")
    assert entry.details == {"origins": ["https://intranet.example.com"]}
    assert "intranet sites" in audit_rows([entry])[0].sentence


def test_origins_need_a_screen(personas):
    response = client_for(personas.owner).post(
        "/admin/display/", {"action": "origins", "origins": "https://intranet.example.com"}
    )
    assert response.status_code == 200
    assert "Create the screen first." in response.content.decode()


def test_admin_preview_shows_the_screen_without_polling(personas, clock):
    ContentFactory(
        organization=personas.organization, title="Our post", status=ContentStatus.APPROVED
    )
    response = client_for(personas.owner).get("/admin/display/preview/")
    html = response.content.decode()
    assert response.status_code == 200 and "Our post" in html and "hx-get" not in html
    # Another organisation's admin previews their own screen only.
    assert (
        "Our post"
        not in client_for(personas.outsider).get("/admin/display/preview/").content.decode()
    )


def test_only_safe_methods(personas, clock):
    secret = display_screen_issue(actor=personas.owner)
    assert Client().post(_screen_url(secret)).status_code == 405


def test_ended_challenge_is_not_running(personas, clock):
    make_challenge(
        personas.organization,
        title="Last month",
        status=ChallengeStatus.ENDED,
        starts_at=timezone.now() - timedelta(days=40),
        ends_at=timezone.now() - timedelta(days=10),
    )
    secret = display_screen_issue(actor=personas.owner)
    html = Client().get(_screen_url(secret)).content.decode()
    assert "Last month" not in html and "No challenge is running right now." in html

"""The employees' feed: only what is live, for the right audience and organisation, in the
right order; filters, full-text search, "new since your last visit", caption rotation and
a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from content import selectors, services
from content.models import Content, ContentStatus, Network
from organizations.models import Organization, Role, Team, TeamKind, User
from tests.content.factories import CaptionFactory, ContentFactory, TopicFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Org:
    organization: Organization
    sales: Team
    sales_paris: Team
    hospital: Team
    medical: Team
    pharmacovigilance: Team
    editor: User
    rep: User  # Sales > Paris > Hospital, reads English
    medic: User  # Medical Affairs > Pharmacovigilance, reads French
    loner: User  # in no team


@pytest.fixture
def org(db) -> Org:
    organization = OrganizationFactory(name="Santéa", slug="santea")

    def team(name: str, kind: str, parent: Team | None = None) -> Team:
        return TeamFactory(organization=organization, name=name, kind=kind, parent=parent)

    sales = team("Sales", TeamKind.DEPARTMENT)
    sales_paris = team("Paris", TeamKind.SITE, sales)
    hospital = team("Hospital", TeamKind.TEAM, sales_paris)
    medical = team("Medical Affairs", TeamKind.DEPARTMENT)
    pharmacovigilance = team("Pharmacovigilance", TeamKind.TEAM, team("Paris", "site", medical))
    return Org(
        organization=organization,
        sales=sales,
        sales_paris=sales_paris,
        hospital=hospital,
        medical=medical,
        pharmacovigilance=pharmacovigilance,
        editor=UserFactory(organization=organization, role=Role.EDITOR),
        rep=UserFactory(organization=organization, teams=[hospital], language="en"),
        medic=UserFactory(organization=organization, teams=[pharmacovigilance], language="fr"),
        loner=UserFactory(organization=organization, language="fr"),
    )


def content(org: Org, **values) -> Content:
    values.setdefault("organization", org.organization)
    values.setdefault("author", org.editor)
    return ContentFactory(**values)


def titles(user: User, **filters) -> list[str]:
    return [item.title for item in selectors.feed_list(user, **filters)]


def ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def ahead(**delta) -> datetime:
    return timezone.now() + timedelta(**delta)


# --- What is live ------------------------------------------------------------------------


def test_only_approved_published_unexpired_content_is_in_the_feed(org):
    content(org, title="live", publish_at=ago(days=1))
    content(org, title="live until tomorrow", publish_at=ago(days=1), expires_at=ahead(days=1))
    content(org, title="scheduled", publish_at=ahead(hours=1))
    content(org, title="expired", publish_at=ago(days=3), expires_at=ago(minutes=1))
    content(org, title="draft", status=ContentStatus.DRAFT, publish_at=ago(days=1))
    content(org, title="in review", status=ContentStatus.IN_REVIEW, publish_at=ago(days=1))
    content(org, title="withdrawn", status=ContentStatus.WITHDRAWN, publish_at=ago(days=1))

    assert set(titles(org.medic)) == {"live", "live until tomorrow"}
    assert set(selectors.feed_queryset(org.medic).values_list("title", flat=True)) == {
        "live",
        "live until tomorrow",
    }


def test_scheduled_content_appears_when_its_time_comes(org):
    content(org, title="scheduled", publish_at=ahead(hours=2), expires_at=ahead(days=2))
    assert titles(org.medic) == []
    with time_machine.travel(ahead(hours=3), tick=False):
        assert titles(org.medic) == ["scheduled"]
    with time_machine.travel(ahead(days=3), tick=False):
        assert titles(org.medic) == []


def test_another_organisations_content_never_appears(org):
    other = OrganizationFactory(slug="other")
    ContentFactory(organization=other, title="theirs", publish_at=ago(hours=1))
    content(org, title="ours")
    for user in (org.rep, org.medic, org.loner):
        assert titles(user) == ["ours"]
    outsider = UserFactory(organization=other)
    assert titles(outsider) == ["theirs"]
    assert titles(outsider, q="ours") == []


# --- Audience ----------------------------------------------------------------------------


def test_content_for_a_department_reaches_its_sub_teams_only(org):
    content(org, title="for sales", audience_teams=[org.sales])
    content(org, title="for medical", audience_teams=[org.medical])
    content(org, title="for sales paris", audience_teams=[org.sales_paris])
    content(org, title="for everyone")

    assert set(titles(org.rep)) == {"for sales", "for sales paris", "for everyone"}
    assert set(titles(org.medic)) == {"for medical", "for everyone"}
    assert set(titles(org.loner)) == {"for everyone"}


def test_content_for_several_teams_reaches_each_of_them_once(org):
    content(org, title="both", audience_teams=[org.hospital, org.pharmacovigilance])
    assert titles(org.rep) == ["both"]
    assert titles(org.medic) == ["both"]
    assert titles(org.loner) == []


def test_content_for_a_sub_team_does_not_reach_the_department(org):
    sales_head = UserFactory(organization=org.organization, teams=[org.sales])
    content(org, title="for hospital", audience_teams=[org.hospital])
    assert titles(org.rep) == ["for hospital"]
    assert titles(sales_head) == []


# --- Order and filters -------------------------------------------------------------------


def test_pinned_first_then_the_users_language_then_the_newest(org):
    content(org, title="fr new", language="fr", publish_at=ago(hours=1))
    content(org, title="fr old", language="fr", publish_at=ago(days=2))
    content(org, title="en new", language="en", publish_at=ago(hours=2))
    content(org, title="en old", language="en", publish_at=ago(days=3))
    content(org, title="pinned fr", language="fr", publish_at=ago(days=9), pinned=True)

    assert titles(org.rep) == ["pinned fr", "en new", "en old", "fr new", "fr old"]
    assert titles(org.medic) == ["pinned fr", "fr new", "fr old", "en new", "en old"]


def test_topic_filter(org):
    careers = TopicFactory(organization=org.organization, name="Careers")
    csr = TopicFactory(organization=org.organization, name="CSR")
    content(org, title="we hire", topics=[careers])
    content(org, title="we plant trees", topics=[csr])
    content(org, title="both", topics=[careers, csr])
    assert set(titles(org.medic, topic="careers")) == {"we hire", "both"}
    assert titles(org.medic, topic="csr").count("both") == 1
    assert titles(org.medic, topic="unknown") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search runs on PostgreSQL")
def test_search_finds_words_in_title_why_and_captions(org):
    content(org, title="Inauguration du site de Lyon", why_it_matters="")
    content(org, title="Nos chercheurs", why_it_matters="Une étape pour la recherche vaccinale.")
    with_caption = content(org, title="Sans rapport", why_it_matters="")
    CaptionFactory(content=with_caption, text="Rejoignez nos équipes de pharmacovigilance !")
    content(org, title="Autre chose", why_it_matters="Rien à voir.")

    assert titles(org.medic, q="Lyon") == ["Inauguration du site de Lyon"]
    assert titles(org.medic, q="inauguration") == ["Inauguration du site de Lyon"]
    assert titles(org.medic, q="vaccinale") == ["Nos chercheurs"]
    assert titles(org.medic, q="pharmacovigilance") == ["Sans rapport"]
    assert titles(org.medic, q="introuvable") == []


def test_search_does_not_reach_beyond_the_feed(org):
    content(org, title="Lyon draft", status=ContentStatus.DRAFT)
    content(org, title="Lyon for medical", audience_teams=[org.medical])
    assert titles(org.rep, q="Lyon") == []
    assert titles(org.medic, q="Lyon") == ["Lyon for medical"]


# --- New since the last visit ------------------------------------------------------------


def test_new_since_the_last_visit(org):
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    with time_machine.travel(monday, tick=False):
        content(org, title="before", publish_at=monday - timedelta(days=1))
        services.feed_visit_record(user=org.medic)
        # A first visit has nothing to compare with: everything counts.
        assert titles(org.medic, new_only=True) == ["before"]

    wednesday = monday + timedelta(days=2)
    with time_machine.travel(wednesday, tick=False):
        content(org, title="tuesday", publish_at=monday + timedelta(days=1))
        services.feed_visit_record(user=org.medic)
        assert selectors.feed_previous_visit(org.medic) == monday
        assert titles(org.medic, new_only=True) == ["tuesday"]
        assert set(titles(org.medic)) == {"before", "tuesday"}

    # A reload ten minutes later is the same visit: "tuesday" is still new.
    with time_machine.travel(wednesday + timedelta(minutes=10), tick=False):
        # What the page shows as "new since": the previous visit before this one.
        assert services.feed_visit_record(user=org.medic) == monday
        assert titles(org.medic, new_only=True) == ["tuesday"]

    # The next day, the last visit was Wednesday.
    with time_machine.travel(wednesday + timedelta(days=1), tick=False):
        assert services.feed_visit_record(user=org.medic) == monday
        assert titles(org.medic, new_only=True) == []
        # Another person's visits are their own.
        assert set(titles(org.rep, new_only=True)) == {"before", "tuesday"}


# --- Caption rotation --------------------------------------------------------------------


def test_caption_rotation_differs_between_colleagues_and_is_stable_for_each(org):
    item = content(org, title="rotating")
    texts = [f"Caption {n}" for n in range(3)]
    for position, text in enumerate(texts):
        CaptionFactory(content=item, network=Network.LINKEDIN, text=text, position=position)
    CaptionFactory(content=item, network=Network.X, text="Only one for X", position=0)
    colleagues = [UserFactory(organization=org.organization) for _ in range(6)]

    def offered(user: User, network: str = Network.LINKEDIN) -> str:
        fetched = selectors.feed_list(user).get(pk=item.pk)
        caption = selectors.caption_for(fetched, network, user)
        assert caption is not None
        return caption.text

    seen = {user.pk: offered(user) for user in colleagues}
    assert set(seen.values()) == set(texts)  # six colleagues share the three captions
    for user in colleagues:
        assert offered(user) == seen[user.pk]  # the same one every time
        assert offered(user, Network.X) == "Only one for X"
    assert selectors.caption_for(item, Network.FACEBOOK, colleagues[0]) is None


def test_caption_for_uses_the_prefetched_captions(org, django_assert_num_queries):
    item = content(org)
    CaptionFactory.create_batch(2, content=item, network=Network.LINKEDIN)
    fetched = next(iter(selectors.feed_list(org.medic)))
    with django_assert_num_queries(0):
        assert selectors.caption_for(fetched, Network.LINKEDIN, org.medic) is not None


# --- Query count -------------------------------------------------------------------------


def _fill(org: Org, count: int, *, start: int) -> None:
    topic = TopicFactory(organization=org.organization, name="Innovation", slug="innovation")
    for index in range(start, start + count):
        item = content(
            org,
            title=f"item {index}",
            topics=[topic],
            audience_teams=[org.medical] if index % 2 else [],
        )
        CaptionFactory(content=item, network=Network.LINKEDIN)
        CaptionFactory(content=item, network=Network.X)


def _render_queries(user: User) -> int:
    with CaptureQueriesContext(connection) as queries:
        for item in selectors.feed_list(user):
            selectors.caption_for(item, Network.LINKEDIN, user)
            [topic.name for topic in item.topics.all()]
            [team.name for team in item.audience_teams.all()]
            list(item.renditions.all())
            str(item.author)
    return len(queries)


def test_feed_queries_do_not_grow_with_the_number_of_items(org):
    _fill(org, 3, start=0)
    three = _render_queries(org.medic)
    _fill(org, 12, start=3)
    assert selectors.feed_list(org.medic).count() == 15
    fifteen = _render_queries(org.medic)
    # Two for the user's teams, one for the contents, one per prefetched relation.
    assert three <= 8
    assert fifteen == three

"""The feed API's pages kept per organisation and audience (content/feed_cache.py): the same
answer as the database, a recall or an edit seen by the very next request, the schedule
honoured, nothing of one audience or organisation shown to another, and fewer queries."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content import feed_cache, services
from content.models import Content, ContentStatus, ImageRendition, Network
from organizations.models import Role
from tests.content.factories import CaptionFactory, TopicFactory
from tests.content.test_feed import ago, ahead, content, org  # noqa: F401 - the fixture
from tests.content.test_feed_paging import API, _fill, _ids, _token_client
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _listed(client) -> list[int]:
    return [item["id"] for item in client.get(API).json()["results"]]


def test_a_kept_page_is_the_same_answer_as_the_database(org):  # noqa: F811
    _fill(org, 25)
    client = _token_client(org.medic)
    first = client.get(API, {"page": 2, "page_size": 7}).json()
    kept = client.get(API, {"page": 2, "page_size": 7}).json()
    assert kept == first
    assert [item["id"] for item in kept["results"]] == _ids(org.medic)[7:14]
    assert kept["count"] == 25
    assert kept["next"].endswith("page=3&page_size=7")


def test_a_warm_page_reads_only_the_token(org):  # noqa: F811
    _fill(org, 12)
    client = _token_client(org.medic)
    client.get(API)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(API).status_code == 200
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]


def test_joining_or_leaving_a_team_changes_the_feed_at_the_next_request(org):  # noqa: F811
    _fill(org, 2)
    aimed = Content.objects.filter(organization=org.organization).first()
    aimed.audience_teams.set([org.hospital])
    outsider = UserFactory(organization=org.organization, role=Role.EMPLOYEE)
    client = _token_client(outsider)
    assert aimed.pk not in _listed(client)
    assert aimed.pk not in _listed(client)  # kept, with the person's teams
    outsider.teams.add(org.hospital)
    assert aimed.pk in _listed(client)
    org.hospital.members.remove(outsider)  # from the team's side
    assert aimed.pk not in _listed(client)
    outsider.teams.add(org.hospital)
    assert aimed.pk in _listed(client)
    outsider.teams.clear()
    assert aimed.pk not in _listed(client)


def test_a_withdrawal_leaves_the_feed_at_the_next_request(org):  # noqa: F811
    _fill(org, 3)
    client = _token_client(org.medic)
    recalled = _listed(client)[0]
    services.content_withdraw(
        actor=org.editor, content=Content.objects.get(pk=recalled), reason="Erreur de dosage"
    )
    assert Content.objects.get(pk=recalled).status == ContentStatus.WITHDRAWN
    assert recalled not in _listed(client)
    assert len(_listed(client)) == 2


def test_an_edited_caption_a_new_topic_or_image_is_seen_at_once(org, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    item = content(org, title="one", publish_at=ago(hours=1))
    caption = CaptionFactory(content=item, network=Network.LINKEDIN, text="Avant")
    client = _token_client(org.medic)
    assert client.get(API).json()["results"][0]["captions"][0]["text"] == "Avant"
    caption.text = "Après"
    caption.save()
    assert client.get(API).json()["results"][0]["captions"][0]["text"] == "Après"
    item.topics.add(TopicFactory(organization=org.organization, name="Climat", slug="climat"))
    assert [t["slug"] for t in client.get(API).json()["results"][0]["topics"]] == ["climat"]
    item.image = "content/a.jpg"
    item.save()
    ImageRendition.objects.create(content=item, name="x", file="r/x.jpg", width=1, height=1)
    assert list(client.get(API).json()["results"][0]["renditions"]) == ["x"]


def test_a_scheduled_item_appears_and_an_expiring_one_leaves_on_time(org):  # noqa: F811
    with time_machine.travel(ago(minutes=1), tick=False) as traveller:
        content(org, title="now", publish_at=ago(hours=1))
        soon = content(org, title="soon", publish_at=ahead(seconds=30))
        ending = content(org, title="ending", publish_at=ago(hours=2), expires_at=ahead(seconds=40))
        client = _token_client(org.medic)
        assert soon.pk not in _listed(client)
        assert ending.pk in _listed(client)
        traveller.shift(31)
        assert soon.pk in _listed(client)
        traveller.shift(10)
        assert ending.pk not in _listed(client)


def test_an_audience_never_reads_another_audiences_page(org):  # noqa: F811
    _fill(org, 9)  # every third item is aimed at Medical Affairs only
    medic = _listed(_token_client(org.medic))
    rep = _listed(_token_client(org.rep))
    assert len(medic) == 9 and len(rep) == 6
    assert rep == _ids(org.rep)
    # A person who joins a team reads that audience's page at once.
    org.rep.teams.add(org.medical)
    assert len(_listed(_token_client(org.rep))) == 9


def test_another_organisation_with_the_same_shape_reads_its_own(org):  # noqa: F811
    _fill(org, 4)
    other = OrganizationFactory(name="Autre", slug="autre")
    stranger = UserFactory(organization=other, role=Role.EMPLOYEE, language="fr")
    assert _listed(_token_client(stranger)) == []
    assert len(_listed(_token_client(org.loner))) == 2  # no team: only the untargeted items
    assert _listed(_token_client(stranger)) == []  # same teams (none), language, page


def test_a_lost_version_never_brings_back_a_kept_page(org):  # noqa: F811
    item = content(org, title="one", publish_at=ago(hours=1))
    client = _token_client(org.medic)
    assert _listed(client) == [item.pk]
    from django.core.cache import cache

    cache.delete(f"feed:version:{org.organization.pk}")  # evicted
    item.delete()
    assert _listed(client) == []
    assert feed_cache.feed_version(org.organization.pk)


def test_search_and_new_only_are_read_from_the_database(org):  # noqa: F811
    _fill(org, 3)
    client = _token_client(org.medic)
    client.get(API, {"q": "item"})
    with CaptureQueriesContext(connection) as captured:
        client.get(API, {"q": "item"})
    assert len(captured.captured_queries) > 2


def test_a_new_compliance_rule_reshapes_the_kept_captions(org):  # noqa: F811
    item = content(org, title="one", publish_at=ago(hours=1))
    CaptionFactory(content=item, network=Network.LINKEDIN, text="Un texte sans mention")
    client = _token_client(org.medic)
    before = client.get(API).json()["results"][0]["captions"][0]["caption_with_disclosure"]
    policy = services.policy_for(org.organization)
    policy.disclosure = "#partenariat"
    policy.save()
    after = client.get(API).json()["results"][0]["captions"][0]["caption_with_disclosure"]
    assert after != before and "#partenariat" in after


def test_each_person_is_offered_their_own_caption_from_a_kept_page(org):  # noqa: F811
    item = content(org, title="one", publish_at=ago(hours=1))
    for position in range(3):
        CaptionFactory(content=item, network=Network.X, position=position, text=f"v{position}")
    colleagues = [
        UserFactory(organization=org.organization, teams=[org.pharmacovigilance], language="fr")
        for _ in range(2)
    ]
    seen = set()
    for person in (org.medic, *colleagues):  # one audience, one kept page
        caption = _token_client(person).get(API).json()["results"][0]["captions"][0]
        assert caption["text"] == f"v{(person.pk + item.pk) % 3}"
        seen.add(caption["text"])
    assert len(seen) > 1  # not one caption for the whole audience


def test_the_feed_page_keeps_which_items_a_page_holds_and_follows_a_withdrawal(org):  # noqa: F811
    from django.urls import reverse

    from tests.conftest import client_for

    _fill(org, 14)
    client = client_for(org.medic)
    first = client.get(reverse("feed")).content.decode()
    with CaptureQueriesContext(connection) as warm:
        again = client.get(reverse("feed")).content.decode()
    assert again.count(CARD) == first.count(CARD) == 12
    assert not any("OVER (" in q["sql"] for q in warm.captured_queries)
    second = client.get(reverse("feed"), {"page": 2}).content.decode()
    assert second.count(CARD) == 2
    recalled = Content.objects.get(title__in=_titles_in(first)[:1])
    services.content_withdraw(actor=org.editor, content=recalled, reason="Erreur de dosage")
    after = client.get(reverse("feed")).content.decode()
    assert recalled.title not in _titles_in(after)
    assert after.count(CARD) == 12
    assert client.get(reverse("feed"), {"page": 2}).content.decode().count(CARD) == 1


CARD = '<article class="card content-card'


def _titles_in(html: str) -> list[str]:
    import re

    return re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>', html)

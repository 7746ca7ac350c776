"""New content aimed at a person: one notification per member of the content's audience when
it becomes published (at approval, or later at its publication time), never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from content import services
from content.announce import KIND, content_announce, content_announce_due
from content.models import ContentKind
from content.services import ContentInput
from notifications.kinds import kind_get
from notifications.models import EmailPreference, Notification
from organizations.models import Role
from tests.content.factories import ContentFactory
from tests.factories import OrganizationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def org(db):
    organization = OrganizationFactory(name="Santéa", slug="santea")
    sales = TeamFactory(organization=organization, name="Sales")
    sales_east = TeamFactory(organization=organization, name="Sales East", parent=sales)
    hr = TeamFactory(organization=organization, name="HR")
    people = {
        "seller": UserFactory(organization=organization, teams=[sales], language="en"),
        "east": UserFactory(organization=organization, teams=[sales_east], language="fr"),
        "hr": UserFactory(organization=organization, teams=[hr], language="en"),
        "editor": UserFactory(organization=organization, role=Role.EDITOR, teams=[hr]),
        "gone": UserFactory(organization=organization, teams=[sales], is_active=False),
    }
    outsider = UserFactory(organization=OrganizationFactory(name="Other", slug="other"))
    return organization, {"sales": sales, "east": sales_east, "hr": hr}, people, outsider


def _recipients(content) -> set[int]:
    return set(
        Notification.objects.filter(kind=KIND, url=f"/content/{content.pk}/").values_list(
            "recipient_id", flat=True
        )
    )


def test_the_kind_is_registered_pushable_and_not_emailed_by_default():
    kind = kind_get(KIND)
    assert kind.push is True
    assert kind.email_default is False


def test_content_for_teams_reaches_their_members_and_sub_teams_only(org):
    organization, teams, people, outsider = org
    content = ContentFactory(
        organization=organization, author=people["editor"], audience_teams=[teams["sales"]]
    )
    assert content_announce(content_id=content.pk) == 2
    assert _recipients(content) == {people["seller"].pk, people["east"].pk}
    titles = dict(Notification.objects.filter(kind=KIND).values_list("recipient_id", "title"))
    assert titles[people["seller"].pk] == f"New to share: {content.title}"
    # Each in their own language (the French catalogue may not have it yet).
    assert titles[people["east"].pk].endswith(content.title)
    assert outsider.pk not in _recipients(content)


def test_content_for_everyone_reaches_every_active_member_but_its_author(org):
    organization, _teams, people, _outsider = org
    content = ContentFactory(organization=organization, author=people["editor"])
    content_announce(content_id=content.pk)
    assert _recipients(content) == {people["seller"].pk, people["east"].pk, people["hr"].pk}


def test_announcing_twice_notifies_nobody_twice(org):
    organization, _teams, people, _outsider = org
    content = ContentFactory(organization=organization, author=people["editor"])
    assert content_announce(content_id=content.pk) == 3
    assert content_announce(content_id=content.pk) == 0
    assert content_announce_due() == 0
    assert Notification.objects.filter(kind=KIND).count() == 3


def test_nothing_is_emailed_by_default_only_to_who_asked(
    org, eager_tasks, django_capture_on_commit_callbacks
):
    organization, _teams, people, _outsider = org
    EmailPreference.objects.create(user=people["hr"], kind=KIND, email=True)
    content = ContentFactory(organization=organization, author=people["editor"])
    with django_capture_on_commit_callbacks(execute=True):
        content_announce(content_id=content.pk)
    assert [message.to for message in mail.outbox] == [[people["hr"].email]]


def test_queries_do_not_grow_with_the_audience(org, django_assert_max_num_queries):
    organization, teams, people, _outsider = org
    content = ContentFactory(organization=organization, author=people["editor"])
    UserFactory.create_batch(40, organization=organization, teams=[teams["hr"]])
    with django_assert_max_num_queries(12):
        assert content_announce(content_id=content.pk) == 43


def test_scheduled_content_is_announced_at_its_time_by_the_sweeper(org, time_machine):
    organization, _teams, people, _outsider = org
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    content = ContentFactory(
        organization=organization, author=people["editor"], publish_at=now + timedelta(hours=2)
    )
    assert content_announce(content_id=content.pk) == 0
    assert content_announce_due() == 0
    time_machine.move_to(now + timedelta(hours=2, minutes=1), tick=False)
    assert content_announce_due() == 3
    assert content_announce_due() == 0


def test_old_withdrawn_or_expired_content_is_not_announced(org, time_machine):
    organization, _teams, _people, _outsider = org
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    ContentFactory(organization=organization, publish_at=now - timedelta(days=2))
    ContentFactory(organization=organization, status="withdrawn")
    expired = ContentFactory(
        organization=organization,
        publish_at=now - timedelta(hours=3),
        expires_at=now - timedelta(hours=1),
    )
    assert content_announce_due() == 0
    assert content_announce(content_id=expired.pk) == 0
    assert not Notification.objects.filter(kind=KIND).exists()


def test_approval_announces_content_that_is_live(
    org, eager_tasks, django_capture_on_commit_callbacks
):
    organization, teams, people, _outsider = org
    editor = people["editor"]
    reviewer = UserFactory(organization=organization, role=Role.REVIEWER, teams=[teams["hr"]])
    content = services.content_create(
        actor=editor,
        data=ContentInput(
            kind=ContentKind.TEXT,
            title="Our Lyon site is hiring",
            why_it_matters="Tell your network.",
            captions={"linkedin": ["We are hiring in Lyon."]},
            audience_teams=[teams["sales"]],
        ),
    )
    services.content_submit(actor=editor, content=content)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_approve(actor=reviewer, content=content)
    assert _recipients(content) == {people["seller"].pk, people["east"].pk}

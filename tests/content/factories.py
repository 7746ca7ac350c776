"""factory_boy factories for the content app, built on the organisation factories."""

from __future__ import annotations

import factory
from django.utils import timezone

from content.models import (
    Caption,
    Content,
    ContentKind,
    ContentStatus,
    Guideline,
    GuidelineKind,
    Network,
    Suggestion,
    Topic,
)
from organizations.models import Role
from tests.factories import OrganizationFactory, UserFactory


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("organization", "slug")

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class ContentFactory(factory.django.DjangoModelFactory):
    """Approved and published an hour ago unless told otherwise; written by an editor of
    the same organisation."""

    class Meta:
        model = Content
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    author = factory.SubFactory(
        UserFactory,
        organization=factory.SelfAttribute("..organization"),
        role=Role.EDITOR,
    )
    kind = ContentKind.TEXT
    title = factory.Sequence(lambda n: f"Content {n}")
    why_it_matters = "Colleagues should know."
    language = "fr"
    status = ContentStatus.APPROVED
    publish_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1))

    @factory.post_generation
    def topics(self, create: bool, extracted: list[Topic] | None, **kwargs: object) -> None:
        if create and extracted:
            self.topics.set(extracted)

    @factory.post_generation
    def audience_teams(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.audience_teams.set(extracted)


class CaptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Caption

    content = factory.SubFactory(ContentFactory)
    network = Network.LINKEDIN
    text = factory.Sequence(lambda n: f"A caption worth sharing, number {n}.")
    position = factory.Sequence(lambda n: n)


class GuidelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guideline

    organization = factory.SubFactory(OrganizationFactory)
    kind = GuidelineKind.CHARTER
    title = "Charte des réseaux sociaux"
    body = (
        "# Charte\n\n- Je respecte la confidentialité.\n- Je signale mon lien avec l'entreprise.\n"
    )
    version = 1


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suggestion

    organization = factory.SubFactory(OrganizationFactory)
    author = factory.SubFactory(
        UserFactory, organization=factory.SelfAttribute("..organization"), role=Role.EMPLOYEE
    )
    url = ""
    text = factory.Sequence(lambda n: f"Our team ran its {n}th blood drive this week.")
    comment = "Colleagues would like to share it."

"""/api/v1/approval-chains/: the organisation's approval chains with their steps and the
rules that choose them (read: the communications team; write: organisation admins), and
/api/v1/approval-chains/reviewer-groups/. Writes go through content.chains; every refusal
is problem JSON naming the field (`steps[1].reviewers`, `rules[0].topic`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from content import chains
from content.api import IsCommsTeam
from content.models import (
    ApprovalChain,
    ContentKind,
    Network,
    ReviewerGroup,
    Topic,
)
from organizations.api import HasOrganization, IsOrgAdmin, api_caller, url_pk
from organizations.errors import DomainError
from organizations.models import Language, Organization, User

# --- Output -------------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TopicRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.get_full_name()}


class StepOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="1 for the first step.")
    name = serializers.CharField()
    required_approvals = serializers.IntegerField()
    deadline_hours = serializers.IntegerField(allow_null=True)
    reviewers = PersonRefSerializer(many=True)
    reviewer_group = GroupRefSerializer(allow_null=True)
    open = serializers.BooleanField(
        help_text="Names nobody: every reviewer and admin of the organisation may decide."
    )


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    priority = serializers.IntegerField()
    topic = TopicRefSerializer(allow_null=True)
    kind = serializers.CharField()
    language = serializers.CharField()
    network = serializers.CharField()


class ChainOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_default = serializers.BooleanField()
    steps = StepOutputSerializer(many=True)
    rules = RuleOutputSerializer(many=True)


def chain_represent(chain: ApprovalChain) -> dict[str, Any]:
    """From the prefetched chain (chains.chains_of): no query per step."""
    steps = []
    for step in chain.steps.all():
        reviewers = [_person(user) for user in step.reviewers.all()]
        group = step.reviewer_group
        steps.append(
            {
                "id": step.pk,
                "position": step.position,
                "name": step.name,
                "required_approvals": step.required_approvals,
                "deadline_hours": step.deadline_hours,
                "reviewers": reviewers,
                "reviewer_group": {"id": group.pk, "name": group.name} if group else None,
                "open": group is None and not reviewers,
            }
        )
    rules = [
        {
            "id": rule.pk,
            "priority": rule.priority,
            "topic": {"id": rule.topic.pk, "name": rule.topic.name, "slug": rule.topic.slug}
            if rule.topic
            else None,
            "kind": rule.kind,
            "language": rule.language,
            "network": rule.network,
        }
        for rule in chain.rules.all()
    ]
    return {
        "id": chain.pk,
        "name": chain.name,
        "is_default": chain.is_default,
        "steps": steps,
        "rules": rules,
    }


# --- Input --------------------------------------------------------------------------------


class StepInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    required_approvals = serializers.IntegerField(
        min_value=1, max_value=chains.MAX_APPROVALS, default=1
    )
    deadline_hours = serializers.IntegerField(
        min_value=1, max_value=chains.MAX_DEADLINE_HOURS, allow_null=True, default=None
    )
    reviewers = serializers.ListField(
        child=serializers.IntegerField(),
        default=list,
        help_text="User ids: active reviewers or admins of the organisation.",
    )
    reviewer_group = serializers.IntegerField(
        allow_null=True, default=None, help_text="A reviewer group id, or null."
    )


class RuleInputSerializer(serializers.Serializer):
    priority = serializers.IntegerField(min_value=0, max_value=1000, default=10)
    topic = serializers.IntegerField(allow_null=True, default=None, help_text="A topic id.")
    kind = serializers.ChoiceField(choices=ContentKind.choices, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, allow_blank=True, default="")
    network = serializers.ChoiceField(choices=Network.choices, allow_blank=True, default="")


class ChainInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    is_default = serializers.BooleanField(default=False)
    steps = StepInputSerializer(
        many=True,
        required=False,
        help_text="The whole list, in order; omitted: unchanged (one open step on creation).",
    )
    rules = RuleInputSerializer(
        many=True, required=False, help_text="The whole list; omitted: unchanged."
    )


class GroupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    members = PersonRefSerializer(many=True)


class GroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    members = serializers.ListField(
        child=serializers.IntegerField(), default=list, help_text="User ids."
    )


def _people(organization: Organization, ids: list[int], field: str) -> list[User]:
    found = {user.pk: user for user in User.objects.filter(organization=organization, pk__in=ids)}
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise DomainError(
            _("Unknown people in this organisation: %(ids)s.") % {"ids": ", ".join(unknown)},
            field=field,
        )
    return [found[pk] for pk in dict.fromkeys(ids)]


def _group(organization: Organization, pk: int | None, field: str) -> ReviewerGroup | None:
    if pk is None:
        return None
    group = ReviewerGroup.objects.filter(organization=organization, pk=pk).first()
    if group is None:
        raise DomainError(_("Unknown reviewer group."), field=field)
    return group


def _topic(organization: Organization, pk: int | None, field: str) -> Topic | None:
    if pk is None:
        return None
    topic = Topic.objects.filter(organization=organization, pk=pk).first()
    if topic is None:
        raise DomainError(_("Unknown topic."), field=field)
    return topic


def _step_inputs(organization: Organization, rows: list[dict]) -> list[chains.StepInput]:
    return [
        chains.StepInput(
            name=row.get("name", ""),
            required_approvals=row.get("required_approvals", 1),
            deadline_hours=row.get("deadline_hours"),
            reviewers=_people(organization, row.get("reviewers", []), f"steps[{i}].reviewers"),
            reviewer_group=_group(
                organization, row.get("reviewer_group"), f"steps[{i}].reviewer_group"
            ),
        )
        for i, row in enumerate(rows)
    ]


def _rule_inputs(organization: Organization, rows: list[dict]) -> list[chains.RuleInput]:
    return [
        chains.RuleInput(
            priority=row.get("priority", 10),
            topic=_topic(organization, row.get("topic"), f"rules[{i}].topic"),
            kind=row.get("kind", ""),
            language=row.get("language", ""),
            network=row.get("network", ""),
        )
        for i, row in enumerate(rows)
    ]


# --- Views --------------------------------------------------------------------------------


class _OrgScopedViewSet(viewsets.GenericViewSet):
    permission_classes = [HasOrganization]
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [HasOrganization(), IsCommsTeam()]
        return [HasOrganization(), IsOrgAdmin()]


class ApprovalChainViewSet(_OrgScopedViewSet):
    """Approval chains: named review steps in order, and the rules that choose them.
    Creating a chain without `steps` gives it one open step. Changing the steps' number,
    order or approvals required restarts the reviews under way on the chain at step 1."""

    queryset = ApprovalChain.objects.none()
    serializer_class = ChainOutputSerializer

    def get_queryset(self):
        return chains.chains_of(api_caller(self.request))

    def _answer(self, chain_id: int, code: int = status.HTTP_200_OK) -> Response:
        chain = chains.chain_for_user(api_caller(self.request), chain_id)
        return Response(ChainOutputSerializer(chain_represent(chain)).data, status=code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [chain_represent(chain) for chain in (page if page is not None else [])]
        return self.get_paginated_response(ChainOutputSerializer(rows, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(url_pk(self.kwargs))

    def _write(self, request: Request, chain: ApprovalChain | None, partial: bool) -> int:
        user = api_caller(request)
        organization = user.organization
        assert organization is not None
        data = ChainInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        steps = _step_inputs(organization, values["steps"]) if "steps" in values else None
        rules = _rule_inputs(organization, values["rules"]) if "rules" in values else None
        with transaction.atomic():  # all of it, or nothing
            chain = chains.chain_save(
                actor=user,
                chain=chain,
                name=values.get("name", chain.name if chain else ""),
                is_default=values.get("is_default", chain.is_default if chain else False),
                request=request._request,
            )
            if steps is not None:
                chains.chain_steps_replace(
                    actor=user, chain=chain, steps=steps, request=request._request
                )
            if rules is not None:
                chains.chain_rules_replace(
                    actor=user, chain=chain, rules=rules, request=request._request
                )
        return chain.pk

    @extend_schema(request=ChainInputSerializer, responses={201: ChainOutputSerializer})
    def create(self, request: Request) -> Response:
        return self._answer(self._write(request, None, False), status.HTTP_201_CREATED)

    @extend_schema(request=ChainInputSerializer, responses=ChainOutputSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        chain = chains.chain_for_user(api_caller(request), url_pk(self.kwargs))
        return self._answer(self._write(request, chain, False))

    @extend_schema(request=ChainInputSerializer, responses=ChainOutputSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        chain = chains.chain_for_user(api_caller(request), url_pk(self.kwargs))
        return self._answer(self._write(request, chain, True))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        chain = chains.chain_for_user(api_caller(request), url_pk(self.kwargs))
        chains.chain_delete(actor=api_caller(request), chain=chain, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _group_represent(group: ReviewerGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "members": [_person(user) for user in group.members.all()],
    }


class ReviewerGroupViewSet(_OrgScopedViewSet):
    """Reviewer groups: people who review together; a step given a group accepts any of
    its members. A group that reviews at a step cannot be deleted (409)."""

    queryset = ReviewerGroup.objects.none()
    serializer_class = GroupOutputSerializer

    def get_queryset(self):
        return chains.reviewer_groups_of(api_caller(self.request))

    def get_object(self) -> ReviewerGroup:
        from django.http import Http404

        group = self.get_queryset().filter(pk=url_pk(self.kwargs)).first()
        if group is None:
            raise Http404
        return group

    def _answer(self, group_id: int, code: int = status.HTTP_200_OK) -> Response:
        group = self.get_queryset().get(pk=group_id)
        return Response(GroupOutputSerializer(_group_represent(group)).data, status=code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [_group_represent(group) for group in (page if page is not None else [])]
        return self.get_paginated_response(GroupOutputSerializer(rows, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(self.get_object().pk)

    def _write(self, request: Request, group: ReviewerGroup | None) -> int:
        user = api_caller(request)
        assert user.organization is not None
        data = GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = chains.reviewer_group_save(
            actor=user,
            group=group,
            name=data.validated_data["name"],
            members=_people(user.organization, data.validated_data["members"], "members"),
            request=request._request,
        )
        return group.pk

    @extend_schema(request=GroupInputSerializer, responses={201: GroupOutputSerializer})
    def create(self, request: Request) -> Response:
        return self._answer(self._write(request, None), status.HTTP_201_CREATED)

    @extend_schema(request=GroupInputSerializer, responses=GroupOutputSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(self._write(request, self.get_object()))

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        chains.reviewer_group_delete(
            actor=api_caller(request), group=self.get_object(), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# Routes: config/urls.py registers these on the /api/v1/ router (groups first, so that
# "reviewer-groups" is never read as a chain id).
ROUTES = (
    ("approval-chains/reviewer-groups", ReviewerGroupViewSet, "reviewer-group"),
    ("approval-chains", ApprovalChainViewSet, "approval-chain"),
)

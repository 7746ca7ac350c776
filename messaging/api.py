"""/api/v1/channels/: the organisation's Slack and Teams destinations with their routing
(org admins). Secrets never leave the server: a Teams webhook is write-only and answered
by its masked hint."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from content.models import Topic
from messaging import selectors, services
from messaging.failures import failure_text
from messaging.models import Destination, DestinationKind, EventKind
from organizations.api import IsOrgAdmin, api_caller, url_pk
from organizations.errors import DomainError
from organizations.models import Team, User


def _org_objects(model: Any, ids: list[int], user: User, field: str) -> list[Any]:
    found = list(model.objects.filter(organization_id=user.organization_id, pk__in=ids))
    if len(found) != len(set(ids)):
        raise DomainError(_("Unknown id in this list."), field=field)
    return found


class DestinationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=DestinationKind.choices)
    webhook_url = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Teams only: the Workflows webhook address. Write-only; on an update, "
        "leave it out to keep the current one.",
    )
    webhook_hint = serializers.CharField(
        read_only=True, help_text="The webhook's host, masked ('' for Slack)."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices), allow_empty=False
    )
    teams: Any = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Team.objects.none(),
        required=False,
        help_text="Only posts and challenges for these teams (and the teams below them); "
        "empty: every team.",
    )
    topics: Any = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Topic.objects.none(),
        required=False,
        help_text="Only posts and challenges on these topics; empty: every topic.",
    )
    problem_text = serializers.SerializerMethodField()

    class Meta:
        model = Destination
        fields = [
            "id",
            "kind",
            "label",
            "slack_channel_id",
            "webhook_url",
            "webhook_hint",
            "events",
            "teams",
            "topics",
            "status",
            "problem",
            "problem_text",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "problem", "created_at", "updated_at"]
        extra_kwargs = {"slack_channel_id": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        organization_id = getattr(user, "organization_id", None)
        # Ids of another organisation are "not found", as if they did not exist.
        self.fields["teams"].child_relation.queryset = Team.objects.filter(
            organization_id=organization_id
        )
        self.fields["topics"].child_relation.queryset = Topic.objects.filter(
            organization_id=organization_id
        )

    def get_problem_text(self, destination: Destination) -> str:
        return failure_text(destination.problem)


@extend_schema_view(
    list=extend_schema(summary="The organisation's Slack and Teams destinations"),
    create=extend_schema(summary="Add a destination"),
    retrieve=extend_schema(summary="A destination with its routing"),
    partial_update=extend_schema(summary="Change a destination (kind cannot change)"),
    update=extend_schema(summary="Replace a destination's settings (kind cannot change)"),
    destroy=extend_schema(summary="Remove a destination"),
)
class DestinationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Destination.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = DestinationSerializer
    permission_classes = [IsOrgAdmin]

    def get_queryset(self):
        return selectors.destinations_of(api_caller(self.request))

    def get_object(self) -> Destination:
        return selectors.destination_for_user(api_caller(self.request), url_pk(self.kwargs))

    def _input(
        self, data: dict[str, Any], current: Destination | None
    ) -> services.DestinationInput:
        return services.DestinationInput(
            kind=data.get("kind", current.kind if current else ""),
            label=data.get("label", current.label if current else ""),
            slack_channel_id=data.get(
                "slack_channel_id", current.slack_channel_id if current else ""
            ),
            webhook_url=data.get("webhook_url") or (None if current else ""),
            events=list(data.get("events", current.events if current else [])),
            teams=list(data["teams"])
            if "teams" in data
            else list(current.teams.all())
            if current
            else [],
            topics=list(data["topics"])
            if "topics" in data
            else list(current.topics.all())
            if current
            else [],
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        destination = services.destination_create(
            actor=api_caller(request),
            data=self._input(serializer.validated_data, None),
            request=request._request,
        )
        answer = self.get_serializer(selectors.destination_for_user(request.user, destination.pk))
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        current = self.get_object()
        serializer = self.get_serializer(current, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.destination_update(
            actor=api_caller(request),
            destination=current,
            data=self._input(serializer.validated_data, current),
            request=request._request,
        )
        return Response(
            self.get_serializer(selectors.destination_for_user(request.user, current.pk)).data
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.destination_delete(
            actor=api_caller(request), destination=self.get_object(), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("channels", DestinationViewSet, basename="channel-destination")
urlpatterns: list[URLPattern | URLResolver] = list(router.urls)

"""The challenges and rewards API: /api/v1/challenges/ (list with my progress, detail with
rules, ranking and my progress; editors create, update, launch and cancel),
/api/v1/rewards/ (the catalogue) and /api/v1/redemptions/ (mine; create = redeem; org
admins list the queue and fulfil or refuse). Same services and scoping as the pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404
from django.urls import URLPattern, URLResolver
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from challenges import campaign_selectors as selectors
from challenges.models import (
    Challenge,
    ChallengeMetric,
    ChallengeMode,
    Redemption,
    RedemptionStatus,
    Reward,
)
from challenges.services import campaigns as services
from challenges.services import rewards as reward_services
from content.models import Content, Network, Topic
from organizations.api import HasOrganization, IsOrgAdmin, api_caller, url_pk
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Team, User


def _org_ids(model: Any, ids: list[int], user: User, field: str) -> list[Any]:
    """Objects of the caller's organisation by id; an unknown id names the field."""
    found = list(model.objects.filter(organization_id=user.organization_id, pk__in=ids))
    if len(found) != len(set(ids)):
        raise DomainError(_("Unknown id in this list."), field=field)
    return found


class ProgressSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    percent = serializers.IntegerField(help_text="Towards the goal, or the leader's value.")
    goal_reached = serializers.BooleanField()
    rank = serializers.IntegerField(allow_null=True)


class ChallengeSerializer(serializers.ModelSerializer):
    audience_teams: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    contents: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    topics: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    banner = serializers.ImageField(read_only=True)
    network = serializers.ChoiceField(
        choices=Network.choices, allow_blank=True, read_only=True, help_text="Empty: any network."
    )
    my_progress = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = [
            "id",
            "title",
            "why_it_matters",
            "banner",
            "status",
            "starts_at",
            "ends_at",
            "mode",
            "metric",
            "audience_teams",
            "contents",
            "topics",
            "hashtag",
            "network",
            "goal",
            "winners_count",
            "prize",
            "bonus_points",
            "launched_at",
            "ended_at",
            "my_progress",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_my_progress(self, challenge: Challenge) -> dict | None:
        progress = self.context.get("progress", {}).get(challenge.pk)
        return ProgressSerializer(progress).data if progress else None


class BoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_me = serializers.BooleanField()
    members = serializers.IntegerField()
    is_winner = serializers.BooleanField()
    goal_reached = serializers.BooleanField()
    user_id = serializers.IntegerField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)


class BoardSerializer(serializers.Serializer):
    frozen = serializers.BooleanField(help_text="True once ended: the results are final.")
    participant = serializers.BooleanField()
    hidden = serializers.BooleanField(help_text="The caller is hidden from public rankings.")
    me = ProgressSerializer(allow_null=True)
    team_name = serializers.CharField()
    team = ProgressSerializer(allow_null=True)
    ranking = BoardRowSerializer(many=True, source="rows")
    my_row = BoardRowSerializer(
        allow_null=True, help_text="The caller's row when it is not in the top of the ranking."
    )
    winners = BoardRowSerializer(many=True)
    participants_count = serializers.IntegerField()


class ChallengeDetailSerializer(ChallengeSerializer):
    board = serializers.SerializerMethodField()

    class Meta(ChallengeSerializer.Meta):
        fields = [*ChallengeSerializer.Meta.fields, "board"]
        read_only_fields = fields

    @extend_schema_field(BoardSerializer)
    def get_board(self, challenge: Challenge) -> dict:
        return BoardSerializer(self.context["board"]).data


class ChallengeDateField(serializers.DateTimeField):
    """A challenge date: an unrepresentable one (year 1 shifted into a time zone) is a
    field error rather than an overflow, and the date must lie in the accepted window."""

    def to_internal_value(self, value: Any) -> Any:
        try:
            parsed = super().to_internal_value(value)
        except (OverflowError, ValueError) as error:
            raise serializers.ValidationError(_("This date is out of range.")) from error
        problem = services.challenge_date_error(parsed)
        if problem:
            raise serializers.ValidationError(problem)
        return parsed


class ChallengeInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    why_it_matters = serializers.CharField(required=False, allow_blank=True, default="")
    starts_at = ChallengeDateField(
        help_text="ISO 8601; without an offset, in the organisation's time zone."
    )
    ends_at = ChallengeDateField(
        help_text="ISO 8601; without an offset, in the organisation's time zone."
    )
    audience_teams = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    mode = serializers.ChoiceField(choices=ChallengeMode.choices, default=ChallengeMode.INDIVIDUAL)
    metric = serializers.ChoiceField(
        choices=ChallengeMetric.choices, default=ChallengeMetric.SHARES
    )
    contents = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    topics = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list
    )
    hashtag = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    network = serializers.ChoiceField(
        choices=[("", "any"), *Network.choices], required=False, default=""
    )
    goal = serializers.IntegerField(
        min_value=1,
        max_value=services.MAX_AMOUNT,
        required=False,
        allow_null=True,
        default=None,
    )
    winners_count = serializers.IntegerField(
        min_value=0, max_value=services.MAX_WINNERS, required=False, default=0
    )
    prize = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    bonus_points = serializers.IntegerField(
        min_value=0, max_value=services.MAX_AMOUNT, required=False, default=0
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": _("The end must come after the start.")})
        if attrs.get("goal") is None and not attrs.get("winners_count"):
            raise serializers.ValidationError(
                {"goal": _("Set a goal to reach, a number of winners, or both.")}
            )
        return attrs


def _in_org_zone(request: Request, name: str, value: Any, user: User) -> Any:
    """A date-time sent without an offset is read in the organisation's time zone."""
    raw = parse_datetime(str(request.data.get(name) or ""))
    if raw is not None and raw.tzinfo is None and user.organization is not None:
        return raw.replace(tzinfo=ZoneInfo(user.organization.time_zone))
    return value


def _challenge_input(request: Request, user: User) -> services.ChallengeInput:
    data = ChallengeInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    return services.ChallengeInput(
        title=values["title"],
        why_it_matters=values["why_it_matters"],
        starts_at=_in_org_zone(request, "starts_at", values["starts_at"], user),
        ends_at=_in_org_zone(request, "ends_at", values["ends_at"], user),
        audience_teams=_org_ids(Team, values["audience_teams"], user, "audience_teams"),
        mode=values["mode"],
        metric=values["metric"],
        contents=_org_ids(Content, values["contents"], user, "contents"),
        topics=_org_ids(Topic, values["topics"], user, "topics"),
        hashtag=values["hashtag"],
        network=values["network"],
        goal=values["goal"],
        winners_count=values["winners_count"],
        prize=values["prize"],
        bonus_points=values["bonus_points"],
    )


class ChallengeFilters(serializers.Serializer):
    tab = serializers.ChoiceField(
        choices=list(selectors.TABS),
        required=False,
        default="active",
        help_text="active, upcoming, ended, or drafts (editors).",
    )


class ChallengeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Challenges the caller can see, with the caller's progress. Editors create drafts,
    update them until they start, launch and cancel them."""

    queryset = Challenge.objects.none()
    serializer_class = ChallengeSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_queryset(self):
        filters = ChallengeFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.challenge_list(api_caller(self.request), tab=filters.validated_data["tab"])

    def _require_editor(self) -> User:
        user = api_caller(self.request)
        if not user.can_edit_content:
            raise PermissionDeniedError(_("Only editors and administrators manage challenges."))
        return user

    def _detail(
        self, challenge: Challenge, code: int = status.HTTP_200_OK, *, reload: bool = True
    ) -> Response:
        user = api_caller(self.request)
        if reload:
            challenge = selectors.challenge_for_user(user, challenge.pk)
        board = selectors.challenge_board(user, challenge)
        progress = {challenge.pk: board.me} if board.me else {}
        return Response(
            ChallengeDetailSerializer(
                challenge, context={"board": board, "progress": progress, "request": self.request}
            ).data,
            status=code,
        )

    @extend_schema(parameters=[ChallengeFilters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.challenges_advance(
            organization_id=api_caller(request).organization_id, announce=False
        )
        page = self.paginate_queryset(self.get_queryset())
        items = list(page if page is not None else self.get_queryset())
        progress = selectors.progress_for(items, api_caller(request))
        data = ChallengeSerializer(
            items, many=True, context={"progress": progress, "request": request}
        ).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(responses=ChallengeDetailSerializer)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.challenges_advance(
            organization_id=api_caller(request).organization_id, announce=False
        )
        challenge = selectors.challenge_for_user(api_caller(request), url_pk(self.kwargs))
        return self._detail(challenge, reload=False)

    @extend_schema(request=ChallengeInputSerializer, responses={201: ChallengeDetailSerializer})
    def create(self, request: Request) -> Response:
        user = self._require_editor()
        challenge = services.challenge_create(
            actor=user, data=_challenge_input(request, user), request=request._request
        )
        return self._detail(challenge, status.HTTP_201_CREATED)

    @extend_schema(request=ChallengeInputSerializer, responses=ChallengeDetailSerializer)
    def update(self, request: Request, pk: str | None = None) -> Response:
        user = self._require_editor()
        challenge = selectors.challenge_for_user(user, url_pk(self.kwargs), write=True)
        challenge = services.challenge_update(
            actor=user,
            challenge=challenge,
            data=_challenge_input(request, user),
            request=request._request,
        )
        return self._detail(challenge)

    @extend_schema(request=None, responses=ChallengeDetailSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request: Request, pk: str | None = None) -> Response:
        """Publish a draft: it starts now if its start has come, else it is scheduled."""
        user = self._require_editor()
        challenge = selectors.challenge_for_user(user, url_pk(self.kwargs), write=True)
        return self._detail(
            services.challenge_launch(actor=user, challenge=challenge, request=request._request)
        )

    @extend_schema(request=None, responses=ChallengeDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        user = self._require_editor()
        challenge = selectors.challenge_for_user(user, url_pk(self.kwargs), write=True)
        return self._detail(
            services.challenge_cancel(actor=user, challenge=challenge, request=request._request)
        )


class RewardSerializer(serializers.ModelSerializer):
    image = serializers.ImageField(read_only=True)

    class Meta:
        model = Reward
        fields = ["id", "title", "description", "image", "cost", "stock", "per_person_limit"]
        read_only_fields = fields


class RewardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The organisation's catalogue of active rewards (stock null: unlimited)."""

    queryset = Reward.objects.none()
    serializer_class = RewardSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.rewards_catalogue(api_caller(self.request))

    def get_object(self) -> Reward:
        return selectors.reward_for_user(api_caller(self.request), url_pk(self.kwargs))


class RedemptionSerializer(serializers.ModelSerializer):
    reward_title = serializers.CharField(source="reward.title", read_only=True)
    user_email = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Redemption
        fields = [
            "id",
            "reward",
            "reward_title",
            "user",
            "user_email",
            "cost",
            "status",
            "note",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class RedeemInput(serializers.Serializer):
    reward = serializers.IntegerField(min_value=1)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DecisionInput(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RedemptionFilters(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=["mine", "queue"],
        required=False,
        default="mine",
        help_text="queue: every request of the organisation (org admins).",
    )
    status = serializers.ChoiceField(
        choices=[("", ""), *RedemptionStatus.choices], required=False, default=""
    )


class RedemptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's reward requests; creating one redeems the reward with spendable points.
    Org admins see the queue (?scope=queue) and fulfil or refuse (refund) requests."""

    queryset = Redemption.objects.none()
    serializer_class = RedemptionSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_queryset(self):
        filters = RedemptionFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        user = api_caller(self.request)
        wanted = filters.validated_data["status"]
        if filters.validated_data["scope"] == "queue":
            if not user.is_org_admin:
                raise PermissionDeniedError(_("Only organisation administrators see the queue."))
            return selectors.redemption_queue(user, status=wanted or "all")
        rows = selectors.redemptions_of(user).select_related("user")
        return rows.filter(status=wanted) if wanted else rows

    def get_object(self) -> Redemption:
        return selectors.redemption_for_user(api_caller(self.request), url_pk(self.kwargs))

    @extend_schema(parameters=[RedemptionFilters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RedeemInput, responses={201: RedemptionSerializer})
    def create(self, request: Request) -> Response:
        data = RedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            redemption = reward_services.reward_redeem(
                user=api_caller(request),
                reward_id=data.validated_data["reward"],
                note=data.validated_data["note"],
            )
        except DomainError as error:
            if error.status_code == 404:
                raise Http404 from error
            raise
        fresh = (
            selectors.redemptions_of(api_caller(request))
            .select_related("user")
            .get(pk=redemption.pk)
        )
        return Response(RedemptionSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, verb: str) -> Response:
        user = api_caller(request)
        redemption = selectors.redemption_for_user(user, url_pk(self.kwargs), write=True)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decide = (
            reward_services.redemption_fulfil
            if verb == "fulfil"
            else reward_services.redemption_refuse
        )
        fresh = decide(
            actor=user,
            redemption=redemption,
            note=data.validated_data["note"],
            request=request._request,
        )
        return Response(RedemptionSerializer(fresh).data)

    @extend_schema(request=DecisionInput, responses=RedemptionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOrgAdmin])
    def fulfil(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, "fulfil")

    @extend_schema(request=DecisionInput, responses=RedemptionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOrgAdmin])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the request: the points are refunded, once."""
        return self._decide(request, "refuse")


router = SimpleRouter()
router.register("challenges", ChallengeViewSet, basename="challenge")
router.register("rewards", RewardViewSet, basename="reward")
router.register("redemptions", RedemptionViewSet, basename="redemption")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]

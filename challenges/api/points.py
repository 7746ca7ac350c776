"""The points API: /api/v1/me/points/ (the caller's totals, level, badges, streak, rank and
paginated history; PATCH for the privacy choice) and /api/v1/leaderboards/ (people or
teams, a period, a team, the caller's rank with neighbours). Same selectors and scoping
as the HTML pages."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges import points_selectors as selectors
from challenges.models import PointEntry
from challenges.services.leaderboards import PERIOD_ALL, PERIODS
from challenges.services.points import points_hide_from_rankings
from organizations.api import HasOrganization, api_caller

HISTORY_PAGE_SIZE = 20
LEADERBOARD_PAGE_SIZE = 50


def _page(request: Request, items: Any, size: int) -> tuple[Any, dict[str, Any]]:
    """A page of `items` and its links; a page out of range is a 404."""
    try:
        page = Paginator(items, size).page(request.query_params.get("page") or 1)
    except (EmptyPage, PageNotAnInteger):
        raise Http404 from None

    def link(number: int) -> str:
        query = request.query_params.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return page, {
        "count": page.paginator.count,
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
    }


class LevelRefSerializer(serializers.Serializer):
    threshold = serializers.IntegerField()
    name = serializers.CharField()


class LevelProgressSerializer(serializers.Serializer):
    current = LevelRefSerializer(allow_null=True)
    next = LevelRefSerializer(allow_null=True)
    points_to_next = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Progress from the current level to the next.")


class BadgeSerializer(serializers.Serializer):
    badge = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    awarded_at = serializers.DateTimeField()


class RankSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    points = serializers.FloatField()


class PointEntrySerializer(serializers.ModelSerializer):
    reason_label = serializers.CharField(source="get_reason_display")
    content_title = serializers.SerializerMethodField()

    class Meta:
        model = PointEntry
        fields = [
            "id",
            "reason",
            "reason_label",
            "points",
            "spendable_delta",
            "note",
            "occurred_at",
            "share",
            "content",
            "content_title",
        ]
        read_only_fields = fields

    def get_content_title(self, entry: PointEntry) -> str:
        return entry.content.title if entry.content else ""


class HistoryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PointEntrySerializer(many=True)


class MyPointsSerializer(serializers.Serializer):
    lifetime_points = serializers.IntegerField(help_text="Earned in total; ranks and levels.")
    spendable_points = serializers.IntegerField(help_text="Left to spend on rewards.")
    hidden_from_rankings = serializers.BooleanField()
    level = LevelProgressSerializer()
    badges = BadgeSerializer(many=True)
    current_streak_weeks = serializers.IntegerField()
    longest_streak_weeks = serializers.IntegerField()
    rank = RankSerializer(allow_null=True, help_text="All-time rank in the organisation.")
    ranked_people = serializers.IntegerField()
    history = HistoryPageSerializer()


class PrivacyInput(serializers.Serializer):
    # A PATCH: what is left out stays as it is (an empty body changes nothing).
    hidden_from_rankings = serializers.BooleanField(required=False)


def _level(level: Any) -> dict[str, Any] | None:
    return {"threshold": level.threshold, "name": level.name} if level is not None else None


class MyPointsView(APIView):
    """The caller's points. History is paginated with `page` (20 entries a page)."""

    permission_classes = [HasOrganization]

    def _answer(self, request: Request) -> Response:
        user = api_caller(request)
        summary = selectors.points_summary(user)
        page, links = _page(request, selectors.point_history(user), HISTORY_PAGE_SIZE)
        body = {
            "lifetime_points": summary.lifetime_points,
            "spendable_points": summary.spendable_points,
            "hidden_from_rankings": summary.hidden_from_rankings,
            "level": {
                "current": _level(summary.level.current),
                "next": _level(summary.level.next),
                "points_to_next": summary.level.points_to_next,
                "percent": summary.level.percent,
            },
            "badges": [vars(badge) for badge in summary.badges],
            "current_streak_weeks": summary.current_streak_weeks,
            "longest_streak_weeks": summary.longest_streak_weeks,
            "rank": (
                {"rank": summary.rank.rank, "points": summary.rank.points} if summary.rank else None
            ),
            "ranked_people": summary.ranked_people,
            "history": {**links, "results": list(page.object_list)},
        }
        return Response(MyPointsSerializer(body).data)

    @extend_schema(responses=MyPointsSerializer)
    def get(self, request: Request) -> Response:
        return self._answer(request)

    @extend_schema(request=PrivacyInput, responses=MyPointsSerializer)
    def patch(self, request: Request) -> Response:
        data = PrivacyInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "hidden_from_rankings" in data.validated_data:
            points_hide_from_rankings(
                user=api_caller(request), hidden=data.validated_data["hidden_from_rankings"]
            )
        return self._answer(request)


class LeaderboardFilters(serializers.Serializer):
    board = serializers.ChoiceField(
        choices=list(selectors.BOARDS),
        default=selectors.BOARD_PEOPLE,
        help_text="organisation: people; team: teams ranked by points per member.",
    )
    period = serializers.ChoiceField(
        choices=list(PERIODS),
        default=PERIOD_ALL,
        help_text="In the organisation's time zone; weeks start on Monday.",
    )
    team = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="People of this team (and below it), or the teams below it.",
    )
    page = serializers.IntegerField(min_value=1, required=False)


class StandingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    id = serializers.IntegerField(source="key", help_text="The person's or the team's id.")
    name = serializers.CharField()
    points = serializers.FloatField(help_text="Teams: points per member.")
    members = serializers.IntegerField(allow_null=True, help_text="Teams only.")
    is_me = serializers.BooleanField(help_text="The caller, or one of the caller's teams.")


class LeaderboardSerializer(serializers.Serializer):
    board = serializers.CharField()
    period = serializers.CharField()
    team = serializers.IntegerField(allow_null=True)
    source = serializers.ChoiceField(
        choices=["redis", "database"], help_text="Where the scores were read."
    )
    me = StandingSerializer(allow_null=True, help_text="The caller's rank (people board).")
    hidden = serializers.BooleanField(help_text="The caller is hidden from public rankings.")
    neighbours = StandingSerializer(many=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StandingSerializer(many=True)


class LeaderboardView(APIView):
    """A leaderboard of the caller's organisation. People hidden from rankings are not
    listed; a hidden caller still gets their own rank in `me`."""

    permission_classes = [HasOrganization]

    @extend_schema(parameters=[LeaderboardFilters], responses=LeaderboardSerializer)
    def get(self, request: Request) -> Response:
        filters = LeaderboardFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        board = selectors.leaderboard_for(
            api_caller(request),
            board=values["board"],
            period=values["period"],
            team_id=values.get("team"),
        )
        page, links = _page(request, board.rows, LEADERBOARD_PAGE_SIZE)
        if board.board == selectors.BOARD_PEOPLE:
            selectors.standings_named([*page.object_list, *board.neighbours])
        me = board.me
        if me is not None and not me.name:
            me.name = str(api_caller(request))
        return Response(
            LeaderboardSerializer(
                {
                    "board": board.board,
                    "period": board.period,
                    "team": board.team.pk if board.team else None,
                    "source": board.source,
                    "me": me,
                    "hidden": board.hidden,
                    "neighbours": board.neighbours,
                    **links,
                    "results": list(page.object_list),
                }
            ).data
        )


urlpatterns = [
    path("me/points/", MyPointsView.as_view(), name="api_my_points"),
    path("leaderboards/", LeaderboardView.as_view(), name="api_leaderboards"),
]

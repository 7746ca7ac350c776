"""Analytics API under /api/v1/analytics/: summary, timeseries, top contents, top
ambassadors and teams. Same access check, scope, period and numbers as the dashboard
pages (the same selectors); bad parameters are problem JSON naming the field."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.dashboard_cache import summary_cached, teams_cached
from analytics.replica import replica_reads
from analytics.selectors import Period, Scope, Totals
from organizations.api import HasOrganization, api_caller
from organizations.errors import DomainError


class Filters(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=selectors.PERIOD_KEYS,
        default=selectors.DEFAULT_PERIOD,
        help_text="Rolling periods end today in the organisation's time zone; 'custom' "
        "needs start and end.",
    )
    start = serializers.DateField(required=False, help_text="First day (custom period).")
    end = serializers.DateField(required=False, help_text="Last day, included (custom period).")
    team = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="A team within the caller's sight; its sub-teams are included.",
    )


class TimeseriesFilters(Filters):
    interval = serializers.ChoiceField(
        choices=list(selectors.INTERVALS),
        required=False,
        help_text="day or week; by default day up to 31 days, week beyond.",
    )


class LimitFilters(Filters):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class TotalsSerializer(serializers.Serializer):
    shares = serializers.IntegerField(help_text="API shares plus confirmed share-link posts.")
    api_shares = serializers.IntegerField()
    link_confirmations = serializers.IntegerField()
    clicks = serializers.IntegerField()
    unique_clicks = serializers.IntegerField()
    clicks_per_share = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    reactions = serializers.IntegerField()
    comments = serializers.IntegerField()
    reshares = serializers.IntegerField()
    engagement = serializers.IntegerField(help_text="reactions + comments + reshares")
    impressions = serializers.IntegerField()
    potential_reach = serializers.IntegerField()
    emv = serializers.DecimalField(max_digits=14, decimal_places=2)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class SummarySerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    currency = serializers.CharField()
    employees = serializers.IntegerField(help_text="Active employees in scope.")
    active_ambassadors = serializers.IntegerField()
    previous_active_ambassadors = serializers.IntegerField()
    active_ambassadors_percent = serializers.DecimalField(max_digits=5, decimal_places=1)
    previous_active_ambassadors_percent = serializers.DecimalField(max_digits=5, decimal_places=1)
    totals = TotalsSerializer()
    previous_totals = TotalsSerializer()
    changes = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True),
        help_text="Percent change of each headline against the previous period; null when "
        "the previous period had none.",
    )


class PointSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    totals = TotalsSerializer()


class TimeseriesSerializer(serializers.Serializer):
    interval = serializers.CharField()
    points = PointSerializer(many=True)


class ContentRowSerializer(serializers.Serializer):
    content_id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    ambassadors = serializers.IntegerField()
    totals = TotalsSerializer()


class PersonRowSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    contents = serializers.IntegerField()
    totals = TotalsSerializer()


class TeamRowSerializer(serializers.Serializer):
    team_id = serializers.IntegerField()
    name = serializers.CharField()
    depth = serializers.IntegerField()
    employees = serializers.IntegerField(source="people")
    active_ambassadors = serializers.IntegerField(source="active")
    active_ambassadors_percent = serializers.DecimalField(
        max_digits=5, decimal_places=1, source="adoption"
    )
    totals = TotalsSerializer()


def _totals(totals: Totals) -> dict[str, Any]:
    return totals.as_dict()


def _teams_data(rows: list[selectors.TeamRow]) -> list[dict[str, Any]]:
    data = TeamRowSerializer(
        [{**vars(row), "adoption": row.adoption, "totals": _totals(row.totals)} for row in rows],
        many=True,
    ).data
    return [dict(item) for item in data]  # plain dicts: what the cache keeps


def _read(request: Request, filters_class: type[Filters]) -> tuple[Scope, Period, dict[str, Any]]:
    user = api_caller(request)
    # Access first: without dashboards, every parameter is moot (404).
    if user.organization is None or not user.can_see_dashboards:
        raise Http404
    data = filters_class(data=request.query_params)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    assert user.organization is not None
    if values["period"] != "custom" and ("start" in values or "end" in values):
        raise DomainError(_("Use period=custom with start and end dates."), field="period")
    period = selectors.period_resolve(
        key=values["period"],
        today=selectors.organization_today(user.organization),
        start=values.get("start"),
        end=values.get("end"),
    )
    scope = selectors.dashboard_scope(user, team_id=values.get("team"))
    return scope, period, values


class AnalyticsView(APIView):
    permission_classes = [HasOrganization]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Every read of the answer may be served by the read replica, when there is one.
        with replica_reads():
            return super().dispatch(request, *args, **kwargs)


class SummaryView(AnalyticsView):
    """Headline numbers of the period with the previous period of the same length."""

    @extend_schema(parameters=[Filters], responses=SummarySerializer)
    def get(self, request: Request) -> Response:
        scope, period, _values = _read(request, Filters)
        result = summary_cached(scope, period)
        body = {
            "period": {"start": period.start, "end": period.end},
            "previous_period": {"start": period.previous.start, "end": period.previous.end},
            "currency": result.currency,
            "employees": result.people,
            "active_ambassadors": result.active,
            "previous_active_ambassadors": result.previous_active,
            "active_ambassadors_percent": result.adoption,
            "previous_active_ambassadors_percent": result.previous_adoption,
            "totals": _totals(result.totals),
            "previous_totals": _totals(result.previous_totals),
            "changes": {card.key: card.change for card in result.cards()},
        }
        return Response(SummarySerializer(body).data)


class TimeseriesView(AnalyticsView):
    """One point per day or per week (Monday to Sunday, cut at the period's ends)."""

    @extend_schema(parameters=[TimeseriesFilters], responses=TimeseriesSerializer)
    def get(self, request: Request) -> Response:
        scope, period, values = _read(request, TimeseriesFilters)
        interval = values.get("interval") or period.default_interval()
        points = selectors.timeseries(scope, period, interval=interval)
        body = {
            "interval": interval,
            "points": [
                {"start": p.start, "end": p.end, "totals": _totals(p.totals)} for p in points
            ],
        }
        return Response(TimeseriesSerializer(body).data)


class TopContentsView(AnalyticsView):
    """Contents ranked by clicks, then shares."""

    @extend_schema(parameters=[LimitFilters], responses=ContentRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        scope, period, values = _read(request, LimitFilters)
        rows = selectors.top_contents(scope, period, limit=values["limit"])
        return Response(
            ContentRowSerializer(
                [{**vars(row), "totals": _totals(row.totals)} for row in rows], many=True
            ).data
        )


class TopAmbassadorsView(AnalyticsView):
    """People ranked by shares, then clicks; managers see their own people by name."""

    @extend_schema(parameters=[LimitFilters], responses=PersonRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        scope, period, values = _read(request, LimitFilters)
        rows = selectors.top_ambassadors(scope, period, limit=values["limit"])
        return Response(
            PersonRowSerializer(
                [{**vars(row), "totals": _totals(row.totals)} for row in rows], many=True
            ).data
        )


class TeamsView(AnalyticsView):
    """One row per team in sight, in tree order; a team counts its sub-teams' members."""

    @extend_schema(parameters=[Filters], responses=TeamRowSerializer(many=True))
    def get(self, request: Request) -> Response:
        scope, period, _values = _read(request, Filters)
        return Response(teams_cached(scope, period, _teams_data))

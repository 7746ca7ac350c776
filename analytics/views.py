"""Dashboard pages (htmx-updated), the per-content, per-challenge and "what works" pages,
the print report, CSV exports and the analytics settings of org admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from analytics import exports, selectors
from analytics.dashboard_cache import dashboard_numbers_cached
from analytics.forms import AnalyticsSettingsForm, DashboardFilterForm
from analytics.replica import reads_from_replica
from analytics.selectors import Period, Scope
from analytics.services.settings import analytics_settings_get, analytics_settings_update
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import form_error, org_admin_required


@dataclass(frozen=True)
class Filters:
    form: DashboardFilterForm
    scope: Scope
    period: Period
    interval: str
    querystring: str


def _filters(request: MemberRequest) -> Filters:
    """Reads the picker and the team filter; the access check comes first, so someone
    without dashboards gets a 404 whatever the parameters."""
    user = request.user
    if user.organization is None or not user.can_see_dashboards:
        raise Http404
    form = DashboardFilterForm(
        request.GET or None, today=selectors.organization_today(user.organization)
    )
    period = form.resolved_period()
    scope = selectors.dashboard_scope(user, team_id=form.team_id())
    query = request.GET.copy()
    for name in ("page", "partial"):
        query.pop(name, None)
    return Filters(form, scope, period, form.chart_interval(period), query.urlencode())


def _without(querystring: str, name: str) -> str:
    query = QueryDict(querystring, mutable=True)
    query.pop(name, None)
    return query.urlencode()


def _base_context(request: MemberRequest, filters: Filters) -> dict[str, Any]:
    rates = selectors.rates_for(filters.scope.organization)
    return {
        "form": filters.form,
        "scope": filters.scope,
        "period": filters.period,
        "previous_period": filters.period.previous,
        "interval": filters.interval,
        "querystring": filters.querystring,
        "team_choices": selectors.team_choices(filters.scope),
        "period_choices": selectors.PERIOD_CHOICES,
        "rates": rates,
        "can_see_what_works": selectors.can_see_what_works(request.user),
    }


def chart_data(points: list[selectors.Point], interval: str) -> dict[str, Any]:
    """What the trend chart draws; labels come translated from the server so the chart
    reads in the page's language."""
    return {
        "labels": [point.label(interval) for point in points],
        "datasets": [
            {"key": "shares", "label": _("Shares"), "data": [p.totals.all_shares for p in points]},
            {"key": "clicks", "label": _("Clicks"), "data": [p.totals.clicks for p in points]},
            {
                "key": "engagement",
                "label": _("Engagement"),
                "data": [p.totals.engagement for p in points],
            },
        ],
    }


def _render(
    request: MemberRequest, full: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    # htmx swaps only the body below the picker; a plain request gets the whole page.
    template = partial if request.headers.get("HX-Request") else full
    return render(request, template, context)


@login_required
@reads_from_replica
def dashboards(request: MemberRequest) -> HttpResponse:
    filters = _filters(request)
    scope, period = filters.scope, filters.period
    numbers = dashboard_numbers_cached(scope, period, interval=filters.interval)
    context = _base_context(request, filters) | {
        "summary": numbers.summary,
        "points": numbers.points,
        "chart": chart_data(numbers.points, filters.interval),
        "top_contents": numbers.top_contents,
        "top_ambassadors": numbers.top_ambassadors,
        "networks": numbers.networks,
        "segments": numbers.segments,
        "challenges": selectors.challenges_in_period(scope, period),
    }
    context["teams"], context["teams_left_out"] = numbers.teams, numbers.teams_left_out
    context["team_querystring"] = _without(filters.querystring, "team")
    return _render(request, "analytics/dashboards.html", "analytics/_dashboard_body.html", context)


@login_required
@reads_from_replica
def content_dashboard(request: MemberRequest, pk: int) -> HttpResponse:
    filters = _filters(request)
    content = selectors.content_for_dashboard(filters.scope, pk, user=request.user)
    scope, period = filters.scope.for_content(content.pk), filters.period
    points = selectors.timeseries(scope, period, interval=filters.interval)
    context = _base_context(request, filters) | {
        "content": content,
        "summary": selectors.summary(scope, period),
        "points": points,
        "chart": chart_data(points, filters.interval),
        "networks": selectors.by_network(scope, period),
        "people": selectors.content_people(scope, period),
    }
    return _render(request, "analytics/content.html", "analytics/_content_body.html", context)


@login_required
@reads_from_replica
def what_works(request: MemberRequest) -> HttpResponse:
    filters = _filters(request)
    if not selectors.can_see_what_works(request.user):
        raise Http404
    scope, period = filters.scope, filters.period
    context = _base_context(request, filters) | {
        "by_topic": selectors.what_works_by_topic(scope, period),
        "by_kind": selectors.what_works_by_kind(scope, period),
        "by_weekday": selectors.what_works_by_weekday(scope, period),
    }
    return _render(request, "analytics/what_works.html", "analytics/_what_works_body.html", context)


@login_required
@reads_from_replica
def challenge_dashboard(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    scope = selectors.dashboard_scope(user)
    challenge_view = selectors.challenge_numbers(scope, pk, user=user)
    period, cscope = challenge_view.period, challenge_view.scope
    points = selectors.timeseries(cscope, period, interval=period.default_interval())
    context = {
        "scope": scope,
        "challenge": challenge_view.challenge,
        "period": period,
        "previous_period": period.previous,
        "rates": selectors.rates_for(scope.organization),
        "summary": selectors.summary(cscope, period),
        "points": points,
        "interval": period.default_interval(),
        "chart": chart_data(points, period.default_interval()),
        "top_contents": selectors.top_contents(cscope, period),
        "top_ambassadors": selectors.top_ambassadors(cscope, period),
        "teams": selectors.by_team(cscope, period),
        "networks": selectors.by_network(cscope, period),
        "audience_hidden": challenge_view.audience_hidden,
    }
    return render(request, "analytics/challenge.html", context)


@login_required
@reads_from_replica
def report(request: MemberRequest) -> HttpResponse:
    """Every table of the dashboard on one print-friendly page."""
    filters = _filters(request)
    scope, period = filters.scope, filters.period
    points = selectors.timeseries(scope, period, interval=filters.interval)
    context = _base_context(request, filters) | {
        "summary": selectors.summary(scope, period),
        "points": points,
        "top_contents": selectors.top_contents(scope, period),
        "top_ambassadors": selectors.top_ambassadors(scope, period),
        "networks": selectors.by_network(scope, period),
        "segments": selectors.segments(scope, period),
    }
    context["teams"], context["teams_left_out"] = selectors.team_rows_shown(
        selectors.by_team(scope, period)
    )
    return render(request, "analytics/report.html", context)


@login_required
@reads_from_replica
def export(request: MemberRequest, table: str) -> HttpResponse:
    filters = _filters(request)
    if table not in exports.TABLES:
        raise Http404
    if table.startswith("what-works") and not selectors.can_see_what_works(request.user):
        raise Http404
    content_id = request.GET.get("content", "")
    scope = filters.scope
    if content_id:
        if not content_id.isdecimal():
            raise Http404
        content = selectors.content_for_dashboard(scope, int(content_id), user=request.user)
        scope = scope.for_content(content.pk)
    return exports.csv_response(
        table=table, scope=scope, period=filters.period, interval=filters.interval
    )


@org_admin_required
def analytics_settings(request: MemberRequest) -> HttpResponse:
    user = request.user
    assert user.organization is not None
    current = analytics_settings_get(organization_id=user.organization.pk)
    form = AnalyticsSettingsForm(
        request.POST or None,
        initial={
            "currency": current.currency,
            "cpc": current.cpc,
            "cpm_linkedin": current.cpm_linkedin,
            "cpm_x": current.cpm_x,
            "cpm_facebook": current.cpm_facebook,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            analytics_settings_update(
                organization=user.organization, actor=user, request=request, **form.cleaned_data
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The earned media rates are saved."))
            return redirect("analytics_settings")
    return render(request, "analytics/settings.html", {"form": form, "rates": current})

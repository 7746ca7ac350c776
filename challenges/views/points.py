"""HTML pages of points: the leaderboard, the caller's points history, the privacy choice,
and the org admin's scoring rules and levels."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from challenges import points_selectors as selectors
from challenges.points_forms import LeaderboardFilters, LevelFormSet, PrivacyForm, ScoringRulesForm
from challenges.services.leaderboards import PERIOD_ALL
from challenges.services.levels import levels_for, levels_replace
from challenges.services.points import points_hide_from_rankings
from challenges.services.scoring import RuleChange, scoring_rules_of, scoring_rules_save
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import org_admin_required

LEADERBOARD_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 20


def _member(request: MemberRequest) -> None:
    if request.user.organization_id is None:
        raise Http404


@login_required
def leaderboard(request: MemberRequest) -> HttpResponse:
    _member(request)
    filters = LeaderboardFilters(request.GET)
    filters.is_valid()
    # A stale or hand-edited link falls back to the defaults rather than a dead end.
    if filters.errors:
        messages.warning(request, _("Some filters were not recognised: showing the defaults."))
    board = filters.cleaned_data.get("board") or selectors.BOARD_PEOPLE
    period = filters.cleaned_data.get("period") or PERIOD_ALL
    teams = selectors.team_choices(request.user)
    team_id = filters.cleaned_data.get("team")
    if team_id is not None and team_id not in {pk for pk, _label in teams}:
        # Another organisation's team is treated like one that does not exist.
        messages.warning(request, _("That team is not available: showing everyone."))
        team_id = None
    result = selectors.leaderboard_for(request.user, board=board, period=period, team_id=team_id)
    page = Paginator(result.rows, LEADERBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    if board == selectors.BOARD_PEOPLE:
        selectors.standings_named([*page.object_list, *result.neighbours])
    query = {"board": board, "period": period}
    if result.team is not None:
        query["team"] = str(result.team.pk)
    return render(
        request,
        "challenges/leaderboard.html",
        {
            "board": result,
            "page": page,
            "teams": teams,
            "querystring": "&".join(f"{k}={v}" for k, v in query.items()),
            "boards": [(selectors.BOARD_PEOPLE, _("People")), (selectors.BOARD_TEAMS, _("Teams"))],
            "periods": [
                ("week", _("This week")),
                ("month", _("This month")),
                ("all", _("All time")),
            ],
        },
    )


@login_required
def points_history(request: MemberRequest) -> HttpResponse:
    _member(request)
    page = Paginator(selectors.point_history(request.user), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "challenges/points_history.html",
        {"page": page, "points": selectors.points_summary(request.user)},
    )


@login_required
@require_POST
def points_privacy(request: MemberRequest) -> HttpResponse:
    _member(request)
    form = PrivacyForm(request.POST)
    form.is_valid()  # a lone checkbox: absent means "show me"
    hidden = bool(form.cleaned_data.get("hidden"))
    points_hide_from_rankings(user=request.user, hidden=hidden)
    messages.success(
        request,
        _("You are hidden from public rankings; you still see your own rank.")
        if hidden
        else _("You appear in the rankings again."),
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "profile")


@org_admin_required
def points_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    assert user.organization_id is not None
    rules = scoring_rules_of(user.organization_id)
    rules_form = ScoringRulesForm(
        request.POST if request.POST.get("section") == "rules" else None, rules=rules
    )
    levels = levels_for(user.organization_id)
    initial = [
        {"threshold": lv.threshold, "name_en": lv.name_en, "name_fr": lv.name_fr} for lv in levels
    ]
    posted = request.POST if request.POST.get("section") == "levels" else None
    # Bound, the rows are what was posted: initial values would make the blank extra rows
    # look changed, and so required.
    level_forms = LevelFormSet(posted, initial=None if posted else initial, prefix="levels")
    if request.method == "POST":
        try:
            if request.POST.get("section") == "rules" and rules_form.is_valid():
                data = rules_form.cleaned_data
                scoring_rules_save(
                    actor=user,
                    changes=[
                        RuleChange(
                            event=rule.event,
                            points=data[f"points_{rule.event}"],
                            is_active=data[f"active_{rule.event}"],
                            daily_cap_per_share=data.get("click_cap")
                            if rule.event == "click"
                            else None,
                        )
                        for rule in rules
                    ],
                    request=request,
                )
                messages.success(request, _("The scoring rules are saved."))
                return redirect("points_admin")
            if request.POST.get("section") == "levels" and level_forms.is_valid():
                rows = [
                    (
                        f.cleaned_data["threshold"],
                        f.cleaned_data["name_en"],
                        f.cleaned_data["name_fr"],
                    )
                    for f in level_forms.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
                levels_replace(actor=user, rows=rows, request=request)
                messages.success(request, _("The levels are saved."))
                return redirect("points_admin")
        except DomainError as error:
            messages.error(request, error.message)
    return render(
        request,
        "challenges/scoring_admin.html",
        {"rules_form": rules_form, "level_forms": level_forms},
    )

"""HTML pages of challenges (list, detail with progress and ranking, editor, launch and
cancel) and rewards (catalogue, my redemptions, the admin catalogue editor and queue)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from challenges import campaign_selectors as selectors
from challenges.campaign_forms import ChallengeForm, DecisionForm, RewardForm
from challenges.models import Challenge, ChallengeStatus, RedemptionStatus
from challenges.services import campaigns as services
from challenges.services import rewards as reward_services
from organizations.errors import ConflictError, DomainError
from organizations.http import MemberRequest
from organizations.views import form_error, org_admin_required

PAGE_SIZE = 20


def _refuse(request: MemberRequest, error: DomainError) -> None:
    messages.error(request, error.message)


# --- challenges ---------------------------------------------------------------------------


@login_required
def challenges(request: MemberRequest) -> HttpResponse:
    user = request.user
    services.challenges_advance(organization_id=user.organization_id, announce=False)
    tab = request.GET.get("tab", "active")
    if tab not in selectors.TABS or (tab == "drafts" and not user.can_edit_content):
        tab = "active"
    page = Paginator(selectors.challenge_list(user, tab=tab), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = list(page)
    progress = selectors.progress_for(items, user)
    tabs = [
        ("active", _("Running")),
        ("upcoming", _("Upcoming")),
        ("ended", _("Ended")),
    ]
    if user.can_edit_content:
        tabs.append(("drafts", _("Drafts and cancelled")))
    return render(
        request,
        "challenges/list.html",
        {
            "page": page,
            "rows": [{"challenge": c, "progress": progress.get(c.pk)} for c in items],
            "tab": tab,
            "tabs": tabs,
            "querystring": f"tab={tab}",
            "can_edit": user.can_edit_content,
        },
    )


@login_required
def challenge_detail(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    services.challenges_advance(organization_id=user.organization_id, announce=False)
    challenge = selectors.challenge_for_user(user, pk)
    board = selectors.challenge_board(user, challenge)
    template = "challenges/_challenge_board.html" if request.htmx else "challenges/challenge.html"
    return render(
        request,
        template,
        {"challenge": challenge, "board": board, "can_edit": user.can_edit_content},
    )


def _editor(request: MemberRequest, challenge: Challenge | None) -> HttpResponse:
    user = request.user
    if challenge is not None and not challenge.is_editable:
        messages.error(request, _("A challenge can be edited only before it starts."))
        return redirect("challenge_detail", pk=challenge.pk)
    if challenge is not None:
        initial = ChallengeForm.initial_for(challenge)
    else:
        start = (timezone.localtime() + timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        initial = {"starts_at": start, "ends_at": start + timedelta(days=14), "winners_count": 3}
    form = ChallengeForm(
        request.POST or None, request.FILES or None, organization=user.organization, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if challenge is None:
                challenge = services.challenge_create(
                    actor=user, data=form.to_input(), request=request
                )
                messages.success(request, _("Draft saved. Launch it when it is ready."))
            else:
                challenge = services.challenge_update(
                    actor=user, challenge=challenge, data=form.to_input(), request=request
                )
                messages.success(request, _("Saved."))
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("challenge_detail", pk=challenge.pk)
    return render(
        request, "challenges/challenge_editor.html", {"form": form, "challenge": challenge}
    )


@login_required
def challenge_create(request: MemberRequest) -> HttpResponse:
    if not request.user.can_edit_content:
        raise Http404
    return _editor(request, None)


@login_required
def challenge_edit(request: MemberRequest, pk: int) -> HttpResponse:
    return _editor(request, selectors.challenge_for_user(request.user, pk, write=True))


@login_required
@require_POST
def challenge_action(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    challenge = selectors.challenge_for_user(request.user, pk, write=True)
    try:
        if verb == "launch":
            challenge = services.challenge_launch(
                actor=request.user, challenge=challenge, request=request
            )
            if challenge.status == ChallengeStatus.ACTIVE:
                messages.success(
                    request, _("The challenge is running: its audience is told within a minute.")
                )
            else:
                messages.success(
                    request, _("The challenge is scheduled: it starts on its own at its start.")
                )
        elif verb == "cancel":
            services.challenge_cancel(actor=request.user, challenge=challenge, request=request)
            messages.warning(request, _("The challenge is cancelled."))
        else:
            raise Http404
    except DomainError as error:
        _refuse(request, error)
    return redirect("challenge_detail", pk=pk)


# --- rewards ------------------------------------------------------------------------------


@login_required
def rewards(request: MemberRequest) -> HttpResponse:
    user = request.user
    page = Paginator(selectors.rewards_catalogue(user), PAGE_SIZE).get_page(request.GET.get("page"))
    taken = selectors.taken_counts(user)
    balance = selectors.spendable_of(user)
    rows = []
    for reward in page:
        used = taken.get(reward.pk, 0)
        at_limit = reward.per_person_limit is not None and used >= reward.per_person_limit
        rows.append(
            {
                "reward": reward,
                "taken": used,
                "at_limit": at_limit,
                "affordable": balance >= reward.cost,
                "can_redeem": reward.in_stock and not at_limit and balance >= reward.cost,
            }
        )
    return render(
        request,
        "challenges/rewards.html",
        {"page": page, "rows": rows, "balance": balance, "querystring": ""},
    )


@login_required
@require_POST
def reward_redeem(request: MemberRequest, pk: int) -> HttpResponse:
    try:
        reward_services.reward_redeem(
            user=request.user, reward_id=pk, note=request.POST.get("note", "")
        )
    except DomainError as error:
        if error.status_code == 404:
            raise Http404 from error
        _refuse(request, error)
        return redirect("rewards")
    messages.success(request, _("Requested! An administrator will get back to you."))
    return redirect("my_redemptions")


@login_required
def my_redemptions(request: MemberRequest) -> HttpResponse:
    user = request.user
    page = Paginator(selectors.redemptions_of(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "challenges/reward_redemptions.html",
        {"page": page, "balance": selectors.spendable_of(user), "querystring": ""},
    )


@org_admin_required
def reward_admin(request: MemberRequest) -> HttpResponse:
    page = Paginator(selectors.rewards_all(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "challenges/reward_admin.html", {"page": page, "querystring": ""})


def _reward_editor(request: MemberRequest, pk: int | None) -> HttpResponse:
    user = request.user
    reward = selectors.reward_for_user(user, pk, write=True) if pk else None
    initial = RewardForm.initial_for(reward) if reward else {"is_active": True}
    form = RewardForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if reward is None:
                reward_services.reward_create(actor=user, data=form.to_input(), request=request)
            else:
                reward_services.reward_update(
                    actor=user, reward=reward, data=form.to_input(), request=request
                )
        except DomainError as error:
            if isinstance(error, ConflictError) and reward is not None:
                # Show the stock as it is now, so the next save is checked against it.
                reward.refresh_from_db(fields=["stock"])
                form.data = form.data.copy()
                form.data["stock_seen"] = "" if reward.stock is None else str(reward.stock)
            form_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("reward_admin")
    return render(request, "challenges/reward_editor.html", {"form": form, "reward": reward})


@org_admin_required
def reward_create(request: MemberRequest) -> HttpResponse:
    return _reward_editor(request, None)


@org_admin_required
def reward_edit(request: MemberRequest, pk: int) -> HttpResponse:
    return _reward_editor(request, pk)


@org_admin_required
def redemption_queue(request: MemberRequest) -> HttpResponse:
    status = request.GET.get("status", RedemptionStatus.REQUESTED)
    if status not in RedemptionStatus.values:
        status = RedemptionStatus.REQUESTED
    page = Paginator(selectors.redemption_queue(request.user, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "challenges/reward_queue.html",
        {
            "page": page,
            "status": status,
            "statuses": RedemptionStatus.choices,
            "form": DecisionForm(),
            "querystring": f"status={status}",
        },
    )


@org_admin_required
@require_POST
def redemption_decide(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    redemption = selectors.redemption_for_user(request.user, pk, write=True)
    actions = {
        "fulfil": (reward_services.redemption_fulfil, _("Marked as fulfilled.")),
        "refuse": (reward_services.redemption_refuse, _("Refused: the points are refunded.")),
    }
    if verb not in actions:
        raise Http404
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    action, done = actions[verb]
    try:
        action(actor=request.user, redemption=redemption, note=note, request=request)
    except DomainError as error:
        _refuse(request, error)
    else:
        messages.success(request, done)
    return redirect("redemption_queue")

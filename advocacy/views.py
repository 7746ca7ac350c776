"""HTML pages of sharing: the share flow, My shares, connected networks and posting slots,
and the org admin's sharing page (pause, problems)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from advocacy import outcome_text, selectors
from advocacy.forms import PauseForm, ShareForm, SlotForm
from advocacy.models import PostWhen, Share, ShareMode, ShareStatus, SharingPreference
from advocacy.services import accounts as account_services
from advocacy.services import sharing
from content import compliance
from content.models import Network
from content.selectors import charter_pending
from content.services import compliance_rules_for
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import org_admin_required

PAGE_SIZE = 20


def _zone(request: MemberRequest) -> ZoneInfo:
    organization = request.user.organization
    return ZoneInfo(organization.time_zone if organization else "Europe/Paris")


def _domain_error(request: MemberRequest, error: DomainError) -> None:
    messages.error(request, error.message)
    for problem in error.errors[1:]:
        messages.error(request, problem["message"] if isinstance(problem, dict) else str(problem))


# --- share flow -----------------------------------------------------------------------------


@login_required
def share_content(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    content = selectors.shareable_content(user, pk)
    choices = selectors.network_choices(user, content)
    form = ShareForm(
        request.POST or None,
        zone=_zone(request),
        initial={"networks": [c.network for c in choices if c.can_post_for_me]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        captions = {c.network: request.POST.get(f"caption_{c.network}", "") for c in choices}
        modes = {c.network: request.POST.get(f"mode_{c.network}", "") for c in choices}
        try:
            shares = sharing.share_create(
                user=user,
                data=sharing.ShareRequest(
                    content_id=content.pk,
                    networks=list(data["networks"]),
                    captions=captions,
                    when=data["when"],
                    scheduled_at=data.get("scheduled_at"),
                    modes=modes,
                ),
                request=request,
            )
        except DomainError as error:
            _domain_error(request, error)
        else:
            posted = sum(1 for s in shares if s.mode == ShareMode.API)
            links = len(shares) - posted
            if posted:
                messages.success(request, _("Your post is on its way; follow it below."))
            if links:
                messages.info(request, _("Open each share link, post, then tell us it is done."))
            return redirect("my_shares")
    return render(
        request,
        "advocacy/share.html",
        {
            "content": content,
            "form": form,
            "choices": [
                {
                    **vars(c),
                    "value": request.POST.get(f"caption_{c.network}", c.suggested)
                    if request.method == "POST"
                    else c.suggested,
                    "mode": request.POST.get(f"mode_{c.network}", ""),
                }
                for c in choices
            ],
            "charter_pending": charter_pending(user),
            "pause": selectors.pause_of(user),
            "disclosure": compliance_rules_for(content.organization).disclosure,
        },
    )


@login_required
@require_POST
def share_preview(request: MemberRequest, pk: int) -> HttpResponse:
    """Live compliance check of the captions being edited (htmx)."""
    user = request.user
    content = selectors.shareable_content(user, pk)
    rules = compliance_rules_for(content.organization)
    rows = []
    # The share sheet has one caption box for every network ("caption"); the full page one
    # per network ("caption_<network>").
    shared_caption = request.POST.get("caption", "")
    for network in dict.fromkeys(request.POST.getlist("networks")):
        if network not in rules.max_lengths:
            continue
        preview = compliance.caption_preview(
            text=request.POST.get(f"caption_{network}", shared_caption),
            network=network,
            rules=rules,
            link_url=content.link_url,
        )
        rows.append({"label": Network(network).label, "preview": preview})
    if request.POST.get("compact") == "1":
        return render(request, "advocacy/_share_sheet_check.html", {"rows": rows})
    return render(request, "content/_caption_preview.html", {"rows": rows})


# --- the share sheet (one tap from the feed) ------------------------------------------------


def _charter_url(request: MemberRequest) -> str:
    # Back to the page the sheet was opened on (htmx says which), else the feed.
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    back = current.path if current.path.startswith("/") else reverse("feed")
    if current.query:
        back += "?" + current.query
    return f"{reverse('guideline_page', args=['charter'])}?{urlencode({'next': back})}"


def _sheet_context(
    request: MemberRequest, content: object, *, caption: str | None = None, error: str = ""
) -> dict[str, object]:
    user = request.user
    choices = selectors.network_choices(user, content)  # type: ignore[arg-type]
    captions = selectors.sheet_captions(user, choices)
    return {
        "content": content,
        "pause": selectors.pause_of(user),
        "charter_pending": charter_pending(user),
        "charter_url": _charter_url(request),
        "api_choices": [c for c in choices if c.can_post_for_me],
        "link_choices": [c for c in choices if not c.can_post_for_me],
        "networks": [c.network for c in choices],
        "caption": captions.suggested if caption is None else caption,
        "alternatives": captions.alternatives,
        "post_when": SharingPreference.objects.when_for(user.pk),
        "when_choices": PostWhen.choices,
        "disclosure": compliance_rules_for(content.organization).disclosure,  # type: ignore[attr-defined]
        "error": error,
    }


@login_required
def share_sheet(request: MemberRequest, pk: int) -> HttpResponse:
    """GET: the sheet over the feed (htmx; a plain visit gets the full share page).
    POST: "Post on <network>" through the person's connected account, now or in their
    next posting slot (their choice, remembered)."""
    user = request.user
    content = selectors.shareable_content(user, pk)
    if request.method != "POST":
        if not request.htmx:
            return redirect("share_content", pk=content.pk)
        return render(request, "advocacy/_share_sheet.html", _sheet_context(request, content))
    network = request.POST.get("network", "")
    when = request.POST.get("when", PostWhen.NOW)
    caption = request.POST.get("caption", "")
    error = ""
    if when not in PostWhen.values:
        error = _("Choose now or your next posting slot.")
    elif not any(
        c.network == network and c.can_post_for_me for c in selectors.network_choices(user, content)
    ):
        error = _("Connect this network first, or use its share link.")
    elif selectors.pause_of(user) is not None:
        error = _("Sharing is paused by your organisation for now.")
    if not error:
        try:
            [share] = sharing.share_create(
                user=user,
                data=sharing.ShareRequest(
                    content_id=content.pk,
                    networks=[network],
                    captions={
                        network: selectors.sheet_caption_for(user, content, network, caption)
                    },
                    when=when,
                    modes={network: ShareMode.API},
                ),
                request=request,
            )
        except DomainError as problem:
            error = problem.message
        else:
            SharingPreference.objects.remember(user_id=user.pk, post_when=when)
            return render(
                request,
                "advocacy/_share_sheet_done.html",
                {"share": share, "outcome": "queued" if when == PostWhen.QUEUE else "posted"},
            )
    return render(
        request,
        "advocacy/_share_sheet.html",
        _sheet_context(request, content, caption=caption, error=error),
    )


@login_required
@require_POST
def share_sheet_link(request: MemberRequest, pk: int) -> HttpResponse:
    """A share link from the sheet: posted in a new tab (form target), it creates the
    share exactly as the share page does (tracked link, awaiting confirmation) and sends
    the tab on to the network's share page. A share link already waiting is reopened."""
    user = request.user
    content = selectors.shareable_content(user, pk)
    network = request.POST.get("network", "")
    error = ""
    share: Share | None = None
    if network not in Network.values:
        error = _("Choose a network.")
    elif selectors.pause_of(user) is not None:
        error = _("Sharing is paused by your organisation for now.")
    else:
        share = selectors.awaiting_share(user, content.pk, network)
        if share is None:
            caption = request.POST.get("caption", "")
            try:
                [share] = sharing.share_create(
                    user=user,
                    data=sharing.ShareRequest(
                        content_id=content.pk,
                        networks=[network],
                        captions={
                            network: selectors.sheet_caption_for(user, content, network, caption)
                        },
                        modes={network: ShareMode.LINK},
                    ),
                    request=request,
                )
            except DomainError as problem:
                error = problem.message
    return render(
        request,
        "advocacy/_share_sheet_open.html",
        {
            "content": content,
            "share": share,
            "url": selectors.share_link_url(share) if share and not error else "",
            "error": error,
        },
        status=200 if not error else 409,
    )


@login_required
def share_sheet_pending(request: MemberRequest, pk: int) -> HttpResponse:
    """ "Did you post it?" for the share link just opened; nothing (204) until it exists."""
    user = request.user
    content = selectors.shareable_content(user, pk)
    share = selectors.awaiting_share(user, content.pk, request.GET.get("network", ""))
    if share is None:
        return HttpResponse(status=204)
    return render(
        request,
        "advocacy/_share_sheet_confirm.html",
        {"share": share, "content": content, "link": selectors.share_link_url(share)},
    )


# --- My shares ----------------------------------------------------------------------------


@login_required
def my_shares(request: MemberRequest) -> HttpResponse:
    user = request.user
    status_filter = request.GET.get("status", "")
    if status_filter and status_filter not in selectors.STATUS_FILTERS:
        status_filter = ""
    page = Paginator(selectors.shares_of(user, status_filter=status_filter), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [{"share": share, "link": selectors.share_link_url(share)} for share in page]
    moving = any(
        row["share"].status in (ShareStatus.PUBLISHING, ShareStatus.RECALLING) for row in rows
    )
    template = "advocacy/_share_list.html" if request.htmx else "advocacy/my_shares.html"
    return render(
        request,
        template,
        {
            "page": page,
            "rows": rows,
            "status_filter": status_filter,
            "counts": selectors.share_counts(user),
            "filters": [
                ("", _("All")),
                ("waiting", _("Needs you")),
                ("scheduled", _("Scheduled")),
                ("published", _("Published")),
                ("failed", _("Failed")),
                ("closed", _("Closed")),
            ],
            "querystring": f"status={status_filter}" if status_filter else "",
            "moving": moving,
            "pause": selectors.pause_of(user),
        },
    )


@login_required
def share_detail(request: MemberRequest, pk: int) -> HttpResponse:
    share = selectors.share_for_user(request.user, pk)
    # The last 50 attempts, oldest first: the summary reads the latest one.
    attempts = list(share.attempts.order_by("-started_at", "-pk")[:50])[::-1]
    network = share.get_network_display()
    return render(
        request,
        "advocacy/share_detail.html",
        {
            "share": share,
            "summary": outcome_text.share_summary(share, attempts, viewer=request.user),
            "attempts": [
                (attempt, outcome_text.attempt_sentence(attempt, network=network))
                for attempt in attempts
            ],
            # The raw exchanges with the network are for the people who fix things.
            "show_technical": request.user.is_org_admin,
            "link": selectors.share_link_url(share),
        },
    )


# Lazy: translated in the language of each request, not once at import.
_ACTIONS = {
    "cancel": (sharing.share_cancel, gettext_lazy("Cancelled.")),
    "retry": (sharing.share_retry, gettext_lazy("We will try again now.")),
    "confirm": (sharing.share_confirm, gettext_lazy("Thank you! Your share counts.")),
    "dismiss": (sharing.share_dismiss, gettext_lazy("Noted: it was not posted.")),
}


@login_required
@require_POST
def share_action(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    if verb not in _ACTIONS:
        raise Http404
    share = selectors.share_for_user(request.user, pk)
    action, done = _ACTIONS[verb]
    if request.POST.get("sheet") == "1":
        # From the share sheet (htmx): the answer replaces the sheet's content.
        try:
            share = action(user=request.user, share=share)
        except DomainError as error:
            return render(
                request,
                "advocacy/_share_sheet_done.html",
                {"share": share, "outcome": "error", "message": error.message},
            )
        return render(
            request,
            "advocacy/_share_sheet_done.html",
            {"share": share, "outcome": verb, "message": str(done)},
        )
    try:
        action(user=request.user, share=share)
    except DomainError as error:
        _domain_error(request, error)
    else:
        messages.success(request, str(done))
    return redirect(request.POST["next"]) if _safe_next(request) else redirect("my_shares")


def _safe_next(request: MemberRequest) -> bool:
    target = request.POST.get("next", "")
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


# --- networks and posting slots -----------------------------------------------------------


@login_required
def networks(request: MemberRequest) -> HttpResponse:
    user = request.user
    slot_form = SlotForm(request.POST or None) if request.POST.get("form") == "slot" else SlotForm()
    connectors = {
        network: package for network, _label, package in selectors.connectable_networks(user)
    }
    if request.method == "POST":
        try:
            verb = request.POST.get("form")
            if verb == "connect":
                package = connectors.get(request.POST.get("network", ""))
                if package is None:
                    raise DomainError(_("This network offers share links only here."))
                return package.connect_start(request, user, request.POST.get("network", ""))
            elif verb == "disconnect":
                account = selectors.accounts_of(user).get(request.POST.get("network", ""))
                if account is None:
                    raise Http404
                revoked = account_services.account_disconnect(
                    user=user, account=account, request=request
                )
                if revoked:
                    messages.success(
                        request, _("Disconnected: the network has withdrawn our access.")
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "Disconnected: we deleted your token. %(network)s cannot withdraw "
                            "it for us; remove Portevoix from your %(network)s settings if you "
                            "wish."
                        )
                        % {"network": account.get_network_display()},
                    )
            elif verb == "slot":
                if slot_form.is_valid():
                    current = sharing.slots_of(user) if user.posting_slots.exists() else []
                    sharing.slots_replace(
                        user=user,
                        slots=[
                            *current,
                            (slot_form.cleaned_data["weekday"], slot_form.cleaned_data["time"]),
                        ],
                    )
                    messages.success(request, _("Posting slot added."))
                    return redirect("networks")
            elif verb == "slot-remove":
                weekday, moment = request.POST.get("weekday", ""), request.POST.get("time", "")
                kept = [
                    (d, t)
                    for d, t in sharing.slots_of(user)
                    if not (str(d) == weekday and t.strftime("%H:%M") == moment)
                ]
                sharing.slots_replace(user=user, slots=kept)
                messages.success(request, _("Posting slot removed."))
                return redirect("networks")
            else:
                raise Http404
            if verb != "slot":
                return redirect("networks")
        except DomainError as error:
            _domain_error(request, error)
    accounts = selectors.accounts_of(user)
    rows = [
        {
            "network": network,
            "label": label,
            "connector": connectors.get(network),
            "account": accounts.get(network),
        }
        for network, label, _package in selectors.connectable_networks(user)
    ]
    own_slots = user.posting_slots.exists()
    response = render(
        request,
        "advocacy/networks.html",
        {
            "rows": rows,
            "slots": sharing.slots_of(user),
            "own_slots": own_slots,
            "slot_form": slot_form,
            "any_connector": any(row["connector"] for row in rows),
        },
    )
    # A Connect button posts here and is redirected to the network's consent page: the
    # browser checks that redirect against this page's form-action.
    origins = sorted(
        {
            _origin(package.consent_url())
            for package in connectors.values()
            if package is not None and package.consent_url is not None
        }
    )
    if origins:
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@login_required
def network_reconnect(request: MemberRequest, network: str) -> HttpResponse:
    """One click from the reminder or the notification: straight to the network's consent
    page (the OAuth state, kept in the session, protects the way back)."""
    package = next(
        (p for n, _label, p in selectors.connectable_networks(request.user) if n == network),
        None,
    )
    if package is None:
        messages.error(request, _("This network offers share links only here."))
        return redirect("networks")
    try:
        return package.connect_start(request, request.user, network)
    except DomainError as error:
        _domain_error(request, error)
        return redirect("networks")


# --- org admin ------------------------------------------------------------------------------


@org_admin_required
def sharing_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    form = PauseForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "resume":
                sharing.sharing_resume(actor=user, request=request)
                messages.success(request, _("Sharing resumed: waiting posts go out now."))
                return redirect("sharing_admin")
            if form.is_valid():
                sharing.sharing_pause(
                    actor=user, reason=form.cleaned_data["reason"], request=request
                )
                messages.warning(
                    request, _("Sharing is paused. Nothing is published until you resume.")
                )
                return redirect("sharing_admin")
        except DomainError as error:
            _domain_error(request, error)
    page = Paginator(selectors.problem_shares(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "advocacy/admin.html",
        {"form": form, "pause": selectors.pause_of(user), "page": page, "querystring": ""},
    )


@org_admin_required
def network_apps_admin(request: MemberRequest) -> HttpResponse:
    """The organisation's apps at X and LinkedIn: credentials, API posting or share links
    only, the callback to register, a connection test, this month's API posts."""
    from advocacy.forms import NetworkAppForm
    from advocacy.networks import packages
    from advocacy.services import network_apps

    user = request.user
    posted: dict[str, NetworkAppForm] = {}
    if request.method == "POST":
        adapter, action = request.POST.get("adapter", ""), request.POST.get("action", "save")
        try:
            if action == "delete":
                network_apps.network_app_delete(actor=user, adapter=adapter, request=request)
                messages.success(request, _("Removed: this network is share links only now."))
                return redirect("network_apps_admin")
            if action == "test":
                messages.success(
                    request, network_apps.network_app_test(actor=user, adapter=adapter)
                )
                return redirect("network_apps_admin")
            form = NetworkAppForm(request.POST)
            posted[adapter] = form
            if form.is_valid():
                network_apps.network_app_save(
                    actor=user, adapter=adapter, request=request, **form.cleaned_data
                )
                messages.success(request, _("Saved."))
                return redirect("network_apps_admin")
        except DomainError as error:
            _domain_error(request, error)
    rows = selectors.network_app_rows(user)
    for row in rows:
        row["form"] = posted.get(row["name"]) or NetworkAppForm(initial=row["initial"])
    return render(
        request,
        "advocacy/network_apps.html",
        {"rows": rows, "any_package": bool(packages())},
    )

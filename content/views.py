"""HTML views of the content library: the employee feed and content pages, the editors'
library, editor, review queue and calendar, suggestions, guidelines and compliance."""

from __future__ import annotations

import copy
import difflib
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import markdown
import nh3
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from content import calendar, chains, compliance, feed_cache, selectors, services
from content.extensions import feed_cards_prepare
from content.forms import (
    ChainForm,
    ChainRuleForm,
    ContentForm,
    DecisionForm,
    GuidelineForm,
    LibraryFilterForm,
    PolicyForm,
    ReviewerGroupForm,
    RuleForm,
    StepForm,
    SuggestionForm,
    split_captions,
)
from content.models import (
    ContentKind,
    ContentStatus,
    GuidelineKind,
    Network,
    SuggestionStatus,
)
from content.paging import CountInPagePaginator
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.models import Language
from organizations.views import form_error, org_admin_required

PAGE_SIZE = 12


def _page(request: HttpRequest, items: object, size: int = PAGE_SIZE) -> object:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def render_markdown(text: str) -> str:
    """Guideline pages are Markdown written by editors; the HTML is sanitised all the same."""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer"))


# --- Feed -------------------------------------------------------------------------------


@login_required
def feed(request: MemberRequest) -> HttpResponse:
    user = request.user
    topic, q = request.GET.get("topic", ""), request.GET.get("q", "").strip()
    new_only = request.GET.get("new") == "1"
    contents = selectors.feed_items(user, topic=topic, q=q, new_only=new_only)
    number = request.GET.get("page", "1")
    kept, key, version = None, None, None
    if not q and not new_only and number.isdigit() and int(number) > 0:
        # Which items a page holds, and the total, are kept per audience like the API's
        # pages (content/feed_cache.py); the items themselves are read by id.
        key, kept, version = feed_cache.feed_page_lookup(
            user, topic=topic, number=int(number), size=PAGE_SIZE, base="html"
        )
    if kept is not None:
        ids, total = kept
        assert key is not None
        items = feed_cache.feed_items_kept(key)
        if items is None:
            rows = {content.pk: content for content in contents.filter(pk__in=ids)}
            items = selectors.feed_page_complete([rows[pk] for pk in ids if pk in rows])
            feed_cache.feed_items_keep(key, items)
        paginator = CountInPagePaginator([], PAGE_SIZE)
        paginator.__dict__["count"] = total  # Paginator.count is a cached property
        # Copies: the cards' actions and extras set on them below are this person's.
        page = paginator._get_page([copy.copy(item) for item in items], int(number), paginator)
    else:
        # The total comes with the page's rows (a window count), not from a COUNT before.
        page = CountInPagePaginator(contents, PAGE_SIZE).get_page(number)
        if key is not None and page.number == int(number):
            feed_cache.feed_page_set(
                key,
                ([content.pk for content in page.object_list], page.paginator.count),
                organization_id=user.organization_id,
            )
    # One list, read once: the cards' actions and extras (points, challenges) are asked
    # for the whole page at a time.
    page.object_list = selectors.feed_page_complete(list(page.object_list))  # type: ignore[attr-defined]
    feed_cards_prepare(user, page.object_list)  # type: ignore[attr-defined]
    previous_visit = services.feed_visit_record(user=user)
    return render(
        request,
        "content/feed.html",
        {
            "page": page,
            "topics": selectors.topics_of(user),
            "topic": topic,
            "q": q,
            "new_only": new_only,
            "previous_visit": previous_visit,
            "querystring": _querystring(request),
            "charter_pending": selectors.charter_pending(user),
            # The cards (content/templatetags/feed_cards.py) are kept under this version.
            **({"feed_version": version} if version else {}),
        },
    )


def _network_captions(content, user) -> list[dict[str, object]]:
    rules = services.compliance_rules_for(content.organization)
    rows = []
    for network in Network:
        caption = selectors.caption_for(content, network.value, user)
        if caption is None:
            continue
        preview = compliance.caption_preview(
            text=caption.text, network=network.value, rules=rules, link_url=content.link_url
        )
        rows.append(
            {
                "network": network.value,
                "label": network.label,
                "caption": caption,
                "text": preview.text,
                "length": preview.length,
                "limit": preview.limit,
            }
        )
    return rows


@login_required
def content_detail(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    content = selectors.content_for_user(user, pk)
    is_team = user.role in selectors.LIBRARY_ROLES
    context = {
        "content": content,
        "captions": _network_captions(content, user),
        "is_team": is_team,
        "charter_pending": selectors.charter_pending(user),
    }
    if is_team:
        context.update(
            versions=content.versions.select_related("author")[:20],
            reviews=content.reviews.select_related("reviewer")[:20],
            chain=chains.chain_state(content, user),
            decision_form=DecisionForm(),
        )
    return render(request, "content/detail.html", context)


@login_required
def content_link_preview(request: MemberRequest, pk: int) -> HttpResponse:
    """The link preview card, polled by htmx while the worker fetches it."""
    content = selectors.content_for_user(request.user, pk)
    return render(request, "content/_link_preview.html", {"content": content})


# --- Library and editor -----------------------------------------------------------------


def _require_library(request: HttpRequest) -> None:
    if request.user.role not in selectors.LIBRARY_ROLES:
        raise Http404


@login_required
def library(request: MemberRequest) -> HttpResponse:
    _require_library(request)
    user = request.user
    topics = list(selectors.topics_of(user))
    form = LibraryFilterForm(request.GET, topics=topics, authors=selectors.library_authors(user))
    form.is_valid()  # a bad value is shown next to its field; the other filters still apply
    filters = form.filters()
    return render(
        request,
        "content/library.html",
        {
            "form": form,
            "page": _page(request, selectors.library_list(user, **filters), 20),
            "filtered": any(filters.values()),
            "querystring": _querystring(request),
            "pending_suggestions": selectors.pending_suggestion_count(user),
        },
    )


def _editor(request: MemberRequest, content=None) -> HttpResponse:
    user = request.user
    if not user.can_edit_content:
        raise Http404
    initial = (
        ContentForm.initial_for(content)
        if content
        else {
            "language": user.language,
            "publish_at": timezone.localtime().replace(second=0, microsecond=0),
            "kind": ContentKind.LINK,
        }
    )
    form = ContentForm(
        request.POST or None, request.FILES or None, organization=user.organization, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            if content is None:
                content = services.content_create(actor=user, data=form.to_input(), request=request)
                messages.success(request, _("Draft saved."))
            else:
                was = content.status
                content = services.content_update(
                    actor=user, content=content, data=form.to_input(), request=request
                )
                if was == ContentStatus.APPROVED:
                    messages.warning(request, _("Saved. The changes go back to review."))
                else:
                    messages.success(request, _("Saved."))
        except DomainError as error:
            form_error(form, error)
        else:
            return redirect("content_detail", pk=content.pk)
    return render(
        request,
        "content/editor.html",
        {"form": form, "content": content, "networks": Network.choices},
    )


@login_required
def content_create(request: MemberRequest) -> HttpResponse:
    return _editor(request)


@login_required
def content_edit(request: MemberRequest, pk: int) -> HttpResponse:
    content = selectors.content_for_user(request.user, pk, write=True)
    if content.status == ContentStatus.WITHDRAWN:
        messages.error(request, _("Withdrawn content cannot be edited."))
        return redirect("content_detail", pk=pk)
    return _editor(request, content)


@login_required
@require_POST
def caption_preview(request: MemberRequest) -> HttpResponse:
    """The editor's live per-network preview: counts and compliance hints (htmx)."""
    user = request.user
    if user.organization_id is None:
        raise Http404
    rules = services.compliance_rules_for(user.organization)
    link_url = request.POST.get("link_url", "").strip()
    rows = []
    for network in Network:
        texts = split_captions(request.POST.get(f"{network.value}_captions", ""))
        for text in texts:
            preview = compliance.caption_preview(
                text=text, network=network.value, rules=rules, link_url=link_url
            )
            rows.append({"label": network.label, "preview": preview})
    return render(request, "content/_caption_preview.html", {"rows": rows})


@login_required
@require_POST
def content_action(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    user = request.user
    content = selectors.content_for_user(user, pk)
    comment = request.POST.get("comment", "")
    try:
        if verb == "submit":
            services.content_submit(actor=user, content=content, request=request)
            messages.success(request, _("Submitted for review."))
        elif verb == "approve":
            content = services.content_approve(
                actor=user, content=content, comment=comment, request=request
            )
            if content.status == ContentStatus.APPROVED:
                messages.success(request, _("Approved."))
            else:
                messages.success(request, _("Your approval is recorded; more are needed."))
        elif verb == "reject":
            services.content_reject(actor=user, content=content, comment=comment, request=request)
            messages.success(request, _("Sent back to the author with your comment."))
        elif verb == "withdraw":
            services.content_withdraw(
                actor=user, content=content, reason=request.POST.get("reason", ""), request=request
            )
            messages.success(request, _("Withdrawn. Employees no longer see it."))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
        for problem in error.errors:
            messages.error(request, problem)
    return redirect("content_detail", pk=pk)


@login_required
def content_version(request: MemberRequest, pk: int, number: int) -> HttpResponse:
    _require_library(request)
    content = selectors.content_for_user(request.user, pk)
    snapshots = {
        v.number: v.snapshot for v in content.versions.filter(number__in=[number - 1, number])
    }
    if number not in snapshots:
        raise Http404
    changed, unchanged = _version_rows(snapshots.get(number - 1, {}), snapshots[number])
    return render(
        request,
        "content/version.html",
        {"content": content, "number": number, "changes": changed, "unchanged": unchanged},
    )


# The snapshot's keys (content.services._snapshot) as people name them.
_VERSION_FIELDS = {
    "kind": gettext_lazy("Kind"),
    "title": gettext_lazy("Title"),
    "why_it_matters": gettext_lazy("Why it matters"),
    "link_url": gettext_lazy("Link"),
    "image": gettext_lazy("Image"),
    "hashtags": gettext_lazy("Hashtags"),
    "topics": gettext_lazy("Topics"),
    "language": gettext_lazy("Language"),
    "audience": gettext_lazy("Audience"),
    "publish_at": gettext_lazy("Publish at"),
    "expires_at": gettext_lazy("Expires at"),
    "pinned": gettext_lazy("Pinned at the top of the feed"),
    "evergreen": gettext_lazy("Evergreen (our positions)"),
    "caption_locked": gettext_lazy("Employees cannot edit the caption"),
}


def _version_value(key: str, value: object) -> str:
    """A snapshot value as a person reads it: words for yes/no and kinds, local dates."""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key in ("publish_at", "expires_at") and isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if key == "kind" and value in ContentKind.values:
        return str(ContentKind(value).label)
    if key == "language" and value in Language.values:
        return str(Language(value).label)
    return "" if value is None else str(value)


def _word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(tag, text) pieces, tag "equal", "delete" or "insert", word by word; spaces are
    pieces of their own, so the text reads as written and "unies" matches "unies "."""
    old, new = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("delete", "".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(("insert", "".join(new[j1:j2])))
    return pieces


def _version_rows(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Changed rows with their word diff (each caption on its own row) and unchanged rows."""
    changed: list[dict[str, Any]] = []
    unchanged: list[dict[str, Any]] = []
    for key, label in _VERSION_FIELDS.items():
        old = _version_value(key, before.get(key, ""))
        new = _version_value(key, after.get(key, ""))
        row = {"label": label, "value": new}
        if old == new:
            unchanged.append(row)
        else:
            changed.append({**row, "diff": _word_diff(old, new)})
    old_captions, new_captions = before.get("captions") or {}, after.get("captions") or {}
    for network in Network:
        olds, news = old_captions.get(network.value, []), new_captions.get(network.value, [])
        for index in range(max(len(olds), len(news))):
            old = olds[index] if index < len(olds) else ""
            new = news[index] if index < len(news) else ""
            label = _("%(network)s caption %(n)s") % {"network": network.label, "n": index + 1}
            row = {"label": label, "value": new}
            if old == new:
                unchanged.append(row)
            else:
                changed.append({**row, "diff": _word_diff(old, new)})
    return changed, unchanged


@login_required
def review_queue(request: MemberRequest) -> HttpResponse:
    if not request.user.can_review:
        raise Http404
    mine = request.GET.get("mine") == "1"
    return render(
        request,
        "content/review.html",
        {
            "page": _page(request, selectors.review_queue(request.user, mine=mine), 20),
            "mine": mine,
            "querystring": _querystring(request),
            "now_time": timezone.now(),
        },
    )


@login_required
def content_calendar(request: MemberRequest) -> HttpResponse:
    """The publication calendar: a month (`?month=YYYY-MM`) or a week (`?view=week&week=
    YYYY-Www` or `&date=YYYY-MM-DD`), days and "today" in the organisation's time zone."""
    _require_library(request)
    user = request.user
    if user.organization is None:
        raise Http404
    zone = ZoneInfo(user.organization.time_zone)
    today = timezone.localdate(timezone=zone)
    view = request.GET.get("view", "")
    if view not in (calendar.MONTH_VIEW, calendar.WEEK_VIEW):
        week_asked = "week" in request.GET or "date" in request.GET
        view = calendar.WEEK_VIEW if week_asked else calendar.MONTH_VIEW
    unreadable = False
    if view == calendar.WEEK_VIEW:
        raw = request.GET.get("week") or request.GET.get("date") or ""
        monday = calendar.parse_week(raw, today) if raw else None
        unreadable = bool(raw) and monday is None
        monday = monday or today - timedelta(days=today.weekday())
        days = [monday + timedelta(days=n) for n in range(7)]
        anchor = monday
        previous, following = monday - timedelta(days=7), monday + timedelta(days=7)
        links = {
            "previous": f"?view=week&week={calendar.week_key(previous)}",
            "next": f"?view=week&week={calendar.week_key(following)}",
            "today": "?view=week",
            "month": f"?month={calendar.month_key(monday)}",
            "week": f"?view=week&week={calendar.week_key(monday)}",
        }
    else:
        raw = request.GET.get("month", "")
        if raw and "year" in request.GET:  # the old address: ?year=2026&month=12
            raw = f"{request.GET['year']}-{raw}"
        first = calendar.parse_month(raw, today) if raw else None
        unreadable = bool(raw) and first is None
        first = first or today.replace(day=1)
        weeks = calendar.month_weeks(first)
        days = [day for week in weeks for day in week]
        anchor = first
        previous, following = calendar.previous_month(first), calendar.next_month(first)
        # The week switch opens the week of today when it is in this month, else the first.
        week_of = today if (today.year, today.month) == (first.year, first.month) else first
        links = {
            "previous": f"?month={calendar.month_key(previous)}",
            "next": f"?month={calendar.month_key(following)}",
            "today": "?",
            "month": f"?month={calendar.month_key(first)}",
            "week": f"?view=week&week={calendar.week_key(week_of)}",
        }
    items = selectors.calendar_range(user, start=days[0], end=days[-1])
    cells = calendar.build_days(
        days, items, today=today, month=anchor.month if view == calendar.MONTH_VIEW else None
    )
    return render(
        request,
        "content/calendar.html",
        {
            "view": view,
            "anchor": anchor,
            "days": cells,
            "weeks": [cells[i : i + 7] for i in range(0, len(cells), 7)],
            "weekdays": days[:7],
            "agenda": [cell for cell in cells if cell.items and cell.in_period],
            "week_end": days[-1],
            "links": links,
            "today": today,
            "unreadable": unreadable,
            "post_count": sum(len(cell.items) for cell in cells if cell.in_period),
        },
    )


# --- Suggestions ------------------------------------------------------------------------


@login_required
def suggestions(request: MemberRequest) -> HttpResponse:
    user = request.user
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suggestion_create(actor=user, request=request, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Thank you! The communications team will look at it."))
            return redirect("suggestions")
    status = request.GET.get("status", SuggestionStatus.PENDING if user.can_edit_content else "")
    if status not in SuggestionStatus.values:
        status = ""
    return render(
        request,
        "content/suggestions.html",
        {
            "form": form,
            "status": status,
            "statuses": SuggestionStatus.choices,
            "page": _page(request, selectors.suggestions_for(user, status=status), 20),
            "querystring": _querystring(request),
        },
    )


@login_required
@require_POST
def suggestion_decide(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    if verb not in ("accept", "decline") or not request.user.can_edit_content:
        raise Http404
    suggestion = selectors.suggestion_for_user(request.user, pk)
    try:
        suggestion = services.suggestion_decide(
            actor=request.user,
            suggestion=suggestion,
            accept=verb == "accept",
            note=request.POST.get("note", ""),
            request=request,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("suggestions")
    if suggestion.content_id:
        messages.success(request, _("Accepted: a draft was created. Complete it and submit it."))
        return redirect("content_edit", pk=suggestion.content_id)
    messages.success(request, _("Declined. The employee is told."))
    return redirect("suggestions")


# --- Guidelines -------------------------------------------------------------------------


@login_required
def guidelines(request: MemberRequest) -> HttpResponse:
    user = request.user
    pages = {g.kind: g for g in selectors.guidelines_of(user)}
    return render(
        request,
        "content/guidelines.html",
        {
            "pages": [(kind, pages.get(kind.value)) for kind in GuidelineKind],
            "charter_pending": selectors.charter_pending(user),
        },
    )


@login_required
def guideline_page(request: MemberRequest, kind: str) -> HttpResponse:
    user = request.user
    guideline = selectors.guideline_for_user(user, kind)
    pending = selectors.charter_pending(user) if kind == GuidelineKind.CHARTER else None
    return render(
        request,
        "content/guideline.html",
        {
            "guideline": guideline,
            "html": render_markdown(guideline.body),
            "pending": pending,
            "next": request.GET.get("next", ""),
        },
    )


@login_required
def guideline_edit(request: MemberRequest, kind: str) -> HttpResponse:
    user = request.user
    if not user.can_edit_content or kind not in GuidelineKind.values:
        raise Http404
    current = selectors.guidelines_of(user).filter(kind=kind).first()
    form = GuidelineForm(
        request.POST or None,
        initial={"title": current.title, "body": current.body}
        if current
        else {"title": GuidelineKind(kind).label},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.guideline_save(actor=user, kind=kind, request=request, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Page saved."))
            return redirect("guideline_page", kind=kind)
    return render(
        request,
        "content/guideline_edit.html",
        {"form": form, "kind": GuidelineKind(kind), "current": current},
    )


@login_required
@require_POST
def charter_accept(request: MemberRequest) -> HttpResponse:
    try:
        services.charter_accept(user=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("guidelines")
    messages.success(request, _("Thank you: the charter is accepted."))
    next_url = request.POST.get("next", "")
    from django.utils.http import url_has_allowed_host_and_scheme

    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("feed")


# --- Compliance (org admin) -------------------------------------------------------------


@org_admin_required
def compliance_settings(request: MemberRequest) -> HttpResponse:
    user = request.user
    policy = services.policy_for(user.organization)
    policy_form = PolicyForm(
        request.POST if "save_policy" in request.POST else None,
        initial={
            f: getattr(policy, f)
            for f in (
                "disclosure",
                "linkedin_max_length",
                "x_max_length",
                "facebook_max_length",
            )
        },
    )
    rule_form = RuleForm(request.POST if "add_rule" in request.POST else None)
    if request.method == "POST":
        try:
            if "save_policy" in request.POST and policy_form.is_valid():
                services.policy_update(actor=user, request=request, **policy_form.cleaned_data)
                messages.success(request, _("Policy saved."))
                return redirect("compliance_settings")
            if "add_rule" in request.POST and rule_form.is_valid():
                services.compliance_rule_add(actor=user, request=request, **rule_form.cleaned_data)
                messages.success(request, _("Rule added."))
                return redirect("compliance_settings")
            if "remove_rule" in request.POST:
                rule = selectors.rules_of(user).filter(pk=request.POST.get("remove_rule")).first()
                if rule is None:
                    raise Http404
                services.compliance_rule_remove(actor=user, rule=rule, request=request)
                messages.success(request, _("Rule removed."))
                return redirect("compliance_settings")
        except DomainError as error:
            form_error(rule_form if "add_rule" in request.POST else policy_form, error)
    return render(
        request,
        "content/compliance.html",
        {"policy_form": policy_form, "rule_form": rule_form, "rules": selectors.rules_of(user)},
    )


# --- RSS and Atom feeds (editors) -------------------------------------------------------


def _require_feed_editor(request: HttpRequest) -> None:
    if not request.user.can_edit_content:
        raise Http404


def _feed_form(request: MemberRequest, subscription=None):  # type: ignore[no-untyped-def]
    # Imported here: content.forms imports content.feeds, which the rest of this module
    # never needs.
    from content.forms import FeedForm

    data = request.POST if request.method == "POST" else None
    initial = FeedForm.initial_for(subscription) if subscription else {"mode": "draft"}
    return FeedForm(data, organization=request.user.organization, initial=initial)


@login_required
def feeds(request: MemberRequest) -> HttpResponse:
    """The organisation's RSS and Atom subscriptions, with a form to add one."""
    from content import feeds as feed_services

    _require_feed_editor(request)
    user = request.user
    form = _feed_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            feed_services.feed_subscription_create(
                actor=user, data=form.to_input(), request=request
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Feed added. Its new items will arrive in the library."))
            return redirect("feeds")
    subscriptions = list(feed_services.feed_subscriptions_of(user))
    for subscription in subscriptions:
        subscription.state = feed_services.feed_state(subscription)  # type: ignore[attr-defined]
    return render(
        request,
        "content/feeds.html",
        {
            "form": form,
            "subscriptions": subscriptions,
            "max_failures": feed_services.FEED_MAX_FAILURES,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def feed_edit(request: MemberRequest, pk: int) -> HttpResponse:
    from content import feeds as feed_services

    _require_feed_editor(request)
    subscription = feed_services.feed_subscription_for_user(request.user, pk)
    form = _feed_form(request, subscription)
    if request.method == "POST" and form.is_valid():
        try:
            feed_services.feed_subscription_update(
                actor=request.user, subscription=subscription, data=form.to_input(), request=request
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Feed saved."))
            return redirect("feeds")
    return render(
        request,
        "content/feeds.html",
        {"form": form, "editing": subscription},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def feed_action(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    from content import feeds as feed_services

    _require_feed_editor(request)
    subscription = feed_services.feed_subscription_for_user(request.user, pk)
    user = request.user
    try:
        if verb == "pause":
            feed_services.feed_subscription_pause(
                actor=user, subscription=subscription, request=request
            )
            messages.success(request, _("Feed paused. It is no longer fetched."))
        elif verb == "resume":
            feed_services.feed_subscription_resume(
                actor=user, subscription=subscription, request=request
            )
            messages.success(request, _("The feed will be fetched in a moment."))
        elif verb == "delete":
            feed_services.feed_subscription_delete(
                actor=user, subscription=subscription, request=request
            )
            messages.success(request, _("Feed deleted. The drafts it made stay in the library."))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("feeds")


# --- Approval chains (org admin) ----------------------------------------------------------


def _chain_forms(request: MemberRequest, post: Any = None) -> dict[str, Any]:
    organization = request.user.organization
    return {
        "chain_form": ChainForm(post if "create_chain" in request.POST else None),
        "rule_form": ChainRuleForm(
            post if "add_rule" in request.POST else None, organization=organization
        ),
        "group_form": ReviewerGroupForm(
            post if "create_group" in request.POST else None,
            organization=organization,
            prefix="group",
        ),
    }


@org_admin_required
def approval_chains_admin(request: MemberRequest) -> HttpResponse:
    """The organisation's approval chains, the rules that choose them and the reviewer
    groups; each chain's steps are edited on its own page."""
    user = request.user
    forms = _chain_forms(request, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        form: Any = None
        try:
            if "create_chain" in request.POST:
                form = forms["chain_form"]
                if form.is_valid():
                    chain = chains.chain_save(actor=user, request=request, **form.cleaned_data)
                    messages.success(request, _("Chain created. Now give it its steps."))
                    return redirect("approval_chain_edit", pk=chain.pk)
            elif "add_rule" in request.POST:
                form = forms["rule_form"]
                if form.is_valid():
                    chains.rule_add(
                        actor=user,
                        chain=form.cleaned_data["chain"],
                        data=form.rule_input(),
                        request=request,
                    )
                    messages.success(request, _("Rule added."))
                    return redirect("approval_chains_admin")
            elif "remove_rule" in request.POST:
                rule = chains.rules_of(user).filter(pk=_int(request.POST["remove_rule"])).first()
                if rule is None:
                    raise Http404
                chains.rule_delete(actor=user, rule=rule, request=request)
                messages.success(request, _("Rule removed."))
                return redirect("approval_chains_admin")
            elif "create_group" in request.POST:
                form = forms["group_form"]
                if form.is_valid():
                    chains.reviewer_group_save(
                        actor=user,
                        name=form.cleaned_data["name"],
                        members=list(form.cleaned_data["members"]),
                        request=request,
                    )
                    messages.success(request, _("Reviewer group created."))
                    return redirect("approval_chains_admin")
        except DomainError as error:
            if form is not None:
                form_error(form, error)
            else:
                messages.error(request, error.message)
    return render(
        request,
        "content/approval_chains.html",
        {
            **forms,
            "page": _page(request, chains.chains_of(user), 20),
            "rules": chains.rules_of(user),
            "groups": chains.reviewer_groups_of(user),
        },
    )


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@org_admin_required
def approval_chain_edit(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    organization = user.organization
    chain = chains.chain_for_user(user, pk)
    post = request.POST if request.method == "POST" else None
    chain_form = ChainForm(
        post if "save_chain" in request.POST else None,
        initial={"name": chain.name, "is_default": chain.is_default},
    )
    step_form = StepForm(
        post if "add_step" in request.POST else None, organization=organization, prefix="new"
    )
    steps = list(chain.steps.all())
    editing = _int(request.POST["step"]) if "save_step" in request.POST else None
    step_forms = [
        (
            step,
            StepForm(
                post if step.pk == editing else None,
                organization=organization,
                prefix=f"step{step.pk}",
                initial={
                    "name": step.name,
                    "required_approvals": step.required_approvals,
                    "deadline_hours": step.deadline_hours,
                    "reviewers": list(step.reviewers.all()),
                    "reviewer_group": step.reviewer_group,
                },
            ),
        )
        for step in steps
    ]
    by_pk = {step.pk: step for step in steps}
    if request.method == "POST":
        form: Any = None
        try:
            if "save_chain" in request.POST:
                form = chain_form
                if form.is_valid():
                    chains.chain_save(actor=user, chain=chain, request=request, **form.cleaned_data)
                    messages.success(request, _("Chain saved."))
                    return redirect("approval_chain_edit", pk=chain.pk)
            elif "delete_chain" in request.POST:
                chains.chain_delete(actor=user, chain=chain, request=request)
                messages.success(request, _("Chain deleted."))
                return redirect("approval_chains_admin")
            elif "add_step" in request.POST:
                form = step_form
                if form.is_valid():
                    chains.step_add(
                        actor=user, chain=chain, data=form.step_input(), request=request
                    )
                    messages.success(request, _("Step added."))
                    return redirect("approval_chain_edit", pk=chain.pk)
            elif "save_step" in request.POST:
                step = by_pk.get(editing)  # type: ignore[arg-type]
                if step is None:
                    raise Http404
                form = next(f for s, f in step_forms if s.pk == step.pk)
                if form.is_valid():
                    chains.step_update(
                        actor=user, step=step, data=form.step_input(), request=request
                    )
                    messages.success(request, _("Step saved."))
                    return redirect("approval_chain_edit", pk=chain.pk)
            else:
                for verb in ("move_up", "move_down", "delete_step"):
                    if verb in request.POST:
                        step = by_pk.get(_int(request.POST[verb]))
                        if step is None:
                            raise Http404
                        if verb == "delete_step":
                            chains.step_delete(actor=user, step=step, request=request)
                            messages.success(request, _("Step deleted."))
                        else:
                            chains.step_move(
                                actor=user, step=step, up=verb == "move_up", request=request
                            )
                        return redirect("approval_chain_edit", pk=chain.pk)
        except DomainError as error:
            if form is not None:
                form_error(form, error)
            else:
                messages.error(request, error.message)
    return render(
        request,
        "content/approval_chain.html",
        {
            "chain": chain,
            "chain_form": chain_form,
            "step_form": step_form,
            "step_forms": step_forms,
            "editing": editing,
            "rules": chain.rules.all(),
        },
    )


@org_admin_required
def reviewer_group_edit(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    group = chains.reviewer_groups_of(user).filter(pk=pk).first()
    if group is None:
        raise Http404
    form = ReviewerGroupForm(
        request.POST if "save_group" in request.POST else None,
        organization=user.organization,
        initial={"name": group.name, "members": list(group.members.all())},
    )
    if request.method == "POST":
        try:
            if "delete_group" in request.POST:
                chains.reviewer_group_delete(actor=user, group=group, request=request)
                messages.success(request, _("Reviewer group deleted."))
                return redirect("approval_chains_admin")
            if "save_group" in request.POST and form.is_valid():
                chains.reviewer_group_save(
                    actor=user,
                    group=group,
                    name=form.cleaned_data["name"],
                    members=list(form.cleaned_data["members"]),
                    request=request,
                )
                messages.success(request, _("Reviewer group saved."))
                return redirect("approval_chains_admin")
        except DomainError as error:
            if "delete_group" in request.POST:
                messages.error(request, error.message)
            else:
                form_error(form, error)
    return render(request, "content/reviewer_group.html", {"group": group, "form": form})

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import push, selectors, services
from notifications.forms import NotificationPreferencesForm
from organizations.errors import DomainError
from organizations.http import MemberRequest


@login_required
def notification_list(request: MemberRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(
        selectors.notifications_for(request.user, unread_only=unread_only), 20
    ).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page, "unread_only": unread_only})


@login_required
def notification_badge(request: MemberRequest) -> HttpResponse:
    """The bell's unread count, polled by htmx."""
    return render(
        request, "notifications/_bell.html", {"unread_count": selectors.unread_count(request.user)}
    )


@login_required
@require_POST
def notification_mark_read(request: MemberRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(i) for i in raw if i.isdecimal()] if raw else None
    services.notifications_mark_read(user=request.user, ids=ids)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("notifications")


@login_required
def notification_preferences(request: MemberRequest) -> HttpResponse:
    push_on = push.push_configured()
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST)
        form.is_valid()  # unknown kinds are dropped, never refused: always valid
        services.email_preferences_set(
            user=request.user, email_kinds=set(form.cleaned_data.get("email", []))
        )
        if push_on:
            push.push_preferences_set(
                user=request.user, push_kinds=set(form.cleaned_data.get("push", []))
            )
        messages.success(
            request,
            _("Your notification preferences are saved.")
            if push_on
            else _("Your email preferences are saved."),
        )
        return redirect("notification_preferences")
    preferences = selectors.email_preferences(request.user)
    pushed = {key: on for key, _label, on in push.push_preferences(request.user)} if push_on else {}
    rows = [
        {"key": key, "label": label, "email": email, "push": pushed.get(key)}
        for key, label, email in preferences
    ]
    return render(
        request,
        "notifications/preferences.html",
        {
            "preferences": preferences,
            "rows": rows,
            "push_on": push_on,
            "vapid_public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY if push_on else "",
            "devices": list(push.push_subscriptions_of(request.user).order_by("-created_at"))
            if push_on
            else [],
        },
    )


def _problem(status: int, detail: str, field: str = "") -> JsonResponse:
    return JsonResponse(
        {
            "type": "about:blank",
            "title": _("Request refused"),
            "status": status,
            "detail": detail,
            "errors": [{"field": field, "message": detail}],
        },
        status=status,
        content_type="application/problem+json",
    )


def _json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise DomainError(_("Send the subscription as JSON (Content-Type: application/json)."))
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise DomainError(_("The request body is not valid JSON.")) from None


@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    """Keep this browser's push subscription (POSTed as JSON by static/js/pwa.js)."""
    if not request.user.is_authenticated or request.user.organization_id is None:
        return _problem(403, _("Sign in to turn on notifications."))
    if not push.push_configured():
        return _problem(404, _("Push notifications are not set up on this server."))
    try:
        data = push.subscription_parse(
            _json_body(request), user_agent=request.headers.get("User-Agent", "")
        )
    except DomainError as exc:
        return _problem(400, exc.message, exc.field or "")
    subscription = push.push_subscription_save(user=request.user, data=data)
    return JsonResponse({"id": subscription.pk, "device": subscription.user_agent}, status=201)


@require_POST
def push_unsubscribe(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return _problem(403, _("Sign in to turn on notifications."))
    try:
        body = _json_body(request)
    except DomainError as exc:
        return _problem(400, exc.message)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _problem(400, _("Say which subscription to remove (endpoint)."), "endpoint")
    deleted = push.push_subscription_delete(user=request.user, endpoint=endpoint)
    return JsonResponse({"deleted": deleted})

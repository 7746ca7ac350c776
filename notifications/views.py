from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import selectors, services
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
    if request.method == "POST":
        services.email_preferences_set(
            user=request.user, email_kinds=set(request.POST.getlist("email"))
        )
        messages.success(request, _("Your email preferences are saved."))
        return redirect("notification_preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"preferences": selectors.email_preferences(request.user)},
    )

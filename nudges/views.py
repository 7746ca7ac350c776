"""The nudges' pages: a person's choice (/nudges/), the link of the scheduled-share
reminder, and the org admin's settings (/admin/nudges/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from advocacy.models import Share, ShareStatus
from nudges import selectors, services
from nudges.forms import NudgePreferencesForm, NudgeSettingsForm
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import form_error, org_admin_required


@login_required
def nudge_preferences(request: MemberRequest) -> HttpResponse:
    user = request.user
    if user.organization_id is None:
        raise Http404
    if request.method == "POST":
        form = NudgePreferencesForm(request.POST)
        if form.is_valid():
            services.nudge_preferences_set(user=user, enabled=set(form.cleaned_data["kinds"]))
            messages.success(request, _("Your reminder choices are saved."))
            return redirect("nudge_preferences")
    else:
        form = NudgePreferencesForm()
    config, rows = selectors.nudge_preferences_of(user)
    return render(
        request,
        "nudges/preferences.html",
        {"form": form, "rows": rows, "config": config},
    )


@require_safe
@login_required
def nudge_scheduled_share(request: MemberRequest, content_id: int) -> HttpResponse:
    """The reminder's link: the person's next scheduled share of that content, on the page
    where they can cancel it. One link for everyone who scheduled the content, so that a
    campaign's reminders are one notification per language, not one per person."""
    user = request.user
    if user.organization_id is None:
        raise Http404
    share = (
        Share.objects.filter(
            organization_id=user.organization_id,
            user=user,
            content_id=content_id,
            status=ShareStatus.SCHEDULED,
        )
        .order_by("scheduled_at", "pk")
        .only("pk")
        .first()
    )
    if share is None:
        messages.info(request, _("That share is no longer scheduled: here are your shares."))
        return redirect("my_shares")
    return redirect("share_detail", pk=share.pk)


@org_admin_required
def nudges_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    config = selectors.nudge_settings_for(user)
    form = NudgeSettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.fields}
        try:
            services.nudge_settings_update(actor=user, values=values, request=request)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The nudge settings are saved."))
            return redirect("nudges_admin")
    return render(
        request,
        "nudges/admin.html",
        {"form": form, "sent": selectors.nudges_sent_recently(user)},
    )

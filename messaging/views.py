"""The org admin's page for Slack and Microsoft Teams: the Slack connection, the
destinations with their routing, a test message, and the recent messages (failures first)
with a resend."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from messaging import selectors, services
from messaging.failures import failure_text
from messaging.forms import DestinationForm, SlackConnectForm
from messaging.models import Destination, DestinationKind, EventKind
from messaging.outbox import message_resend
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import form_error, org_admin_required


def _input(form: DestinationForm, *, kind: str) -> services.DestinationInput:
    data = form.cleaned_data
    return services.DestinationInput(
        kind=kind,
        label=data["label"],
        slack_channel_id=data.get("slack_channel_id") or "",
        webhook_url=data.get("webhook_url") or None,
        events=list(data["events"]),
        teams=list(data["teams"]),
        topics=list(data["topics"]),
    )


def _page(request: MemberRequest, **forms: Any) -> HttpResponse:
    user = request.user
    connection = selectors.slack_connection_of(user)
    destinations = list(selectors.destinations_of(user))
    recent = selectors.messages_recent(user)
    event_labels = dict(EventKind.choices)
    for destination in destinations:
        destination.event_labels = [str(event_labels.get(e, e)) for e in destination.events]
        destination.problem_text = failure_text(destination.problem)
    for message in recent:
        message.failure_text = failure_text(message.failure)
        message.can_resend = message.status in ("failed", "unknown")
    context = {
        "connection": connection,
        "connection_problem": failure_text(connection.problem) if connection else "",
        "destinations": destinations,
        "recent": recent,
        "slack_form": forms.get("slack_form") or SlackConnectForm(),
        "form": forms.get("form")
        or DestinationForm(
            user=user,
            prefix="new",
            initial={"kind": DestinationKind.SLACK, "events": [e.value for e in EventKind]},
        ),
        "has_problems": any(m.can_resend for m in recent),
    }
    return render(request, "messaging/channels_admin.html", context)


@org_admin_required
def channels_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    if request.method != "POST":
        return _page(request)
    action = request.POST.get("action")
    try:
        if action == "slack_connect":
            slack_form = SlackConnectForm(request.POST)
            if not slack_form.is_valid():
                return _page(request, slack_form=slack_form)
            try:
                connection = services.slack_connect(
                    actor=user, token=slack_form.cleaned_data["token"], request=request
                )
            except DomainError as error:
                form_error(slack_form, error)
                return _page(request, slack_form=slack_form)
            messages.success(
                request,
                _("Slack is connected to the workspace “%(team)s” as %(bot)s.")
                % {"team": connection.team_name, "bot": connection.bot_name},
            )
        elif action == "slack_disconnect":
            if services.slack_disconnect(actor=user, request=request):
                messages.success(request, _("Slack is disconnected: its token is forgotten."))
        elif action == "destination_create":
            form = DestinationForm(request.POST, user=user, prefix="new")
            if not form.is_valid():
                return _page(request, form=form)
            try:
                destination = services.destination_create(
                    actor=user,
                    data=_input(form, kind=form.cleaned_data["kind"]),
                    request=request,
                )
            except DomainError as error:
                form_error(form, error)
                return _page(request, form=form)
            messages.success(
                request,
                _("“%(label)s” is added. Send it a test message to check.")
                % {"label": destination.label},
            )
        elif action in ("destination_delete", "destination_test"):
            destination = selectors.destination_for_user(user, _int(request.POST.get("id")))
            if action == "destination_delete":
                services.destination_delete(actor=user, destination=destination, request=request)
                messages.success(
                    request, _("“%(label)s” is removed.") % {"label": destination.label}
                )
            else:
                services.destination_test(actor=user, destination=destination, request=request)
                messages.success(
                    request,
                    _("A test message is on its way to “%(label)s”: its state is listed below.")
                    % {"label": destination.label},
                )
        elif action == "resend":
            message = selectors.message_for_user(user, _int(request.POST.get("id")))
            message_resend(actor=user, message=message, request=request)
            messages.success(request, _("The message will be sent again."))
        else:
            messages.error(request, _("That action is not available."))
    except DomainError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("channels_admin"))


def _int(value: str | None) -> int:
    if not value or not value.isdecimal():
        raise Http404
    return int(value)


@org_admin_required
def destination_edit(request: MemberRequest, pk: int) -> HttpResponse:
    user = request.user
    destination: Destination = selectors.destination_for_user(user, pk)
    if request.method == "POST":
        form = DestinationForm(
            request.POST, user=user, editing=True, initial={"kind": destination.kind}
        )
        if form.is_valid():
            try:
                services.destination_update(
                    actor=user,
                    destination=destination,
                    data=_input(form, kind=destination.kind),
                    request=request,
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(
                    request, _("“%(label)s” is saved.") % {"label": form.cleaned_data["label"]}
                )
                return HttpResponseRedirect(reverse("channels_admin"))
    else:
        form = DestinationForm(
            user=user,
            editing=True,
            initial={
                "kind": destination.kind,
                "label": destination.label,
                "slack_channel_id": destination.slack_channel_id,
                "events": destination.events,
                "teams": list(destination.teams.all()),
                "topics": list(destination.topics.all()),
            },
        )
    return render(
        request, "messaging/destination_edit.html", {"destination": destination, "form": form}
    )

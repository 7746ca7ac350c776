"""Reads for the admin page and the API, always scoped to the caller's organisation."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from messaging.models import ChannelMessage, Destination, MessageStatus, SlackConnection
from organizations.models import User

RECENT_MESSAGES = 30


def slack_connection_of(user: User) -> SlackConnection | None:
    return SlackConnection.objects.filter(organization_id=user.organization_id).first()


def destinations_of(user: User) -> QuerySet[Destination]:
    return (
        Destination.objects.filter(organization_id=user.organization_id)
        .prefetch_related("teams", "topics")
        .order_by("label", "pk")
    )


def destination_for_user(user: User, pk: int) -> Destination:
    """The caller's organisation's destination, or a 404 (another organisation's too)."""
    destination = destinations_of(user).filter(pk=pk).first()
    if destination is None:
        raise Http404
    return destination


def messages_recent(user: User, *, limit: int = RECENT_MESSAGES) -> list[ChannelMessage]:
    """The latest messages, those that need the admin first (failed, unknown)."""
    return list(
        ChannelMessage.objects.filter(organization_id=user.organization_id)
        .select_related("destination")
        .annotate(
            needs_admin=Case(
                When(status__in=(MessageStatus.FAILED, MessageStatus.UNKNOWN), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("needs_admin", "-created_at", "-pk")[:limit]
    )


def message_for_user(user: User, pk: int) -> ChannelMessage:
    message = (
        ChannelMessage.objects.filter(organization_id=user.organization_id, pk=pk)
        .select_related("destination")
        .first()
    )
    if message is None:
        raise Http404
    return message

"""What an employee (or an org admin) does with shares: create, cancel, retry, confirm,
dismiss; posting slots; the organisation's pause; recall when content is withdrawn."""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from advocacy.links import destination_validate
from advocacy.models import (
    LIVE_STATUSES,
    ActivityKind,
    PostingSlot,
    Share,
    ShareMode,
    ShareStatus,
    SharingPause,
    SocialAccount,
    TrackedLink,
)
from advocacy.services.accounts import account_usable
from advocacy.services.activity import activity_record, share_state_announce
from advocacy.services.dispatch import share_dispatch
from advocacy.services.pipeline import _recall_published, organization_paused
from content import compliance
from content.models import Content, ContentStatus, Network
from content.selectors import caption_for, charter_pending, feed_queryset
from content.services import compliance_rules_for
from notifications.services import notification_create
from organizations.audit import audit_record
from organizations.dates import date_error
from organizations.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from organizations.models import Role, User

WHEN_NOW, WHEN_SCHEDULE, WHEN_QUEUE = "now", "schedule", "queue"
# Used until the employee sets their own: weekday mornings and lunchtimes.
DEFAULT_SLOTS = tuple(
    (day, time(hour, minute)) for day in range(5) for hour, minute in ((8, 30), (12, 30))
)
# Colleagues sharing the same content in the same slot are spread this far apart.
SLOT_SPREAD = timedelta(minutes=3)
SLOT_LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class ShareRequest:
    content_id: int
    networks: list[str]
    captions: dict[str, str]
    when: str = WHEN_NOW
    scheduled_at: datetime | None = None
    # Per network, "link" to use a share link even with a connected account.
    modes: dict[str, str] | None = None


def _zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.organization.time_zone if user.organization else "Europe/Paris")


# --- posting slots and the queue ----------------------------------------------------------


def slots_of(user: User) -> list[tuple[int, time]]:
    own = [(slot.weekday, slot.time) for slot in user.posting_slots.all()]
    return own or list(DEFAULT_SLOTS)


def slots_replace(*, user: User, slots: list[tuple[int, time]]) -> list[PostingSlot]:
    cleaned = sorted({(int(day), moment.replace(second=0, microsecond=0)) for day, moment in slots})
    for day, _moment in cleaned:
        if not 0 <= day <= 6:
            raise DomainError(_("A day is a number from 0 (Monday) to 6 (Sunday)."), field="slots")
    if len(cleaned) > 28:
        raise DomainError(_("Keep at most 28 posting slots a week."), field="slots")
    with transaction.atomic():
        PostingSlot.objects.filter(user=user).delete()
        return PostingSlot.objects.bulk_create(
            PostingSlot(user=user, weekday=day, time=moment) for day, moment in cleaned
        )


def queue_next_slot(
    *, user: User, network: str, content: Content, after: datetime | None = None
) -> datetime:
    """The employee's next posting slot without a share on this network, nudged by a few
    minutes per colleague who already queued the same content in that slot (and by a
    per-person second), so that colleagues do not all post at the same minute."""
    zone = _zone(user)
    start = (after or timezone.now()) + timedelta(minutes=5)
    local_start = start.astimezone(zone)
    slots = slots_of(user)
    mine = list(
        Share.objects.filter(
            user=user,
            network=network,
            status__in=LIVE_STATUSES,
            scheduled_at__gte=start - SLOT_LENGTH,
        ).values_list("scheduled_at", flat=True)
    )
    for day_offset in range(0, 29):
        day = (local_start + timedelta(days=day_offset)).date()
        for weekday, moment in slots:
            if weekday != day.weekday():
                continue
            slot = datetime.combine(day, moment, tzinfo=zone)
            if slot < start:
                continue
            if any(slot <= taken < slot + SLOT_LENGTH for taken in mine):
                continue
            if content.expires_at and slot >= content.expires_at:
                raise DomainError(
                    _("The content expires before your next free posting slot."), field="when"
                )
            colleagues = (
                Share.objects.filter(
                    content=content,
                    status__in=LIVE_STATUSES,
                    scheduled_at__gte=slot,
                    scheduled_at__lt=slot + SLOT_LENGTH,
                )
                .exclude(user=user)
                .count()
            )
            nudge = SLOT_SPREAD * min(colleagues, 18) + timedelta(
                seconds=zlib.crc32(f"{user.pk}".encode()) % 60
            )
            return slot + nudge
    raise DomainError(_("You have no free posting slot in the next four weeks."), field="when")


# --- create -------------------------------------------------------------------------------


def campaign_slug(content: Content) -> str:
    return f"{slugify(content.title)[:60] or 'content'}-{content.pk}"


def _caption_text(*, user: User, content: Content, network: str, given: str) -> str:
    suggested = [c.text for c in content.captions.all() if c.network == network]
    # A network without captions of its own is offered the others (see network_choices).
    suggested = suggested or [c.text for c in content.captions.all()]
    if "\x00" in given:
        raise DomainError(
            _("The caption contains a character that cannot be stored."),
            field=f"captions.{network}",
        )
    if len(given) > 5000:
        raise DomainError(
            _("The caption is too long (5,000 characters at most)."), field=f"captions.{network}"
        )
    given = given.strip()
    if not given:
        pick = caption_for(content, network, user)
        given = (
            pick.text
            if pick
            else (content.captions.all()[0].text if content.captions.all() else "")
        )
    elif content.caption_locked and given not in [s.strip() for s in suggested]:
        raise DomainError(
            _("This content's captions are locked: pick one of the suggested captions."),
            field=f"captions.{network}",
        )
    if not given:
        raise DomainError(
            _("Write a caption for %(network)s.") % {"network": Network(network).label},
            field=f"captions.{network}",
        )
    return given


def share_create(
    *, user: User, data: ShareRequest, request: HttpRequest | None = None
) -> list[Share]:
    """One share per network, each with its tracked link, in one transaction; nothing is
    written when any network's caption breaks a rule."""
    content = feed_queryset(user).filter(pk=data.content_id).first()
    if content is None:
        raise NotFoundError(_("This content is not available to you."))
    if charter_pending(user) is not None:
        raise ConflictError(_("Accept the social media charter before your first share."))
    networks = list(dict.fromkeys(data.networks))
    if not networks:
        raise DomainError(_("Choose at least one network."), field="networks")
    for network in networks:
        if network not in Network.values:
            raise DomainError(
                _("Unknown network: %(network)s") % {"network": network}, field="networks"
            )
    if data.when not in (WHEN_NOW, WHEN_SCHEDULE, WHEN_QUEUE):
        raise DomainError(_("Choose now, a date, or your queue."), field="when")
    now = timezone.now()
    if data.when == WHEN_SCHEDULE:
        if data.scheduled_at is None:
            raise DomainError(_("Give the date and time to share at."), field="scheduled_at")
        problem = date_error(data.scheduled_at)
        if problem:
            raise DomainError(problem, field="scheduled_at")
        if data.scheduled_at < now - timedelta(minutes=1):
            raise DomainError(_("The date is in the past."), field="scheduled_at")
        if content.expires_at and data.scheduled_at >= content.expires_at:
            raise DomainError(_("The content expires before that date."), field="scheduled_at")

    accounts = {
        account.network: account
        for account in SocialAccount.objects.filter(user=user, network__in=networks)
    }
    rules = compliance_rules_for(content.organization)
    paused = organization_paused(content.organization_id)
    plans: list[tuple[str, str, str, SocialAccount | None]] = []
    errors: list[dict[str, object]] = []
    for network in networks:
        wanted = (data.modes or {}).get(network, "")
        account = accounts.get(network)
        usable = account_usable(account)
        if wanted == ShareMode.API and not usable:
            raise DomainError(
                _("Connect your %(network)s account first, or use a share link.")
                % {"network": Network(network).label},
                field="modes",
            )
        mode = ShareMode.API if usable and wanted != ShareMode.LINK else ShareMode.LINK
        if mode == ShareMode.LINK and data.when != WHEN_NOW:
            raise DomainError(
                _("Share links open now; scheduling needs a connected %(network)s account.")
                % {"network": Network(network).label},
                field="when",
            )
        if mode == ShareMode.LINK and paused:
            raise ConflictError(_("Sharing is paused by your organisation for now."))
        text = _caption_text(
            user=user, content=content, network=network, given=data.captions.get(network, "")
        )
        for violation in compliance.caption_check(
            text=text, network=network, rules=rules, link_url=content.link_url
        ):
            errors.append(
                {
                    "field": f"captions.{network}",
                    "network": network,
                    "code": violation.code,
                    "message": str(violation.message),
                    "start": violation.start,
                    "end": violation.end,
                }
            )
        plans.append(
            (
                network,
                mode,
                compliance.caption_with_disclosure(text=text, disclosure=rules.disclosure),
                account if mode == ShareMode.API else None,
            )
        )
    if errors:
        raise DomainError(
            _("The caption breaks a rule: %(message)s") % {"message": errors[0]["message"]},
            field=f"captions.{errors[0]['network']}",
            errors=errors,
        )
    destination = destination_validate(content.link_url) if content.link_url else ""

    existing = set(
        Share.objects.filter(
            user=user, content=content, network__in=networks, status__in=LIVE_STATUSES
        ).values_list("network", flat=True)
    )
    if existing:
        raise ConflictError(
            _("You have already shared this content on %(networks)s.")
            % {"networks": ", ".join(Network(n).label for n in sorted(existing))}
        )
    try:
        with transaction.atomic():
            shares = []
            for network, mode, text, account in plans:
                if data.when == WHEN_SCHEDULE and mode == ShareMode.API:
                    at = max(data.scheduled_at or now, now)
                elif data.when == WHEN_QUEUE and mode == ShareMode.API:
                    at = queue_next_slot(user=user, network=network, content=content, after=now)
                else:
                    at = now
                share = Share.objects.create(
                    organization_id=content.organization_id,
                    user=user,
                    content=content,
                    network=network,
                    mode=mode,
                    account=account,
                    text=text,
                    status=ShareStatus.SCHEDULED
                    if mode == ShareMode.API
                    else ShareStatus.AWAITING_CONFIRMATION,
                    scheduled_at=at,
                    next_attempt_at=at if mode == ShareMode.API else None,
                )
                if destination:
                    TrackedLink.objects.create(
                        organization_id=content.organization_id,
                        share=share,
                        destination=destination,
                        utm_source=network,
                        utm_campaign=campaign_slug(content),
                    )
                if mode == ShareMode.API and at <= now:
                    share_dispatch(share_id=share.pk)
                shares.append(share)
            audit_record(
                action="share.created",
                organization=user.organization,
                actor=user,
                target=content,
                request=request,
                details={"shares": [s.pk for s in shares], "networks": networks, "when": data.when},
            )
    except IntegrityError as exc:
        # Two requests at once: the database keeps one live share per account.
        raise ConflictError(
            _("You have already shared this content on one of these networks.")
        ) from exc
    return shares


# --- the employee's actions -------------------------------------------------------------


def _own(user: User, share: Share) -> Share:
    if share.user_id != user.pk:
        raise NotFoundError(_("This share is not yours."))
    return share


# The employee's transitions the archive hears of (a retry is not one: its outcome is).
ANNOUNCED_STATUSES = (ShareStatus.CANCELLED, ShareStatus.PUBLISHED, ShareStatus.DISMISSED)


def _transition(share_id: int, allowed: tuple[str, ...], **values: object) -> Share:
    with transaction.atomic():
        share = Share.objects.select_for_update().get(pk=share_id)
        if share.status not in allowed:
            raise ConflictError(
                _("This share is “%(state)s”; that cannot be done now.")
                % {"state": share.get_status_display()}
            )
        for name, value in values.items():
            setattr(share, name, value)
        share.save()
        if share.status in ANNOUNCED_STATUSES:
            share_state_announce(share.pk)
    return share


def share_cancel(*, user: User, share: Share) -> Share:
    _own(user, share)
    return _transition(
        share.pk,
        (ShareStatus.SCHEDULED, ShareStatus.NEEDS_RECONNECT, ShareStatus.AWAITING_CONFIRMATION),
        status=ShareStatus.CANCELLED,
        last_error=_("Cancelled by you."),
    )


def share_retry(*, user: User, share: Share) -> Share:
    _own(user, share)
    if share.mode != ShareMode.API:
        raise ConflictError(_("Only shares posted for you can be retried."))
    account = SocialAccount.objects.filter(user=user, network=share.network).first()
    if not account_usable(account):
        raise ConflictError(_("Reconnect your account first."))
    if share.content.status != ContentStatus.APPROVED:
        raise ConflictError(_("The content is no longer available to share."))
    try:
        with transaction.atomic():
            share = _transition(
                share.pk,
                (ShareStatus.FAILED, ShareStatus.NEEDS_RECONNECT),
                status=ShareStatus.SCHEDULED,
                account=account,
                attempt_count=0,
                next_attempt_at=timezone.now(),
                request_sent_at=None,
                last_error="",
            )
            share_dispatch(share_id=share.pk)
    except IntegrityError as exc:
        raise ConflictError(_("You have shared this content on this network again since.")) from exc
    return share


def share_confirm(*, user: User, share: Share) -> Share:
    """ "I posted it" (share link) or "it is on my profile" (unknown outcome)."""
    _own(user, share)
    now = timezone.now()
    with transaction.atomic():
        was = share.status
        share = _transition(
            share.pk,
            (ShareStatus.AWAITING_CONFIRMATION, ShareStatus.OUTCOME_UNKNOWN),
            status=ShareStatus.PUBLISHED,
            published_at=now,
            last_error="",
        )
        kind = (
            ActivityKind.SHARE_LINK_CONFIRMED
            if was == ShareStatus.AWAITING_CONFIRMATION
            else ActivityKind.SHARE_PUBLISHED
        )
        activity_record(kind=kind, share=share, occurred_at=now)
    return share


def share_dismiss(*, user: User, share: Share) -> Share:
    """ "It is not there" (unknown outcome) or "I did not post it" (share link)."""
    _own(user, share)
    return _transition(
        share.pk,
        (ShareStatus.OUTCOME_UNKNOWN, ShareStatus.AWAITING_CONFIRMATION),
        status=ShareStatus.DISMISSED,
    )


# --- the organisation's pause -------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if actor.role != Role.ORG_ADMIN:
        raise PermissionDeniedError(_("Only an organisation admin can pause or resume sharing."))


def sharing_pause(*, actor: User, reason: str, request: HttpRequest | None = None) -> SharingPause:
    _require_admin(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for pausing."), field="reason")
    with transaction.atomic():
        pause, _created = SharingPause.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        if pause.paused_at is not None:
            raise ConflictError(_("Sharing is already paused."))
        pause.paused_at, pause.paused_by, pause.reason = timezone.now(), actor, reason[:300]
        pause.save()
        audit_record(
            action="sharing.paused",
            organization=actor.organization,
            actor=actor,
            request=request,
            details={"reason": reason},
        )
    return pause


def sharing_resume(*, actor: User, request: HttpRequest | None = None) -> SharingPause:
    _require_admin(actor)
    with transaction.atomic():
        pause, _created = SharingPause.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        if pause.paused_at is None:
            raise ConflictError(_("Sharing is not paused."))
        pause.paused_at, pause.paused_by, pause.reason = None, None, ""
        pause.save()
        audit_record(
            action="sharing.resumed", organization=actor.organization, actor=actor, request=request
        )
        # What waited goes out now rather than at the next sweep.
        waiting = Share.objects.filter(
            organization_id=actor.organization_id,
            status__in=[ShareStatus.SCHEDULED, ShareStatus.RECALL_PENDING],
            next_attempt_at__lte=timezone.now(),
        ).values_list("pk", "status")
        for share_id, status in waiting:
            share_dispatch(share_id=share_id, recall=status == ShareStatus.RECALL_PENDING)
    return pause


# --- recall -------------------------------------------------------------------------------


def shares_recall(*, content: Content) -> dict[str, int]:
    """Content was withdrawn: cancel what waits, delete what we posted, and ask employees
    to delete what they posted themselves (or may have)."""
    counts: dict[str, int] = defaultdict(int)
    ask: dict[int, list[Share]] = defaultdict(list)
    now = timezone.now()
    with transaction.atomic():
        shares = list(
            Share.objects.select_for_update(of=("self",))
            .filter(content=content)
            .exclude(
                status__in=[
                    ShareStatus.CANCELLED,
                    ShareStatus.DISMISSED,
                    ShareStatus.RECALLED,
                    ShareStatus.RECALL_PENDING,
                    ShareStatus.RECALLING,
                    ShareStatus.RECALL_ASKED,
                    ShareStatus.RECALL_FAILED,
                    ShareStatus.PUBLISHING,
                ]
            )
            .select_related("user")
        )
        for share in shares:
            if share.status in (
                ShareStatus.SCHEDULED,
                ShareStatus.NEEDS_RECONNECT,
                ShareStatus.FAILED,
            ):
                share.status = ShareStatus.CANCELLED
                share.last_error = _("The content was withdrawn.")
                share.save()
                share_state_announce(share.pk)
                counts["cancelled"] += 1
            elif (
                share.status == ShareStatus.PUBLISHED
                and share.mode == ShareMode.API
                and share.external_id
                and share.account_id is not None
            ):
                _recall_published(share)
                counts["deleting"] += 1
            else:
                # Posted by the employee (share link), or perhaps posted (unknown outcome).
                if share.status == ShareStatus.PUBLISHED:
                    activity_record(kind=ActivityKind.SHARE_RECALLED, share=share, occurred_at=now)
                share.status = ShareStatus.RECALL_ASKED
                share.save()
                share_state_announce(share.pk)
                ask[share.user_id].append(share)
                counts["asked"] += 1
        for shares_of_user in ask.values():
            employee = shares_of_user[0].user
            with translation.override(employee.language):
                networks = ", ".join(sorted({s.get_network_display() for s in shares_of_user}))
                notification_create(
                    recipient=employee,
                    kind="advocacy.recall",
                    title=_("Please delete your post of “%(title)s”") % {"title": content.title},
                    body=_(
                        "%(title)s was withdrawn (%(reason)s). Please delete what you posted "
                        "on %(networks)s."
                    )
                    % {
                        "title": content.title,
                        "reason": content.withdrawn_reason,
                        "networks": networks,
                    },
                    url="/shares/",
                )
    return dict(counts)

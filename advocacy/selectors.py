"""Reads shared by the HTML views and the API; always scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from advocacy.links import prefills_caption, share_intent_url
from advocacy.models import (
    Share,
    ShareStatus,
    SharingPause,
    SocialAccount,
)
from advocacy.networks import NetworkPackage, connector_for
from advocacy.services.accounts import account_usable
from content.models import Content, Network
from content.selectors import feed_queryset
from organizations.models import Role, User

# What "My shares" groups under each tab.
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "waiting": (
        ShareStatus.AWAITING_CONFIRMATION,
        ShareStatus.OUTCOME_UNKNOWN,
        ShareStatus.NEEDS_RECONNECT,
        ShareStatus.RECALL_ASKED,
        ShareStatus.RECALL_FAILED,
    ),
    "scheduled": (ShareStatus.SCHEDULED, ShareStatus.PUBLISHING),
    "published": (ShareStatus.PUBLISHED,),
    "failed": (ShareStatus.FAILED,),
    "closed": (
        ShareStatus.CANCELLED,
        ShareStatus.DISMISSED,
        ShareStatus.RECALLED,
        ShareStatus.RECALL_PENDING,
        ShareStatus.RECALLING,
    ),
}
# Shown to org admins: what needs someone's attention.
PROBLEM_STATUSES = (
    ShareStatus.FAILED,
    ShareStatus.OUTCOME_UNKNOWN,
    ShareStatus.RECALL_FAILED,
    ShareStatus.NEEDS_RECONNECT,
)


def _with_relations(shares: QuerySet[Share]) -> QuerySet[Share]:
    return shares.select_related("content", "account", "tracked_link", "user")


def shares_of(user: User, *, status_filter: str = "") -> QuerySet[Share]:
    shares = Share.objects.filter(user=user, organization_id=user.organization_id)
    if status_filter in STATUS_FILTERS:
        shares = shares.filter(status__in=STATUS_FILTERS[status_filter])
    return (
        _with_relations(shares)
        .annotate(click_count=Count("clicks", filter=Q(clicks__is_self=False)))
        .order_by("-scheduled_at", "-pk")
    )


def share_counts(user: User) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_FILTERS, 0)
    rows = Share.objects.filter(user=user).values("status").annotate(n=Count("pk"))
    for row in rows:
        for name, statuses in STATUS_FILTERS.items():
            if row["status"] in statuses:
                counts[name] += row["n"]
    return counts


def share_for_user(user: User, pk: int) -> Share:
    """The employee's own share; an org admin may read any share of the organisation."""
    shares = Share.objects.filter(organization_id=user.organization_id)
    if user.role != Role.ORG_ADMIN:
        shares = shares.filter(user=user)
    share = _with_relations(shares).filter(pk=pk).first()
    if share is None:
        raise Http404
    return share


def problem_shares(user: User) -> QuerySet[Share]:
    if user.role != Role.ORG_ADMIN:
        return Share.objects.none()
    return (
        _with_relations(
            Share.objects.filter(organization_id=user.organization_id, status__in=PROBLEM_STATUSES)
        )
        .prefetch_related("attempts")  # the problem in words comes from the attempts
        .order_by("-updated_at")
    )


def pause_of(user: User) -> SharingPause | None:
    return (
        SharingPause.objects.filter(organization_id=user.organization_id, paused_at__isnull=False)
        .select_related("paused_by")
        .first()
    )


def accounts_of(user: User) -> dict[str, SocialAccount]:
    return {account.network: account for account in SocialAccount.objects.filter(user=user)}


@dataclass(frozen=True)
class NetworkChoice:
    network: str
    label: str
    account: SocialAccount | None
    can_post_for_me: bool
    captions: list[str]
    suggested: str


def shareable_content(user: User, pk: int) -> Content:
    content = feed_queryset(user).filter(pk=pk).first()
    if content is None:
        raise Http404
    return content


def network_choices(user: User, content: Content) -> list[NetworkChoice]:
    from content.selectors import caption_for

    accounts = accounts_of(user)
    fallback = [c.text for c in content.captions.all()]
    choices = []
    for network in Network:
        account = accounts.get(network.value)
        captions = [c.text for c in content.captions.all() if c.network == network.value]
        pick = caption_for(content, network.value, user)
        choices.append(
            NetworkChoice(
                network=network.value,
                label=str(network.label),
                account=account,
                can_post_for_me=account_usable(account),
                captions=captions,
                # Without a caption for this network, the first one written for another.
                suggested=pick.text if pick else (fallback[0] if fallback else ""),
            )
        )
    return choices


# --- the share sheet ------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetCaptions:
    suggested: str
    # Every distinct caption written for the content, for one-click alternatives.
    alternatives: list[str]


def sheet_captions(user: User, choices: list[NetworkChoice]) -> SheetCaptions:
    """The caption the sheet opens with: the rotated one of the first network the person
    can post on for real, else of the first network with captions of its own."""
    usable = [c for c in choices if c.can_post_for_me and c.captions]
    own = [c for c in choices if c.captions]
    pick = (usable or own or choices)[0] if choices else None
    alternatives = list(dict.fromkeys(text for c in choices for text in c.captions))
    return SheetCaptions(pick.suggested if pick else "", alternatives)


def sheet_caption_for(user: User, content: Content, network: str, given: str) -> str:
    """The caption to share on `network` from the sheet's one text box. A locked caption
    suggested for another network is replaced by this network's own suggestion (empty: the
    share service picks it); anything else goes to the service, which checks it."""
    if not content.caption_locked:
        return given
    given = given.strip()
    written = [c.text.strip() for c in content.captions.all()]
    for_network = [c.text.strip() for c in content.captions.all() if c.network == network]
    if given in (for_network or written):
        return given
    return "" if given in written else given


def awaiting_share(user: User, content_id: int, network: str) -> Share | None:
    """The person's share link of this content on this network that waits for "I posted
    it" (at most one: a live share is unique per person, content and network)."""
    return (
        _with_relations(
            Share.objects.filter(
                user=user,
                organization_id=user.organization_id,
                content_id=content_id,
                network=network,
                status=ShareStatus.AWAITING_CONFIRMATION,
            )
        )
        .order_by("-pk")
        .first()
    )


def share_link_url(share: Share) -> str:
    """The network's own share page for a share-link share, with the tracked link."""
    link = getattr(share, "tracked_link", None)
    url = f"{settings.SITE_URL}/s/{link.code}" if link else ""
    text = share.text if prefills_caption(share.network) else ""
    return share_intent_url(network=share.network, text=text, url=url)


def connectable_networks(user: User) -> list[tuple[str, str, NetworkPackage | None]]:
    """(network, label, the package the user connects it with, or None: share links only)
    for the Networks page."""
    return [
        (
            network.value,
            str(network.label),
            connector_for(organization_id=user.organization_id, network=network.value),
        )
        for network in Network
    ]


def network_app_rows(user: User) -> list[dict[str, object]]:
    """The administration page of the organisation's network apps."""
    from advocacy.models import NetworkApp
    from advocacy.networks import packages
    from advocacy.services.network_apps import network_api_posts_this_month

    apps = {app.adapter: app for app in NetworkApp.objects.filter(organization=user.organization)}
    posts = network_api_posts_this_month(organization_id=user.organization_id)
    rows: list[dict[str, object]] = []
    for package in sorted(packages().values(), key=lambda p: p.label):
        if not package.needs_app:
            continue
        app = apps.get(package.name)
        server_default = bool(settings.NETWORK_APP_DEFAULTS.get(package.name, {}).get("client_id"))
        rows.append(
            {
                "name": package.name,
                "label": package.label,
                "package": package,
                "app": app,
                "server_default": server_default and app is None,
                "callback_url": (
                    f"{settings.SITE_URL}{package.callback_path()}" if package.callback_path else ""
                ),
                "posts_this_month": sum(posts.get(network, 0) for network in package.networks),
                "initial": {
                    "client_id": app.client_id if app else "",
                    "api_posting": app.api_posting if app else True,
                    "community_management": app.community_management if app else False,
                },
            }
        )
    return rows

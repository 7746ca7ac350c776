"""The organisation's apps at the networks: set up by the org admin (client id and secret,
encrypted), tested, and the problems only they or the operator can fix."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from advocacy.models import NetworkApp, Share, ShareMode, ShareStatus
from advocacy.networks import AdapterNotConfigured, adapter_for, package_for
from advocacy.networks.base import NetworkError
from advocacy.token_vault import token_encrypt
from organizations.audit import audit_record
from organizations.errors import DomainError
from organizations.models import User


def network_app_save(
    *,
    actor: User,
    adapter: str,
    client_id: str,
    client_secret: str,
    api_posting: bool,
    community_management: bool = False,
    request: HttpRequest | None = None,
) -> NetworkApp:
    """Create or change the organisation's app. An empty secret keeps the stored one."""
    try:
        package = package_for(adapter)
    except AdapterNotConfigured as exc:
        raise DomainError(_("Unknown network."), field="adapter") from exc
    if not package.needs_app:
        raise DomainError(_("This network needs no app."), field="adapter")
    client_id = client_id.strip()
    if not client_id or len(client_id) > 200:
        raise DomainError(_("Enter the client id the network gave you."), field="client_id")
    with transaction.atomic():
        app = (
            NetworkApp.objects.select_for_update()
            .filter(organization_id=actor.organization_id, adapter=adapter)
            .first()
        )
        if app is None and not client_secret.strip():
            raise DomainError(
                _("Enter the client secret the network gave you."), field="client_secret"
            )
        app = app or NetworkApp(organization_id=actor.organization_id, adapter=adapter)
        changed_secret = bool(client_secret.strip())
        app.client_id = client_id
        if changed_secret:
            app.client_secret = token_encrypt(client_secret.strip())
        app.api_posting = api_posting
        app.community_management = community_management
        app.problem, app.problem_detail, app.problem_at = "", "", None
        app.save()
        audit_record(
            action="network_app.saved",
            organization=actor.organization,
            actor=actor,
            target=app,
            request=request,
            # Never the secret itself.
            details={
                "network": adapter,
                "client_id": client_id,
                "secret_changed": changed_secret,
                "api_posting": api_posting,
            },
        )
    return app


def network_app_delete(*, actor: User, adapter: str, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        app = NetworkApp.objects.filter(
            organization_id=actor.organization_id, adapter=adapter
        ).first()
        if app is None:
            return
        audit_record(
            action="network_app.deleted",
            organization=actor.organization,
            actor=actor,
            target=app,
            request=request,
            details={"network": adapter},
        )
        app.delete()


def network_app_problem(*, organization_id: int, adapter: str, problem: str, detail: str) -> None:
    """Remember a problem of the app (LinkedIn's 426 for an expired API version, a missing
    permission) for the administration pages; the first time only, not on every share."""
    NetworkApp.objects.filter(organization_id=organization_id, adapter=adapter).exclude(
        problem=problem
    ).update(problem=problem, problem_detail=detail[:500], problem_at=timezone.now())


def network_app_problem_clear(*, organization_id: int, adapter: str) -> None:
    """A post went through the app: whatever problem it had is fixed (the operator moved
    LINKEDIN_API_VERSION on, the app got its scope), and the alert goes. Writes only when
    there was one."""
    NetworkApp.objects.filter(organization_id=organization_id, adapter=adapter).exclude(
        problem=""
    ).update(problem="", problem_detail="", problem_at=None)


def network_app_test(*, actor: User, adapter: str) -> str:
    """Check the app's client id and secret with the network, without anyone's token.
    Returns a message for the admin; raises DomainError when the network says no."""
    try:
        network_adapter = adapter_for(adapter, organization_id=actor.organization_id)
    except AdapterNotConfigured as exc:
        raise DomainError(_("Enter the client id and secret first.")) from exc
    check = getattr(network_adapter, "check_app", None)
    if check is None:
        raise DomainError(_("This network has no connection test."))
    try:
        known = check()
    except NetworkError as exc:
        raise DomainError(
            _("The network could not be reached: %(error)s") % {"error": exc.message}
        ) from exc
    if not known:
        raise DomainError(_("The network refused this client id or secret."))
    return _("The network knows this app: employees can connect their accounts.")


def network_api_posts_this_month(
    *, organization_id: int, now: datetime | None = None
) -> dict[str, int]:
    """Posts made through each network's API this month (X bills per post)."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Share.objects.filter(
            organization_id=organization_id,
            mode=ShareMode.API,
            published_at__gte=start,
            status__in=[ShareStatus.PUBLISHED, ShareStatus.RECALLED, ShareStatus.RECALL_PENDING],
        )
        .values("network")
        .annotate(count=Count("pk"))
    )
    return {row["network"]: row["count"] for row in rows}

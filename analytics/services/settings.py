"""The organisation's earned-media rates (see AnalyticsSettings for the defaults and their
reasoning)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from analytics.models import AnalyticsSettings
from organizations.audit import audit_record
from organizations.errors import DomainError, PermissionDeniedError
from organizations.models import Organization, User

RATE_FIELDS = ("cpc", "cpm_linkedin", "cpm_x", "cpm_facebook")
_MAX_RATE = Decimal("999999.99")


def analytics_settings_get(*, organization_id: int) -> AnalyticsSettings:
    """The organisation's rates; the defaults are stored on first read."""
    found = AnalyticsSettings.objects.filter(organization_id=organization_id).first()
    if found is not None:
        return found
    settings, _created = AnalyticsSettings.objects.get_or_create(organization_id=organization_id)
    return settings


def _rate(name: str, value: object) -> Decimal:
    try:
        rate = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter an amount such as 12.50."), field=name) from None
    if not rate.is_finite() or rate < 0:
        raise DomainError(_("Enter an amount of zero or more."), field=name)
    if rate > _MAX_RATE:
        raise DomainError(_("This amount is too large."), field=name)
    if rate != rate.quantize(Decimal("0.01")):
        raise DomainError(_("Use at most two decimals."), field=name)
    return rate.quantize(Decimal("0.01"))


def analytics_settings_update(
    *,
    organization: Organization,
    actor: User,
    request: HttpRequest | None = None,
    **rates: object,
) -> AnalyticsSettings:
    """Change some of `currency`, `cpc`, `cpm_linkedin`, `cpm_x`, `cpm_facebook`. Every
    value is checked before anything is written; the change is audited with the old and
    new values. Rollups keep the EMV computed at the rates of their fill: the next fill of a
    day recomputes it (`analytics_rollup --rebuild` recomputes all history)."""
    if actor.organization_id != organization.pk or not actor.is_org_admin:
        raise PermissionDeniedError(
            _("Only organisation administrators can change the earned media rates.")
        )
    unknown = sorted(set(rates) - {"currency", *RATE_FIELDS})
    if unknown:
        raise DomainError(_("Unknown setting: %(name)s.") % {"name": unknown[0]}, field=unknown[0])
    changes: dict[str, object] = {}
    if "currency" in rates:
        currency = str(rates["currency"] or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise DomainError(_("Enter a currency code such as EUR."), field="currency")
        changes["currency"] = currency
    for name in RATE_FIELDS:
        if name in rates:
            changes[name] = _rate(name, rates[name])
    with transaction.atomic():
        current = analytics_settings_get(organization_id=organization.pk)
        current = AnalyticsSettings.objects.select_for_update().get(pk=current.pk)
        before = {name: str(getattr(current, name)) for name in changes}
        for name, value in changes.items():
            setattr(current, name, value)
        current.save()
        audit_record(
            action="analytics.settings_updated",
            organization=organization,
            actor=actor,
            target=current,
            request=request,
            details={
                "before": before,
                "after": {name: str(value) for name, value in changes.items()},
            },
        )
    return current

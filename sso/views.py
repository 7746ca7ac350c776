"""The org admin's SSO page (/admin/sso/) and the login page's discovery
(/accounts/sso/discover/: a work email to the organisation's identity provider)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import requests
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from organizations.audit import audit_record
from organizations.audit_text import audit_rows
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import org_admin_required, paginate
from sso import selectors, services
from sso.forms import DiscoverForm, DomainForm, EnforcementForm, MappingForm, OidcForm, SamlForm
from sso.idp_config import IdpConfigError
from sso.models import Protocol, SsoConnection

logger = logging.getLogger(__name__)


def _mapping_initial(connection: SsoConnection | None) -> dict[str, Any]:
    if connection is None:
        return {"team_match": "name"}
    initial = {name: getattr(connection, name) for name in services.MAPPING_FIELDS}
    initial["group_roles"] = "\n".join(f"{g} = {r}" for g, r in connection.group_roles.items())
    return initial


def _apply_errors(form: Any, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _pk(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


@org_admin_required
def sso_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    organization = user.organization
    if organization is None:
        raise Http404
    connection = selectors.connection_of(organization)
    candidates = selectors.break_glass_candidates(organization)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    oidc_form = OidcForm(
        request.POST if action == "oidc" else None,
        initial={
            "oidc_issuer": connection.oidc_issuer if connection else "",
            "oidc_client_id": connection.oidc_client_id if connection else "",
        },
    )
    saml_form = SamlForm(
        request.POST if action == "saml" else None,
        request.FILES if action == "saml" else None,
        initial={"saml_metadata_url": connection.saml_metadata_url if connection else ""},
    )
    mapping_form = MappingForm(
        request.POST if action == "mapping" else None,
        initial=_mapping_initial(connection),
        protocol=connection.protocol if connection else "",
    )
    domain_form = DomainForm(request.POST if action == "domain_add" else None)
    enforcement_form = EnforcementForm(
        request.POST if action == "enforcement" else None,
        candidates=candidates,
        initial={
            "require_sso": connection.require_sso if connection else False,
            "break_glass_admin": connection.break_glass_admin_id if connection else None,
        },
    )
    if action:
        done = _handle(
            request,
            action,
            oidc_form=oidc_form,
            saml_form=saml_form,
            mapping_form=mapping_form,
            domain_form=domain_form,
            enforcement_form=enforcement_form,
        )
        if done:
            return redirect("sso_admin")
    slug = organization.slug
    events = paginate(request, selectors.sso_events_of(organization))
    break_glass_recent = (
        selectors.sso_events_of(organization)
        .filter(
            action="sso.break_glass_sign_in", created_at__gte=timezone.now() - timedelta(days=30)
        )
        .first()
    )
    return render(
        request,
        "sso/admin.html",
        {
            "connection": connection,
            "oidc_form": oidc_form,
            "saml_form": saml_form,
            "mapping_form": mapping_form,
            "domain_form": domain_form,
            "enforcement_form": enforcement_form,
            "domains": selectors.domains_of(organization),
            "sp_entity_id": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
            "sp_acs_url": request.build_absolute_uri(reverse("saml_acs", args=[slug])),
            "sp_metadata_url": request.build_absolute_uri(reverse("saml_metadata", args=[slug])),
            "sign_on_url": request.build_absolute_uri(reverse("sso_start", args=[slug])),
            "oidc_redirect_uri": request.build_absolute_uri(
                reverse("openid_connect_callback", kwargs={"provider_id": f"sso-{slug}"})
            ),
            "break_glass_recent": break_glass_recent,
            "events": events,
            "page": events,
            "rows": audit_rows(events.object_list),
            "Protocol": Protocol,
        },
    )


def _handle(request: MemberRequest, action: str, **forms: Any) -> bool:
    """Runs one posted form through its service. True when it succeeded (redirect)."""
    user = request.user
    organization = user.organization
    assert organization is not None
    try:
        if action == "oidc" and forms["oidc_form"].is_valid():
            data = forms["oidc_form"].cleaned_data
            services.connection_save_oidc(
                actor=user,
                issuer=data["oidc_issuer"],
                client_id=data["oidc_client_id"],
                client_secret=data["oidc_client_secret"],
                request=request,
            )
            messages.success(request, _("OpenID Connect is set up: people can sign in with it."))
            return True
        if action == "saml" and forms["saml_form"].is_valid():
            data = forms["saml_form"].cleaned_data
            services.connection_save_saml(
                actor=user,
                metadata_xml=data.get("metadata_xml", ""),
                metadata_url=data.get("saml_metadata_url") or "",
                request=request,
            )
            messages.success(request, _("SAML is set up: people can sign in with it."))
            return True
        if action == "disable":
            services.connection_disable(actor=user, request=request)
            messages.success(
                request, _("Single sign-on is off: everyone signs in with a password.")
            )
            return True
        if action == "mapping" and forms["mapping_form"].is_valid():
            data = forms["mapping_form"].cleaned_data
            services.mapping_save(
                actor=user, values=data, group_roles=data["group_roles"], request=request
            )
            messages.success(request, _("The attribute mapping is saved."))
            return True
        if action == "domain_add" and forms["domain_form"].is_valid():
            services.domain_claim(
                actor=user, domain=forms["domain_form"].cleaned_data["domain"], request=request
            )
            messages.success(request, _("Domain added: publish its TXT record, then verify it."))
            return True
        if action in ("domain_verify", "domain_remove"):
            pk = _pk(str(request.POST.get("domain", "")))
            claimed = selectors.domains_of(organization).filter(pk=pk).first() if pk else None
            if claimed is None:
                raise Http404
            if action == "domain_verify":
                services.domain_verify_dns(actor=user, claimed=claimed, request=request)
                messages.success(request, _("%(domain)s is verified.") % {"domain": claimed.domain})
            else:
                services.domain_remove(actor=user, claimed=claimed, request=request)
                messages.success(request, _("%(domain)s is removed.") % {"domain": claimed.domain})
            return True
        if action == "enforcement" and forms["enforcement_form"].is_valid():
            data = forms["enforcement_form"].cleaned_data
            services.enforcement_set(
                actor=user,
                require_sso=data["require_sso"],
                break_glass_admin=data["break_glass_admin"],
                request=request,
            )
            messages.success(request, _("The sign-in rules are saved."))
            return True
    except DomainError as error:
        form_name = {
            "oidc": "oidc_form",
            "saml": "saml_form",
            "mapping": "mapping_form",
            "domain_add": "domain_form",
            "enforcement": "enforcement_form",
        }.get(action)
        if form_name:
            _apply_errors(forms[form_name], error)
        else:
            messages.error(request, error.message)
            return True
    return False


@login_not_required
@require_POST
def sso_discover(request: HttpRequest) -> HttpResponse:
    """The login page's "work email": to the IdP of the organisation that verified the
    address's domain, or back to the password form."""
    form = DiscoverForm(request.POST)
    next_url = str(request.POST.get("next", ""))
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    login_url = reverse("account_login") + (f"?{urlencode({'next': next_url})}" if next_url else "")
    if not form.is_valid():
        messages.error(request, _("Enter your work email address."))
        return redirect(login_url)
    email = form.cleaned_data["email"].lower()
    connection = selectors.connection_for_email(email)
    if connection is None:
        messages.info(
            request,
            _("No single sign-on for %(domain)s: sign in with your password below.")
            % {"domain": selectors.email_domain(email)},
        )
        return redirect(login_url)
    return _to_idp(request, connection, next_url=next_url, login_hint=email)


@login_not_required
@require_GET
def sso_start(request: HttpRequest, slug: str) -> HttpResponse:
    """A stable sign-in address per organisation (/accounts/sso/<slug>/start/), for the
    IdP's application tile or an intranet link."""
    connection = selectors.connection_by_slug(slug, protocol=Protocol.OIDC) or (
        selectors.connection_by_slug(slug, protocol=Protocol.SAML)
    )
    if connection is None:
        raise Http404
    return _to_idp(request, connection, next_url="", login_hint="")


def _to_idp(
    request: HttpRequest, connection: SsoConnection, *, next_url: str, login_hint: str
) -> HttpResponse:
    try:
        services.oidc_endpoints_backfill(connection)
        response = _idp_redirect(request, connection, next_url=next_url, login_hint=login_hint)
    except IdpConfigError as error:
        logger.warning("SSO %s: identity provider refused: %s", connection, error.message)
        audit_record(
            action="sso.sign_in_refused",
            organization=connection.organization,
            request=request,
            details={"reason": "idp_misconfigured", "error": str(error.message)[:500]},
        )
        messages.error(
            request,
            _(
                "Single sign-on of your organisation is not set up correctly. Ask your "
                "administrator."
            ),
        )
        return redirect("account_login")
    except (requests.RequestException, ValueError, KeyError) as error:
        # The IdP is down or answers nonsense (OpenID discovery is fetched here).
        logger.warning("SSO %s: identity provider unavailable: %r", connection, error)
        audit_record(
            action="sso.sign_in_refused",
            organization=connection.organization,
            request=request,
            details={"reason": "idp_unavailable", "error": repr(error)[:500]},
        )
        messages.error(
            request,
            _(
                "Your organisation’s identity provider cannot be reached right now. Please "
                "try again in a few minutes, or ask your administrator."
            ),
        )
        return redirect("account_login")
    if response.status_code != 302:
        return response
    # Not a redirect: the login page's CSP (form-action 'self') also covers the redirects
    # of its form, and the IdP is not known in advance. A page of ours moves on instead.
    return render(
        request,
        "sso/continue.html",
        {"idp_url": response["Location"], "organization": connection.organization},
    )


def _idp_redirect(
    request: HttpRequest, connection: SsoConnection, *, next_url: str, login_hint: str
) -> HttpResponse:
    adapter = get_social_adapter(request)
    if connection.protocol == Protocol.OIDC:
        provider = adapter.get_provider(request, connection.oidc_provider_id)
        response = provider.redirect(
            request,
            "login",
            next_url=next_url or None,
            auth_params={"login_hint": login_hint} if login_hint else {},
        )
    else:
        provider = adapter.get_provider(request, "saml", client_id=connection.organization.slug)
        response = provider.redirect(request, "login", next_url=next_url or None)
    return response

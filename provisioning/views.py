"""The SCIM endpoint (/scim/v2/…, bearer token only) and the org admin's page
(/admin/scim/)."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from scim2_models import PayloadTooLargeException, SCIMException, UnauthorizedException
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation

from organizations.audit_text import audit_rows
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import org_admin_required, paginate
from provisioning import scim, selectors, services
from provisioning.forms import ScimTokenForm
from provisioning.models import ScimToken
from provisioning.scim import OrganizationStorage

logger = logging.getLogger(__name__)

SCIM_ROOT = "/scim/v2"


def _scim_request(request: HttpRequest, path: str) -> ScimRequest:
    try:
        body = request.body
    except RequestDataTooBig:
        raise PayloadTooLargeException() from None
    return ScimRequest(
        method=request.method or "GET",
        base_url=request.build_absolute_uri(SCIM_ROOT),
        path=(path or "").removesuffix(".scim"),
        query={key: str(value) for key, value in request.GET.items()},
        headers=list(request.headers.items()),
        body=body,
    )


def _authenticate(scim_request: ScimRequest) -> ScimToken:
    scheme, _sep, raw = (scim_request.header("Authorization") or "").partition(" ")
    token = selectors.scim_token_authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise UnauthorizedException(detail="A valid SCIM bearer token is required")
    return token


def _serve(request: HttpRequest, path: str) -> ScimResponse:
    service = scim.service()
    scim_request = _scim_request(request, path)
    target = service.match(scim_request)
    if target.operation is Operation.service_provider_config:
        # RFC 7643 §5: the configuration is readable without authentication.
        return ScimHandler(service, _NoStorage()).handle(scim_request)
    token = _authenticate(scim_request)
    services.scim_token_touch(token=token)
    storage = OrganizationStorage(organization=token.organization, token=token)
    # One request, one transaction: a refused write leaves nothing half-done.
    with transaction.atomic():
        return ScimHandler(service, storage).handle(scim_request)


@csrf_exempt
def scim_endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every SCIM request. Whatever happens, the answer is SCIM JSON, never a page."""
    try:
        response = _serve(request, path)
    except SCIMException as exception:
        response = scim.service().error_response(exception)
    except Exception as exception:  # a bug: logged, answered as a SCIM 500
        logger.exception("SCIM request failed")
        response = scim.service().error_response(exception)
    body = b"" if response.body is None else json.dumps(response.body).encode()
    http = HttpResponse(body, status=response.status.value)
    for name, value in response.headers.items():
        http[name] = value
    http.setdefault("Cache-Control", "no-cache")
    return http


class _NoStorage(OrganizationStorage):
    """The discovery endpoints read no resource."""

    def __init__(self) -> None:
        pass


@org_admin_required
def scim_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    organization = user.organization
    if organization is None:
        raise Http404
    form = ScimTokenForm(request.POST or None)
    created: tuple[ScimToken, str] | None = None
    if request.method == "POST":
        if "revoke" in request.POST:
            wanted = str(request.POST.get("revoke", ""))
            found = (
                selectors.scim_tokens_of(organization).filter(pk=int(wanted)).first()
                if wanted.isdigit() and len(wanted) <= 18
                else None
            )
            if found is None:
                raise Http404
            try:
                services.scim_token_revoke(actor=user, token=found, request=request)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("The token is revoked: it no longer works."))
            return redirect("scim_admin")
        if form.is_valid():
            try:
                created = services.scim_token_create(
                    actor=user, name=form.cleaned_data["name"], request=request
                )
            except DomainError as error:
                form.add_error("name", error.message)
            else:
                form = ScimTokenForm()
    events = paginate(request, selectors.scim_events_of(organization))
    return render(
        request,
        "provisioning/admin.html",
        {
            "form": form,
            "created": created,
            "tokens": selectors.scim_tokens_of(organization),
            "events": events,
            "page": events,
            "rows": audit_rows(events.object_list),
            "base_url": request.build_absolute_uri(f"{SCIM_ROOT}/"),
            "user_mapping": USER_MAPPING,
            "group_mapping": GROUP_MAPPING,
        },
    )


USER_MAPPING = [
    ("userName", gettext_lazy("email address (sign-in)")),
    ("name.givenName", gettext_lazy("first name")),
    ("name.familyName", gettext_lazy("last name")),
    ("emails[primary]", gettext_lazy("email address (read only)")),
    ("active", gettext_lazy("active (false: deactivated everywhere)")),
    ("externalId", gettext_lazy("external id")),
    ("preferredLanguage", gettext_lazy("language (fr or en)")),
    ("title", gettext_lazy("job title")),
    ("groups", gettext_lazy("teams (read only)")),
]
GROUP_MAPPING = [
    ("displayName", gettext_lazy("team name (a new group is a top-level team)")),
    ("externalId", gettext_lazy("external id")),
    ("members", gettext_lazy("members (people of this organisation)")),
]

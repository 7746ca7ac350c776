"""The org admin's two-factor page (/admin/two-factor/), the confirmation of a reset, and
the page a person is sent to when their organisation requires a second factor of them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.models import Organization, User
from organizations.views import paginate
from twofactor import selectors, services
from twofactor.forms import TwoFactorPolicyForm, TwoFactorResetForm

STATUSES = ("", "missing", "enrolled")


def _org_admin(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Org admins of an organisation only: anyone else signed in is refused (403)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_org_admin or user.organization is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _organization(request: MemberRequest) -> Organization:
    organization = request.user.organization
    if organization is None:  # _org_admin lets nobody without one through
        raise PermissionDenied
    return organization


@_org_admin
@require_http_methods(["GET", "POST"])
def two_factor_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    organization = _organization(request)
    policy = selectors.two_factor_policy_of(organization)
    initial = {
        "require_admins": policy.require_admins,
        "require_editors": policy.require_editors,
        "require_reviewers": policy.require_reviewers,
    }
    form = TwoFactorPolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.two_factor_policy_update(actor=user, request=request, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The two-factor policy is saved."))
            return redirect("two_factor_admin")
    status = request.GET.get("status", "")
    if status not in STATUSES:
        status = ""
    people = paginate(request, selectors.concerned_people(organization, status=status))
    return render(
        request,
        "twofactor/admin.html",
        {
            "form": form,
            "policy": policy,
            "people": people,
            "page": people,
            "status": status,
            "querystring": f"status={status}" if status else "",
        },
    )


@_org_admin
@require_http_methods(["GET", "POST"])
def two_factor_reset_confirm(request: MemberRequest, pk: int) -> HttpResponse:
    """GET shows what a reset does; only the confirmed POST resets."""
    user = request.user
    person = selectors.person_for_reset(_organization(request), pk)
    form = TwoFactorResetForm(request.POST if request.method == "POST" else None)
    own = person.pk == user.pk
    if request.method == "POST" and not own and form.is_valid():
        try:
            services.two_factor_reset(actor=user, person=person, request=request)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "The second factor of %(name)s is reset: their sessions are ended. "
                    "They sign in with their password and set up a new one."
                )
                % {"name": person},
            )
            return redirect("two_factor_admin")
    authenticators = selectors.authenticator_count(person)
    # Why there is no form: the page says it before anyone tries (the service refuses too).
    refusal = ""
    if person.is_guest:
        refusal = str(services.GUEST_RESET_REFUSED)
    elif not authenticators and not own:
        refusal = str(services.NOTHING_TO_RESET) % {"name": person}
    return render(
        request,
        "twofactor/reset_confirm.html",
        {
            "form": form,
            "person": person,
            "own": own,
            "refusal": refusal,
            "authenticators": authenticators,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def two_factor_required(request: MemberRequest) -> HttpResponse:
    """Why the person must set up a second factor, with the ways to do it."""
    return render(
        request,
        "twofactor/required.html",
        {
            "required": selectors.two_factor_required_for(request.user),
            "enrolled": selectors.two_factor_enrolled(request.user),
        },
    )

"""HTML views: the user's profile and language, invitation acceptance, and the org admin
pages (organisation, teams, people, invitations, CSV import, audit log)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations import selectors, services
from organizations.audit_text import audit_rows
from organizations.auth import password_sign_in_refusal
from organizations.errors import DomainError
from organizations.forms import (
    AcceptInvitationForm,
    AuditFilterForm,
    DesignSampleForm,
    ImportForm,
    InvitationForm,
    MemberForm,
    OperatorOrganizationForm,
    OrganizationForm,
    ProfileForm,
    TeamForm,
)
from organizations.http import MemberRequest
from organizations.models import Invitation, Language, Role, Team, User

PAGE_SIZE = 25

View = Callable[..., HttpResponse]


def org_admin_required(view: View) -> View:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_org_admin or request.user.organization_id is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def paginate(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def form_error(form: Any, error: DomainError) -> None:
    """Show a service's refusal on the field it names, or on the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
    for extra in error.errors:
        form.add_error(None, extra)


@login_required
def home(request: MemberRequest) -> HttpResponse:
    return redirect("feed")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    response = redirect(next_url)
    if language in Language.values:
        if request.user.is_authenticated:
            request.user.language = language
            request.user.save(update_fields=["language"])
        from django.conf import settings

        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


@login_required
def design(request: MemberRequest) -> HttpResponse:
    """Every component of the design system on one page (described in docs/design.md)."""
    sample = DesignSampleForm(data={"name": "", "language": "fr", "caption": "Lorem ipsum"})
    sample.is_valid()  # shows a field in error, as after a refused submit
    paginator = Paginator(range(60), 20)
    return render(
        request,
        "organizations/design.html",
        {"sample_form": sample, "page": paginator.page(2), "querystring": ""},
    )


@login_required
def profile(request: MemberRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "job_title": user.job_title,
            "language": user.language,
            "time_zone": user.time_zone,
        },
        organization_zone=user.organization.time_zone if user.organization else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(
                user=user,
                avatar=form.cleaned_data.get("avatar"),
                request=request,
                **{
                    k: form.cleaned_data[k]
                    for k in ("first_name", "last_name", "language", "job_title", "time_zone")
                },
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    return render(
        request,
        "organizations/profile.html",
        {"form": form, "api_tokens": selectors.api_tokens_of_user(user)},
    )


@login_required
@require_POST
def profile_api_token_revoke(request: MemberRequest, prefix: str) -> HttpResponse:
    token = selectors.api_tokens_of_user(request.user).filter(token_key=prefix).first()
    if token is None:
        raise Http404
    services.api_token_revoke(actor=request.user, token=token, request=request)
    messages.success(request, _("The API token %(prefix)s… is revoked.") % {"prefix": prefix})
    return redirect("profile")


@login_required
@require_POST
def profile_api_tokens_revoke_all(request: MemberRequest) -> HttpResponse:
    services.api_tokens_revoke_all(
        user=request.user, actor=request.user, reason="signed_out_everywhere", request=request
    )
    messages.success(request, _("All your API tokens are revoked."))
    return redirect("profile")


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("organization"), token=token)
    if not invitation.is_open:
        if request.user.is_authenticated:
            messages.info(request, _("You are already signed in."))
            return redirect("home")
        return render(
            request, "organizations/invitation_closed.html", {"invitation": invitation}, status=410
        )
    if request.user.is_authenticated:
        return _invitation_accept_signed_in(request, invitation)
    if User.objects.filter(email__iexact=invitation.email).exists():
        # Someone of another organisation: they accept signed in with their own account.
        return render(
            request,
            "organizations/invitation_accept.html",
            {"invitation": invitation, "existing_account": True},
        )
    form = AcceptInvitationForm(
        request.POST or None,
        initial={"first_name": invitation.first_name, "last_name": invitation.last_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                request=request,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            refusal = password_sign_in_refusal(user.email)
            if refusal:
                # The organisation signs its people in through its identity provider: the
                # account is ready, the sign-in goes there.
                messages.success(
                    request,
                    _("Your account in %(org)s is ready.") % {"org": invitation.organization},
                )
                messages.info(request, refusal)
                return redirect("account_login")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to %(org)s!") % {"org": invitation.organization})
            return redirect("home")
    return render(
        request, "organizations/invitation_accept.html", {"invitation": invitation, "form": form}
    )


def _invitation_accept_signed_in(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    user = request.user
    if user.email.lower() != invitation.email.lower():
        messages.info(request, _("You are already signed in."))
        return redirect("home")
    if request.method == "POST":
        try:
            services.invitation_accept_as_member(invitation=invitation, user=user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("home")
        from organizations.memberships import session_remember_count

        session_remember_count(request, user)
        services.organization_switch(
            request=request, user=user, reference=invitation.organization.pk
        )
        messages.success(request, _("Welcome to %(org)s!") % {"org": invitation.organization})
        return redirect("feed")
    return render(
        request,
        "organizations/invitation_accept.html",
        {"invitation": invitation, "join_as_member": True},
    )


# --- Several organisations ---------------------------------------------------------------


@login_required
@require_POST
def organization_switch(request: MemberRequest) -> HttpResponse:
    """The header's switcher: work in another of one's organisations (session-wide)."""
    next_url = request.POST.get("next", "")
    if not next_url or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    try:
        organization = services.organization_switch(
            request=request, user=request.user, reference=request.POST.get("organization", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("home")
    messages.success(request, _("You are now working in %(org)s.") % {"org": organization})
    # A page of the previous organisation (an item, a person) means nothing in this one.
    return redirect(next_url or "feed")


@login_required
def agency(request: MemberRequest) -> HttpResponse:
    """Every client organisation where one is an admin or editor, with its figures."""
    from organizations.agency import agency_figures, agency_rows

    rows = agency_rows(request.user)
    if len(rows) < 2:
        raise Http404
    return render(
        request,
        "organizations/agency.html",
        {"rows": rows, "figures": agency_figures()},
    )


def _platform_operator(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


@login_required
def operator_organizations(request: MemberRequest) -> HttpResponse:
    """The platform operator's page: every organisation, and creating one with its first
    administrator invited. Organisation admins are not operators: 404."""
    if not _platform_operator(request.user):
        raise Http404
    form = OperatorOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization, invitation = services.organization_create(
                actor=request.user,
                request=request,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                admin_email=form.cleaned_data["admin_email"],
                language=form.cleaned_data["language"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("%(org)s is created; %(email)s is invited as its administrator.")
                % {"org": organization, "email": invitation.email},
            )
            return redirect("operator_organizations")
    return render(
        request,
        "organizations/operator.html",
        {"page": paginate(request, selectors.organizations_for_operator()), "form": form},
    )


# --- Administration ---------------------------------------------------------------------


@org_admin_required
def admin_home(request: MemberRequest) -> HttpResponse:
    organization = request.user.organization
    form = OrganizationForm(request.POST or None, request.FILES or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                actor=request.user,
                request=request,
                logo=form.cleaned_data.get("logo") if "logo" in request.FILES else None,
                **{
                    k: form.cleaned_data[k]
                    for k in ("name", "default_language", "time_zone", "brand_colour")
                },
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Organisation settings saved."))
            return redirect("org_admin_home")
    counts = {
        "members": organization.members.count(),
        "teams": organization.teams.count(),
        "open_invitations": organization.invitations.filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ).count(),
    }
    return render(request, "organizations/admin/home.html", {"form": form, "counts": counts})


@org_admin_required
def admin_teams(request: MemberRequest) -> HttpResponse:
    form = TeamForm(request.POST or None, organization=request.user.organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_create(actor=request.user, request=request, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Team created."))
            return redirect("org_admin_teams")
    return render(
        request,
        "organizations/admin/teams.html",
        {"tree": selectors.team_tree(request.user), "form": form},
    )


@org_admin_required
def admin_team_edit(request: MemberRequest, pk: int) -> HttpResponse:
    team = selectors.team_for_user(request.user, pk, write=True)
    form = TeamForm(
        request.POST or None,
        organization=request.user.organization,
        initial={
            "name": team.name,
            "kind": team.kind,
            "parent": team.parent,
            "managers": list(team.managers.all()),
        },
    )
    if request.method == "POST" and "delete" in request.POST:
        try:
            services.team_delete(actor=request.user, team=team, request=request)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("org_admin_team_edit", pk=team.pk)
        messages.success(request, _("Team deleted."))
        return redirect("org_admin_teams")
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(
                actor=request.user, team=team, request=request, **form.cleaned_data
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Team saved."))
            return redirect("org_admin_teams")
    return render(request, "organizations/admin/team_edit.html", {"team": team, "form": form})


@org_admin_required
def admin_users(request: MemberRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    team_id = request.GET.get("team", "")
    members = selectors.member_list(
        request.user,
        search=search,
        role=role if role in Role.values else "",
        team_id=int(team_id) if team_id.isdecimal() else None,
    )
    return render(
        request,
        "organizations/admin/users.html",
        {
            "page": paginate(request, members),
            "q": search,
            "role": role,
            "team": team_id,
            "roles": Role.choices,
            "teams": Team.objects.filter(organization=request.user.organization),
            "querystring": _querystring_without_page(request),
        },
    )


@org_admin_required
def admin_user_edit(request: MemberRequest, pk: int) -> HttpResponse:
    member = selectors.member_for_user(request.user, pk, write=True)
    form = MemberForm(
        request.POST or None,
        organization=request.user.organization,
        initial={
            "role": member.role_here,
            "job_title": member.job_title,
            "is_active": member.is_active,
            "teams": list(member.teams.filter(organization_id=request.user.organization_id)),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_role(
                actor=request.user, user=member, role=form.cleaned_data["role"], request=request
            )
            services.user_update_membership(
                actor=request.user,
                user=member,
                teams=list(form.cleaned_data["teams"]),
                job_title=form.cleaned_data["job_title"],
                is_active=form.cleaned_data["is_active"],
                request=request,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": member})
            return redirect("org_admin_users")
    return render(request, "organizations/admin/user_edit.html", {"member": member, "form": form})


@org_admin_required
def admin_invitations(request: MemberRequest) -> HttpResponse:
    organization = request.user.organization
    form = InvitationForm(
        request.POST or None,
        organization=organization,
        initial={"language": organization.default_language},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.invitation_create(
                actor=request.user,
                request=request,
                email=data["email"],
                role=data["role"],
                teams=list(data["teams"]),
                first_name=data["first_name"],
                last_name=data["last_name"],
                job_title=data["job_title"],
                language=data["language"],
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request, _("Invitation for %(email)s is on its way.") % {"email": data["email"]}
            )
            return redirect("org_admin_invitations")
    return render(
        request,
        "organizations/admin/invitations.html",
        {"form": form, "page": paginate(request, selectors.invitation_list(request.user))},
    )


@org_admin_required
@require_POST
def admin_invitation_action(request: MemberRequest, pk: int, verb: str) -> HttpResponse:
    invitation = selectors.invitation_for_user(request.user, pk)
    try:
        if verb == "revoke":
            services.invitation_revoke(actor=request.user, invitation=invitation, request=request)
            messages.success(request, _("Invitation revoked."))
        elif verb == "resend":
            services.invitation_resend(actor=request.user, invitation=invitation, request=request)
            messages.success(request, _("Invitation sent again."))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("org_admin_invitations")


@org_admin_required
def admin_import(request: MemberRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.users_import_csv(
                actor=request.user, raw=form.cleaned_data["file"].read(), request=request
            )
        except DomainError as error:
            form.add_error(None, error.message)
            errors = error.errors
        else:
            messages.success(
                request,
                _("Import done: %(invited)s invited, %(updated)s updated, %(teams)s new teams.")
                % {
                    "invited": result.invited,
                    "updated": result.updated,
                    "teams": result.teams_created,
                },
            )
            return redirect("org_admin_users")
    return render(request, "organizations/admin/import.html", {"form": form, "errors": errors})


@org_admin_required
def admin_audit(request: MemberRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entries(request.user, **{k: v for k, v in filters.items() if v})
    page = paginate(request, entries)
    return render(
        request,
        "organizations/admin/audit.html",
        {
            "form": form,
            "page": page,
            "rows": audit_rows(page.object_list),
            "querystring": _querystring_without_page(request),
        },
    )

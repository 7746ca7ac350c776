"""The privacy pages: a person's data (/me/data/: export, participation, leaving), the
organisation's privacy page (/privacy/), its administration (/admin/privacy/) and the
erasure of a person by an org admin (/admin/people/<id>/erase/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from content.models import CharterAcceptance, Guideline, GuidelineKind
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import form_error, org_admin_required
from privacy import selectors
from privacy.api import export_file_response
from privacy.archive_link import archive_count
from privacy.forms import EraseForm, LeaveForm, PrivacySettingsForm
from privacy.models import RUNNING_STATUSES
from privacy.registry import EXCLUDED, KEEP, LEGAL_RETENTION, installed_entries
from privacy.services.erasure import person_erase
from privacy.services.exports import data_export_for_download, data_export_request
from privacy.services.participation import participation_join, participation_leave
from privacy.services.settings import privacy_settings_update


def _member(request: MemberRequest) -> None:
    if request.user.organization_id is None:
        raise Http404


def _charter_to_accept(user) -> Guideline | None:  # type: ignore[no-untyped-def]
    """The organisation's charter when the person has not accepted its current version."""
    charter = Guideline.objects.filter(
        organization_id=user.organization_id, kind=GuidelineKind.CHARTER
    ).first()
    if charter is None:
        return None
    accepted = CharterAcceptance.objects.filter(
        user=user, guideline=charter, version=charter.version
    ).exists()
    return None if accepted else charter


@login_required
def my_data(request: MemberRequest) -> HttpResponse:
    _member(request)
    user = request.user
    if request.method == "POST":
        try:
            _export, created = data_export_request(user=user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if created:
                messages.success(
                    request,
                    _("Your export is being prepared. You will be notified when it is ready."),
                )
            else:
                messages.info(request, _("Your export is already being prepared."))
        return redirect("privacy_my_data")
    export = selectors.data_export_latest(user=user)
    return render(
        request,
        "privacy/my_data.html",
        {
            "export": export,
            "preparing": export is not None and export.status in RUNNING_STATUSES,
            "participation": selectors.participation_of(user=user),
            "charter": _charter_to_accept(user),
            "leave_form": LeaveForm(),
            "archive": archive_count(user=user),
            "kinds": installed_entries(),
        },
    )


@require_safe
@login_required
def my_data_download(request: MemberRequest) -> HttpResponse | FileResponse:
    _member(request)
    try:
        return export_file_response(data_export_for_download(user=request.user))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("privacy_my_data")


@require_POST
@login_required
def join(request: MemberRequest) -> HttpResponse:
    _member(request)
    charter = _charter_to_accept(request.user)
    if charter is not None:
        messages.info(request, _("Read and accept the charter to join the programme."))
        return redirect("guideline_page", kind=GuidelineKind.CHARTER)
    current = (
        Guideline.objects.filter(organization=request.user.organization, kind=GuidelineKind.CHARTER)
        .values_list("version", flat=True)
        .first()
    )
    participation_join(user=request.user, charter_version=current, request=request)
    messages.success(request, _("Welcome back to the programme."))
    return redirect("privacy_my_data")


@require_POST
@login_required
def leave(request: MemberRequest) -> HttpResponse:
    _member(request)
    form = LeaveForm(request.POST)
    if form.is_valid():
        erase = form.cleaned_data["history"] == "erase"
        try:
            participation_leave(
                user=request.user,
                erase=erase,
                confirm_email=form.cleaned_data["confirm_email"],
                request=request,
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("privacy_my_data")
        if erase:
            logout(request)
            return redirect("account_login")
        messages.success(
            request,
            _("You have left the programme. Your history is kept; you can join again here."),
        )
    else:
        messages.error(request, _("Choose what happens to your history."))
    return redirect("privacy_my_data")


@require_safe
@login_required
def privacy_page(request: MemberRequest) -> HttpResponse:
    _member(request)
    organization = request.user.organization
    return render(
        request,
        "privacy/page.html",
        {
            "config": selectors.privacy_settings_of(organization),
            "kinds": installed_entries(),
            "keep": KEEP,
            "excluded": [*LEGAL_RETENTION.values(), *EXCLUDED.values()],
        },
    )


@org_admin_required
def privacy_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    config = selectors.privacy_settings_of(user.organization)
    form = PrivacySettingsForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.fields}
        try:
            privacy_settings_update(actor=user, values=values, request=request)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The privacy settings are saved."))
            return redirect("privacy_admin")
    return render(request, "privacy/admin.html", {"form": form})


@org_admin_required
def person_erase_page(request: MemberRequest, pk: int) -> HttpResponse:
    member = selectors.member_to_erase(actor=request.user, pk=pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pseudonym = person_erase(
                actor=request.user,
                user=member,
                confirm_email=form.cleaned_data["confirm_email"],
                request=request,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("The person's data is erased. Their records now carry the id %(pseudonym)s.")
                % {"pseudonym": pseudonym},
            )
            return redirect("org_admin_users")
    return render(
        request,
        "privacy/erase.html",
        {
            "form": form,
            "preview": selectors.erasure_preview(member=member),
            "kinds": installed_entries(),
            "keep": KEEP,
            "excluded": [*LEGAL_RETENTION.values(), *EXCLUDED.values()],
            "is_self": member.pk == request.user.pk,
        },
    )

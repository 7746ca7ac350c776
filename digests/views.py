"""The digest's pages: a person's choice (/digest/), the signed Share link of an email
(/digest/share/<token>/), the one-click unsubscribe (/digest/unsubscribe/<token>/), and
the org admin's page (/admin/digest/) with the schedule, a preview and the recent runs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from digests import selectors, services
from digests.emails import digest_render
from digests.forms import DigestSettingsForm, PreferenceForm, PreviewForm
from digests.tokens import TokenExpired, TokenInvalid, share_token_read, unsubscribe_token_read
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.models import User
from organizations.views import form_error, org_admin_required


def profile_digest_context(user: User) -> dict[str, Any]:
    """The digest section of /me/: a link to the choice, without a query (the profile
    page's query budget is shared by every app's section)."""
    return {"digest_available": user.organization_id is not None}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def digest_preferences(request: MemberRequest) -> HttpResponse:
    user = request.user
    preference = selectors.digest_preference_for(user)
    form = PreferenceForm(request.POST or None, initial={"frequency": preference.frequency})
    if request.method == "POST" and form.is_valid():
        try:
            services.digest_preference_set(user=user, frequency=form.cleaned_data["frequency"])
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Your digest choice is saved."))
            return redirect("digest_preferences")
    return render(request, "digests/preferences.html", {"form": form, "preference": preference})


def _refused(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    return render(
        request, "digests/link_refused.html", {"title": title, "message": message}, status=status
    )


@require_safe
def digest_share(request: HttpRequest, token: str) -> HttpResponse:
    """A digest's Share button: the person it was made for goes to the content's share
    page; anyone else gets a page saying so, never that person's share sheet."""
    try:
        grant = share_token_read(token)
    except TokenExpired:
        return _refused(
            request,
            title=_("This link has expired"),
            message=_(
                "Share links in a digest work for 7 days. The post may still be in your feed."
            ),
            status=410,
        )
    except TokenInvalid:
        return _refused(
            request,
            title=_("This link does not work"),
            message=_("The link is incomplete or was changed. Open the post from your feed."),
            status=400,
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.pk != grant.user_id:
        return _refused(
            request,
            title=_("This link was made for someone else"),
            message=_(
                "Each digest's Share links belong to the person it was sent to. "
                "Sign out and sign in with that account, or open the post from your own feed."
            ),
            status=403,
        )
    return redirect("share_content", pk=grant.content_id)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: a POST (from the mail client, without session or CSRF token: the signed
    token is the authority) unsubscribes at once; a GET only shows the button, since link
    scanners open every URL of an email."""
    try:
        user_id = unsubscribe_token_read(token)
    except TokenInvalid:
        return _refused(
            request,
            title=_("This link does not work"),
            message=_(
                "The link is incomplete or was changed. You can choose your digest in your profile."
            ),
            status=400,
        )
    if request.method == "POST":
        user = services.digest_unsubscribe(user_id=user_id)
        if user is None:
            return _refused(
                request,
                title=_("This account no longer exists"),
                message=_("No digest is sent to it."),
                status=404,
            )
        return render(request, "digests/unsubscribed.html", {"person": user})
    return render(request, "digests/unsubscribe.html", {"action": request.path})


# --- the org admin's page -------------------------------------------------------------------


@org_admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def digest_admin(request: MemberRequest) -> HttpResponse:
    user = request.user
    assert user.organization_id is not None
    current = selectors.digest_settings_of(user.organization_id)
    initial = {
        "default_frequency": current.default_frequency,
        "weekday": current.weekday,
        "hour": current.hour,
    }
    form = DigestSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.digest_settings_update(actor=user, request=request, **form.cleaned_data)
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The digest schedule is saved."))
            return redirect("digest_admin")
    people = selectors.digest_people_choices(user)
    preview_form = PreviewForm(request.GET or None, people=people)
    preview = rendered = None
    if "person" in request.GET and preview_form.is_valid():
        person = selectors.digest_person_for(user, preview_form.cleaned_data["person"].pk)
        preview = selectors.digest_for(person)
        if preview.would_send:
            rendered = digest_render(preview, for_someone_else=person.pk != user.pk)
    return render(
        request,
        "digests/admin.html",
        {
            "form": form,
            "preview_form": preview_form,
            "preview": preview,
            "rendered": rendered,
            "runs": selectors.digest_runs_recent(user.organization_id),
        },
    )


@org_admin_required
@require_safe
@xframe_options_sameorigin
def digest_admin_preview_html(request: MemberRequest, pk: int) -> HttpResponse:
    """The HTML email alone, for the admin page's sandboxed frame."""
    person = selectors.digest_person_for(request.user, pk)
    digest = selectors.digest_for(person)
    if digest.would_send:
        response = HttpResponse(
            digest_render(digest, for_someone_else=person.pk != request.user.pk).html
        )
    else:
        response = render(request, "digests/preview_empty.html", {"person": person})
    # The email's own inline styles, its images from anywhere, no script; framed by us only.
    response._csp_replace = {  # type: ignore[attr-defined]
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:", "http:"],
        "script-src": ["'none'"],
        "frame-ancestors": ["'self'"],
    }
    response["Cache-Control"] = "no-store"
    return response

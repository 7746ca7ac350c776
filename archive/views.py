"""The archive's pages: the compliance officer's search (/archive/), a record, the exports
and their download; and the org admin's retention setting (/admin/archive/)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from advocacy.models import ShareMode
from archive import selectors, services
from archive.forms import ArchiveExportForm, ArchivePolicyForm, ArchiveSearchForm
from archive.models import ArchiveEventKind, ExportStatus
from archive.selectors import ArchiveFilters
from content.models import Network
from organizations.errors import DomainError
from organizations.http import MemberRequest
from organizations.views import _querystring_without_page, form_error, org_admin_required, paginate


def compliance_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_compliance_officer or user.organization_id is None:  # type: ignore[union-attr]
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


BADGES = {
    ArchiveEventKind.PUBLISHED: "badge-ok",
    ArchiveEventKind.FAILED: "badge-danger",
    ArchiveEventKind.RECALL_FAILED: "badge-danger",
    ArchiveEventKind.OUTCOME_UNKNOWN: "badge-warn",
    ArchiveEventKind.RECALL_PENDING: "badge-warn",
    ArchiveEventKind.RECALL_ASKED: "badge-warn",
}


def _state_label(state: str) -> str:
    return str(dict(ArchiveEventKind.choices).get(state, state))


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _network_label(network: str) -> str:
    return str(dict(Network.choices).get(network, network))


@require_safe
@compliance_required
def archive_search(request: MemberRequest) -> HttpResponse:
    form = ArchiveSearchForm(request.GET or None)
    filters = ArchiveFilters()
    if form.is_valid():
        filters = ArchiveFilters(**{k: v for k, v in form.cleaned_data.items() if v})
    results = selectors.archive_search(request.user, filters)
    if form.is_bound and not form.is_valid():
        results = results.none()  # the errors, never the unfiltered archive
    page = paginate(request, results)
    return render(
        request,
        "archive/search.html",
        {
            "form": form,
            "page": page,
            "filtered": any(bool(v) for v in vars(filters).values()),
            "querystring": _querystring_without_page(request),
            "rows": [
                {
                    "record": record,
                    "network": _network_label(record.network),
                    "state": _state_label(record.latest_event or record.outcome),
                    "badge": BADGES.get(record.latest_event or record.outcome, "badge-muted"),
                }
                for record in page.object_list
            ],
            "counts": selectors.archive_counts(selectors.archive_reader(request.user)),
        },
    )


@require_safe
@compliance_required
def archive_detail(request: MemberRequest, pk: int) -> HttpResponse:
    record = selectors.archived_share_for(request.user, pk)
    return render(
        request,
        "archive/detail.html",
        {
            "record": record,
            "network": _network_label(record.network),
            "mode": str(dict(ShareMode.choices).get(record.mode, record.mode)),
            "outcome": _state_label(record.outcome),
            "events": [
                {"event": event, "label": _state_label(event.kind)}
                for event in selectors.events_of(record)
            ],
            "approvals": [
                {**approval, "at": _moment(approval.get("at"))} for approval in record.approvals
            ],
            "snapshot": json.dumps(record.content_snapshot, indent=2, ensure_ascii=False),
        },
    )


@compliance_required
def archive_exports(request: MemberRequest) -> HttpResponse:
    form = ArchiveExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            export = services.archive_export_request(
                actor=request.user,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                request=request,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(
                request, _("The export is being prepared; you will be notified when it is ready.")
            )
            return redirect("archive_export_detail", pk=export.pk)
    page = paginate(request, selectors.archive_exports(request.user))
    return render(request, "archive/exports.html", {"form": form, "page": page})


@require_safe
@compliance_required
def archive_export_detail(request: MemberRequest, pk: int) -> HttpResponse:
    export = selectors.archive_export_for(request.user, pk)
    return render(
        request,
        "archive/export_detail.html",
        {"export": export, "pending": export.status == ExportStatus.PENDING},
    )


@require_safe
@compliance_required
def archive_export_download(request: MemberRequest, pk: int) -> HttpResponse:
    export = selectors.archive_export_for(request.user, pk, with_file=True)
    if export.status != ExportStatus.READY or not export.file:
        messages.error(request, _("This export is not ready to download."))
        return redirect("archive_export_detail", pk=export.pk)
    response = HttpResponse(bytes(export.file), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@org_admin_required
def archive_settings(request: MemberRequest) -> HttpResponse:
    user = request.user
    organization_id = user.organization_id
    assert organization_id is not None  # org_admin_required
    policy = selectors.archive_policy_of(organization_id)
    form = ArchivePolicyForm(
        request.POST or None,
        initial={
            "retention_years": policy.retention_years,
            "export_retention_days": policy.export_retention_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.archive_policy_update(
                actor=user,
                retention_years=form.cleaned_data["retention_years"],
                export_retention_days=form.cleaned_data.get("export_retention_days"),
                request=request,
            )
        except DomainError as error:
            form_error(form, error)
        else:
            messages.success(request, _("The archive's retention is saved."))
            return redirect("archive_settings")
    return render(
        request,
        "archive/settings.html",
        {"form": form, "counts": selectors.archive_counts(organization_id)},
    )

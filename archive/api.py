"""/api/v1/archive/: the organisation's archive of shares (compliance officers only), and
its signed exports (create, list, read, download)."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.urls import path, re_path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from archive import selectors, services
from archive.forms import date_bounds_error
from archive.models import ArchivedShare, ArchiveEvent, ArchiveExport, ExportStatus
from archive.selectors import ArchiveFilters
from content.models import Network
from organizations.api import api_caller, url_pk
from organizations.errors import ConflictError


class IsComplianceOfficer(permissions.BasePermission):
    message = _("Only a compliance officer can read the archive.")

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return bool(user.is_authenticated and user.is_compliance_officer and user.organization_id)


class ArchiveEventSerializer(serializers.ModelSerializer):
    # Plain strings in the schema: enum names by field ("kind", "status") collide across apps.
    kind = serializers.CharField(
        read_only=True,
        help_text="published, failed, outcome_unknown, dismissed, cancelled, "
        "recall_pending, recalled, recall_asked or recall_failed.",
    )

    class Meta:
        model = ArchiveEvent
        fields = [
            "sequence", "kind", "occurred_at", "published_at", "external_id", "external_url",
            "detail", "archived_at", "previous_hash", "record_hash",
        ]  # fmt: skip


class ArchivedShareSerializer(serializers.ModelSerializer):
    latest_event = serializers.CharField(
        read_only=True, allow_null=True, help_text="The kind of the latest event, if any."
    )

    class Meta:
        model = ArchivedShare
        fields = [
            "id", "sequence", "share_id", "person_id", "person_name", "person_email",
            "team_names", "network", "mode", "account_name", "account_external_id", "text",
            "tracked_url", "destination_url", "content_id", "content_title",
            "content_version", "outcome", "error", "shared_at", "left_at", "published_at",
            "external_id", "external_url", "archived_at", "retain_until", "previous_hash",
            "record_hash", "latest_event",
        ]  # fmt: skip


class ArchivedShareDetailSerializer(ArchivedShareSerializer):
    events = ArchiveEventSerializer(many=True, read_only=True)

    class Meta(ArchivedShareSerializer.Meta):
        fields = [
            *ArchivedShareSerializer.Meta.fields,
            "content_snapshot",
            "approvals",
            "events",
        ]


def _bounded(value: date) -> date:
    error = date_bounds_error(value)
    if error:
        raise serializers.ValidationError(error)
    return value


class ArchiveViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation's archived shares, newest first. Filter with `person` (name, email
    or id), `date_from` / `date_to` (the day it left, in the organisation's time zone),
    `network`, `content` (title or id) and `words` (all of them in the text)."""

    queryset = ArchivedShare.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = ArchivedShareSerializer
    permission_classes = [IsComplianceOfficer]
    filter_backends: list = []

    class Filters(serializers.Serializer):
        person = serializers.CharField(required=False, allow_blank=True, max_length=200)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        network = serializers.ChoiceField(choices=Network.choices, required=False)
        content = serializers.CharField(required=False, allow_blank=True, max_length=200)
        words = serializers.CharField(required=False, allow_blank=True, max_length=200)

        def validate_date_from(self, value: date) -> date:
            return _bounded(value)

        def validate_date_to(self, value: date) -> date:
            return _bounded(value)

        def validate(self, attrs: dict) -> dict:
            start, end = attrs.get("date_from"), attrs.get("date_to")
            if start and end and end < start:
                raise serializers.ValidationError(
                    {"date_to": _("The end of the period is before its start.")}
                )
            return attrs

    def get_queryset(self):  # type: ignore[no-untyped-def]
        filters = self.Filters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.archive_search(
            api_caller(self.request), ArchiveFilters(**filters.validated_data)
        )

    def get_object(self) -> ArchivedShare:
        return selectors.archived_share_for(api_caller(self.request), url_pk(self.kwargs))

    @extend_schema(parameters=[Filters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=ArchivedShareDetailSerializer)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        record = self.get_object()
        body = ArchivedShareDetailSerializer(record).data
        body["events"] = ArchiveEventSerializer(selectors.events_of(record), many=True).data
        return Response(body)


class ArchiveExportSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True, help_text="pending, ready, failed or expired (file deleted)."
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ArchiveExport
        fields = [
            "id", "date_from", "date_to", "status", "requested_by_email", "record_count",
            "event_count", "file_size", "first_hash", "last_hash", "manifest_hash",
            "previous", "chain_hash", "error", "created_at", "claimed_at", "completed_at",
            "expired_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export: ArchiveExport) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        return f"/api/v1/archive/exports/{export.pk}/download/"


class ArchiveExportInput(serializers.Serializer):
    date_from = serializers.DateField(help_text="First day (organisation's time zone).")
    date_to = serializers.DateField(help_text="Last day, included.")

    def validate_date_from(self, value: date) -> date:
        return _bounded(value)

    def validate_date_to(self, value: date) -> date:
        return _bounded(value)


class ArchiveExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Signed exports of a period of the archive (a ZIP of records.jsonl, records.csv,
    manifest.json and manifest.sig), built in the background: poll the export until its
    `status` is `ready`, then download it."""

    queryset = ArchiveExport.objects.none()
    serializer_class = ArchiveExportSerializer
    permission_classes = [IsComplianceOfficer]
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.archive_exports(api_caller(self.request))

    def get_object(self) -> ArchiveExport:
        return selectors.archive_export_for(api_caller(self.request), url_pk(self.kwargs))

    @extend_schema(request=ArchiveExportInput, responses={202: ArchiveExportSerializer})
    def create(self, request: Request) -> Response:
        data = ArchiveExportInput(data=request.data)
        data.is_valid(raise_exception=True)
        export = services.archive_export_request(
            actor=api_caller(request),
            date_from=data.validated_data["date_from"],
            date_to=data.validated_data["date_to"],
            request=request,
        )
        return Response(ArchiveExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(description="The export is not ready."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        export = selectors.archive_export_for(
            api_caller(request), url_pk(self.kwargs), with_file=True
        )
        if export.status != ExportStatus.READY or not export.file:
            raise ConflictError(gettext("This export is not ready to download."))
        response = HttpResponse(bytes(export.file), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


archive_list = ArchiveViewSet.as_view({"get": "list"})
archive_item = ArchiveViewSet.as_view({"get": "retrieve"})
export_list = ArchiveExportViewSet.as_view({"get": "list", "post": "create"})
export_item = ArchiveExportViewSet.as_view({"get": "retrieve"})
export_download = ArchiveExportViewSet.as_view({"get": "download"})

urlpatterns = [
    path("archive/", archive_list, name="api_archive"),
    re_path(r"^archive/(?P<pk>-?[0-9]+)/$", archive_item, name="api_archive_item"),
    path("archive/exports/", export_list, name="api_archive_exports"),
    re_path(r"^archive/exports/(?P<pk>-?[0-9]+)/$", export_item, name="api_archive_export"),
    re_path(
        r"^archive/exports/(?P<pk>-?[0-9]+)/download/$",
        export_download,
        name="api_archive_export_download",
    ),
]

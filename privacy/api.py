"""/api/v1/me/data-export/ (request, status, download) and the erasure of a person,
/api/v1/users/{id}/erase/ (org admins)."""

from __future__ import annotations

from django.http import FileResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organizations.api import HasOrganization, IsOrgAdmin, api_caller, url_pk
from organizations.errors import NotFoundError
from privacy import selectors
from privacy.models import DataExport, ExportStatus
from privacy.services.erasure import person_erase
from privacy.services.exports import (
    data_export_for_download,
    data_export_open,
    data_export_request,
)


class DataExportSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=ExportStatus.choices,
        help_text="pending and running: being prepared; ready: download it; failed; expired.",
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "created_at",
            "ready_at",
            "expires_at",
            "size",
            "error",
            "download_url",
        ]

    def get_download_url(self, export: DataExport) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        request = self.context.get("request")
        url = "/api/v1/me/data-export/download/"
        return request.build_absolute_uri(url) if request is not None else url


class MyDataExportView(APIView):
    """The caller's export of everything Portevoix holds about them."""

    permission_classes = [HasOrganization]

    @extend_schema(
        responses={200: DataExportSerializer, 404: OpenApiResponse(description="No export yet.")}
    )
    def get(self, request: Request) -> Response:
        export = selectors.data_export_latest(user=api_caller(request))
        if export is None:
            raise NotFoundError(_("You have not asked for an export yet."))
        return Response(DataExportSerializer(export, context={"request": request}).data)

    @extend_schema(
        request=None,
        responses={
            202: DataExportSerializer,
            200: OpenApiResponse(
                DataExportSerializer, description="An export was already being prepared."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        export, created = data_export_request(user=api_caller(request), request=request._request)
        return Response(
            DataExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )


class MyDataExportDownloadView(APIView):
    permission_classes = [HasOrganization]

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No export yet."),
            409: OpenApiResponse(
                description="Still being prepared, failed or expired (also when the file is "
                "no longer in storage)."
            ),
        }
    )
    def get(self, request: Request) -> FileResponse:
        return export_file_response(data_export_for_download(user=api_caller(request)))


def export_file_response(export: DataExport) -> FileResponse:
    response = FileResponse(
        data_export_open(export=export),
        as_attachment=True,
        filename=f"portevoix-data-{export.created_at:%Y%m%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


class EraseInput(serializers.Serializer):
    confirm_email = serializers.CharField(
        help_text="The person's email address, typed again to confirm."
    )


class EraseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    pseudonym = serializers.CharField(
        help_text="The opaque id the person's ledger and audit entries now carry."
    )


class UserEraseView(APIView):
    """Erase a person of the caller's organisation (org admins; never oneself, never the
    last administrator). Irreversible."""

    permission_classes = [IsOrgAdmin]

    @extend_schema(request=EraseInput, responses=EraseOutput)
    def post(self, request: Request, pk: str) -> Response:
        actor = api_caller(request)
        member = selectors.member_to_erase(actor=actor, pk=url_pk({"pk": pk}))
        data = EraseInput(data=request.data)
        data.is_valid(raise_exception=True)
        pseudonym = person_erase(
            actor=actor,
            user=member,
            confirm_email=data.validated_data["confirm_email"],
            request=request._request,
        )
        return Response(EraseOutput({"id": member.pk, "pseudonym": pseudonym}).data)


urlpatterns = [
    path("me/data-export/", MyDataExportView.as_view(), name="api_my_data_export"),
    path(
        "me/data-export/download/",
        MyDataExportDownloadView.as_view(),
        name="api_my_data_export_download",
    ),
    path("users/<int:pk>/erase/", UserEraseView.as_view(), name="api_user_erase"),
]

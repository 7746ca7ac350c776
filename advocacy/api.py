"""The sharing API: /api/v1/shares/ (create, list mine, detail with attempts, cancel, retry,
confirm, dismiss), /api/v1/queue/ (posting slots and the next free ones), and
/api/v1/sharing/pause/ for org admins. Same services and scoping as the HTML pages."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advocacy import selectors
from advocacy.dropped_connections import on_live_connection
from advocacy.models import Share, ShareAttempt
from advocacy.services import sharing
from content.models import Network
from organizations.api import HasOrganization, api_caller, url_pk
from organizations.api_contract import HourMinuteField, ListActionPaginationSchema
from organizations.errors import PermissionDeniedError
from organizations.models import User

_caller = api_caller
_pk = url_pk


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShareAttempt
        fields = ["kind", "outcome", "status_code", "body", "duration_ms", "started_at"]


class ShareSerializer(serializers.ModelSerializer):
    content_title = serializers.CharField(source="content.title", read_only=True)
    tracked_url = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField(
        help_text="For share-link shares: the network's own share page to open."
    )

    class Meta:
        model = Share
        fields = [
            "id",
            "content",
            "content_title",
            "network",
            "mode",
            "status",
            "text",
            "scheduled_at",
            "next_attempt_at",
            "published_at",
            "external_url",
            "last_error",
            "attempt_count",
            "tracked_url",
            "share_url",
            "created_at",
        ]
        read_only_fields = fields

    def get_tracked_url(self, share: Share) -> str:
        link = getattr(share, "tracked_link", None)
        return f"{settings.SITE_URL}/s/{link.code}" if link else ""

    def get_share_url(self, share: Share) -> str:
        return selectors.share_link_url(share) if share.mode == "link" else ""


class ShareDetailSerializer(ShareSerializer):
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(ShareSerializer.Meta):
        fields = [*ShareSerializer.Meta.fields, "attempts"]
        read_only_fields = fields


class ShareInput(serializers.Serializer):
    # An id, not a related field: content the caller may not share is a 404 from the
    # service, whether it exists elsewhere or not.
    content = serializers.IntegerField(min_value=1)
    networks = serializers.ListField(
        child=serializers.ChoiceField(choices=Network.choices),
        allow_empty=False,
        min_length=1,
        max_length=3,
    )
    captions = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=5000),
        required=False,
        help_text="Per network (linkedin, x, facebook); a suggested caption is used where absent.",
    )
    modes = serializers.DictField(
        child=serializers.ChoiceField(choices=["api", "link"]),
        required=False,
        help_text="Per network: 'link' to use a share link even with a connected account.",
    )
    when = serializers.ChoiceField(
        choices=[sharing.WHEN_NOW, sharing.WHEN_SCHEDULE, sharing.WHEN_QUEUE],
        default=sharing.WHEN_NOW,
    )
    scheduled_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO 8601; without an offset, in the organisation's time zone.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for key in attrs.get("captions") or {}:
            if key not in Network.values:
                raise serializers.ValidationError(
                    {"captions": _("Unknown network: %(n)s") % {"n": key}}
                )
        if attrs.get("when") == sharing.WHEN_SCHEDULE and not attrs.get("scheduled_at"):
            raise serializers.ValidationError(
                {"scheduled_at": _("Give the date and time to share at.")}
            )
        return attrs


class ShareFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("", "")] + [(k, k) for k in selectors.STATUS_FILTERS], required=False, default=""
    )


class ShareViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's shares. Creating shares writes one per network, each with its tracked
    link; connected networks are posted for the caller, the others get a share link."""

    queryset = Share.objects.none()
    serializer_class = ShareSerializer
    permission_classes = [HasOrganization]
    # POST answers the created shares as a plain array, not a page.
    schema = ListActionPaginationSchema()
    filter_backends: list = []

    def get_queryset(self):
        filters = ShareFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.shares_of(
            _caller(self.request), status_filter=filters.validated_data["status"]
        )

    def get_object(self) -> Share:
        return selectors.share_for_user(_caller(self.request), _pk(self.kwargs))

    def get_serializer_class(self):
        return ShareDetailSerializer if self.action != "list" else ShareSerializer

    @extend_schema(parameters=[ShareFilters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ShareInput, responses={201: ShareSerializer(many=True)})
    def create(self, request: Request) -> Response:
        data = ShareInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _caller(request)
        scheduled_at = values.get("scheduled_at")
        raw = parse_datetime(str(request.data.get("scheduled_at") or ""))
        if scheduled_at is not None and raw is not None and raw.tzinfo is None:
            assert user.organization is not None
            scheduled_at = raw.replace(tzinfo=ZoneInfo(user.organization.time_zone))
        shares = sharing.share_create(
            user=user,
            data=sharing.ShareRequest(
                content_id=values["content"],
                networks=values["networks"],
                captions=values.get("captions") or {},
                when=values["when"],
                scheduled_at=scheduled_at,
                modes=values.get("modes") or {},
            ),
            request=request._request,
        )
        # Committed: the shares exist and will be published, so the answer must not turn
        # into an error if the connection is dropped now; it is read on a new one.
        ids = [s.pk for s in shares]
        fresh = on_live_connection(
            lambda _attempt: list(selectors.shares_of(user).filter(pk__in=ids)),
            what="reading the shares just created",
        )
        return Response(ShareSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)

    def _act(self, request: Request, verb: str) -> Response:
        share = self.get_object()
        if share.user_id != _caller(request).pk:
            raise PermissionDeniedError(str(_("Only the employee who shared can do this.")))
        getattr(sharing, f"share_{verb}")(user=_caller(request), share=share)
        return Response(ShareDetailSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=ShareDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "cancel")

    @extend_schema(request=None, responses=ShareDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "retry")

    @extend_schema(request=None, responses=ShareDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """ "I posted it" (share link) or "it is on my profile" (unknown outcome)."""
        return self._act(request, "confirm")

    @extend_schema(request=None, responses=ShareDetailSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "dismiss")


class SlotSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="Monday is 0.")
    time = HourMinuteField()


class QueueSerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)
    custom = serializers.BooleanField(read_only=True, help_text="False: the default slots apply.")
    time_zone = serializers.CharField(read_only=True)


class QueueView(APIView):
    """The caller's weekly posting slots (what "add to my queue" uses)."""

    permission_classes = [HasOrganization]

    def _answer(self, user: User) -> Response:
        slots = [{"weekday": day, "time": moment} for day, moment in sharing.slots_of(user)]
        assert user.organization is not None
        return Response(
            QueueSerializer(
                {
                    "slots": slots,
                    "custom": user.posting_slots.exists(),
                    "time_zone": user.organization.time_zone,
                }
            ).data
        )

    @extend_schema(responses=QueueSerializer)
    def get(self, request: Request) -> Response:
        return self._answer(_caller(request))

    @extend_schema(request=QueueSerializer, responses=QueueSerializer)
    def put(self, request: Request) -> Response:
        data = QueueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _caller(request)
        sharing.slots_replace(
            user=user, slots=[(s["weekday"], s["time"]) for s in data.validated_data["slots"]]
        )
        return self._answer(user)


class PauseSerializer(serializers.Serializer):
    paused = serializers.BooleanField(read_only=True)
    paused_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PauseView(APIView):
    """Crisis mode: an org admin stops all publishing (POST) and resumes it (DELETE)."""

    permission_classes = [HasOrganization]

    def _answer(self, user: User) -> Response:
        pause = selectors.pause_of(user)
        return Response(
            PauseSerializer(
                {
                    "paused": pause is not None,
                    "paused_at": pause.paused_at if pause else None,
                    "reason": pause.reason if pause else "",
                }
            ).data
        )

    @extend_schema(responses=PauseSerializer)
    def get(self, request: Request) -> Response:
        return self._answer(_caller(request))

    @extend_schema(request=PauseSerializer, responses=PauseSerializer)
    def post(self, request: Request) -> Response:
        data = PauseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sharing.sharing_pause(
            actor=_caller(request),
            reason=data.validated_data.get("reason", ""),
            request=request._request,
        )
        return self._answer(_caller(request))

    @extend_schema(request=None, responses={200: PauseSerializer})
    def delete(self, request: Request) -> Response:
        sharing.sharing_resume(actor=_caller(request), request=request._request)
        return self._answer(_caller(request))

"""REST API for the content library, the employees' feed, suggestions, topics and the
compliance check. Reads go through content.selectors (scoped to the caller's
organisation), writes through content.services; domain errors become problem JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from content import chains, compliance, feed_cache, selectors, services
from content.models import (
    Caption,
    Content,
    ContentKind,
    ContentStatus,
    ContentVersion,
    FeedMode,
    FeedSubscription,
    Lifecycle,
    Network,
    Suggestion,
    SuggestionStatus,
    Topic,
)
from content.paging import CountInPagePaginator
from organizations.api import HasOrganization, TeamRefSerializer, api_caller, url_pk
from organizations.media import media_signed_url
from organizations.models import Language, Organization, Team, User

_caller = api_caller
_pk = url_pk


def _organization(user: User) -> Organization:
    organization = user.organization
    assert organization is not None  # HasOrganization
    return organization


# --- Permissions --------------------------------------------------------------------------


class IsCommsTeam(permissions.BasePermission):
    """Editors, reviewers and organisation admins: the people who curate the library."""

    message = _("Only the communications team can do this.")

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return bool(user.is_authenticated and user.role in selectors.LIBRARY_ROLES)


class CanEditContent(permissions.BasePermission):
    message = _("Only editors can change the library.")

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.is_authenticated and request.user.can_edit_content)


class CanReview(permissions.BasePermission):
    message = _("Only reviewers can review content.")

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.is_authenticated and request.user.can_review)


# --- Shared output pieces -----------------------------------------------------------------


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class LinkPreviewSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="'', pending, ready, refused or failed")
    title = serializers.CharField()
    description = serializers.CharField()
    image_url = serializers.CharField()
    site_name = serializers.CharField()
    error = serializers.CharField()


def _absolute(request: Request | None, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


class _ContentOutputMixin(serializers.Serializer):
    """Fields shared by the library and the feed representations of a content item."""

    preview = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    renditions = serializers.SerializerMethodField()
    topics = TopicSerializer(many=True, read_only=True)
    hashtags = serializers.ListField(child=serializers.CharField(), read_only=True)
    lifecycle = serializers.ChoiceField(choices=Lifecycle.choices, read_only=True)

    @extend_schema_field(LinkPreviewSerializer)
    def get_preview(self, content: Content) -> dict[str, str]:
        return {
            "status": content.preview_status,
            "title": content.preview_title,
            "description": content.preview_description,
            "image_url": content.preview_image_url,
            "site_name": content.preview_site_name,
            "error": content.preview_error,
        }

    @extend_schema_field(serializers.URLField(allow_null=True, help_text="Null without an image."))
    def get_image_url(self, content: Content) -> str | None:
        if not content.image:
            return None
        return _absolute(self.context.get("request"), _file_url(content, content.image.name))

    @extend_schema_field(serializers.DictField(child=serializers.URLField()))
    def get_renditions(self, content: Content) -> dict[str, str]:
        request = self.context.get("request")
        return {
            r.name: _absolute(request, _file_url(content, r.file.name))
            for r in content.renditions.all()
        }


def _file_url(content: Content, name: str) -> str:
    """A published post's files are signed, so that apps and link previews fetch them
    without a session; the others need the caller's session and role."""
    if content.lifecycle == Lifecycle.PUBLISHED:
        return media_signed_url(name)
    return default_storage.url(name)


# --- Library ------------------------------------------------------------------------------


class ContentCaptionSerializer(serializers.ModelSerializer):
    length = serializers.SerializerMethodField(help_text="Length as the network counts it.")

    class Meta:
        model = Caption
        fields = ["id", "network", "text", "length"]
        read_only_fields = fields

    def get_length(self, caption: Caption) -> int:
        return compliance.weighted_length(text=caption.text, network=caption.network)


class ContentSerializer(_ContentOutputMixin, serializers.ModelSerializer):
    # Plain strings here: the kind's choices are documented once, on the input.
    kind = serializers.CharField(read_only=True, help_text="link, image or text")
    audience_teams = TeamRefSerializer(many=True, read_only=True)
    captions = ContentCaptionSerializer(many=True, read_only=True)
    author = serializers.SerializerMethodField()

    class Meta:
        model = Content
        fields = [
            "id",
            "kind",
            "title",
            "why_it_matters",
            "link_url",
            "preview",
            "image_url",
            "renditions",
            "hashtags",
            "topics",
            "language",
            "audience_teams",
            "publish_at",
            "expires_at",
            "pinned",
            "evergreen",
            "caption_locked",
            "status",
            "lifecycle",
            "version",
            "withdrawn_reason",
            "author",
            "captions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_author(self, content: Content) -> str | None:
        return content.author.email if content.author else None


# --- The chain state of one content item (for the content API's detail) -----------------


class StepDecisionSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = serializers.CharField()
    at = serializers.DateTimeField()


class StepStateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="step_id")
    position = serializers.IntegerField()
    name = serializers.CharField()
    required_approvals = serializers.IntegerField()
    deadline_hours = serializers.IntegerField(allow_null=True)
    reviewers = serializers.ListField(child=serializers.CharField())
    reviewer_group = serializers.CharField(source="group")
    open = serializers.BooleanField(source="is_open")
    state = serializers.ChoiceField(choices=["done", "current", "waiting"])
    approvals = serializers.IntegerField(help_text="Given at this step on the current version.")
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    decisions = StepDecisionSerializer(many=True)


class ChainStateSerializer(serializers.Serializer):
    chain_id = serializers.IntegerField(allow_null=True)
    chain_name = serializers.CharField()
    current_position = serializers.IntegerField(
        allow_null=True, help_text="The step the content is at; null when not in review."
    )
    can_act = serializers.BooleanField(help_text="The caller may approve or reject now.")
    steps = StepStateSerializer(many=True)


class ContentDetailSerializer(ContentSerializer):
    """One content item, with where it stands in its approval chain."""

    approval = serializers.SerializerMethodField()

    class Meta(ContentSerializer.Meta):
        fields = [*ContentSerializer.Meta.fields, "approval"]
        read_only_fields = fields

    @extend_schema_field(ChainStateSerializer)
    def get_approval(self, content: Content) -> dict[str, Any] | None:
        request = self.context.get("request")
        user = request.user if request is not None else None
        if user is None or user.role not in selectors.LIBRARY_ROLES:
            return None  # employees see published content, not its review
        state = chains.chain_state(content, user)
        return dict(ChainStateSerializer(state).data)


class CaptionsInputSerializer(serializers.Serializer):
    """Captions per network; several per network are offered to colleagues in rotation."""

    linkedin = serializers.ListField(child=serializers.CharField(), required=False)
    x = serializers.ListField(child=serializers.CharField(), required=False)
    facebook = serializers.ListField(child=serializers.CharField(), required=False)

    def to_internal_value(self, data: Any) -> dict[str, list[str]]:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown network.")] for key in unknown})
        return super().to_internal_value(data)


class ContentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContentKind.choices)
    title = serializers.CharField(max_length=200)
    why_it_matters = serializers.CharField(required=False, allow_blank=True)
    link_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    topics = serializers.PrimaryKeyRelatedField(
        queryset=Topic.objects.none(), many=True, required=False
    )
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    audience_teams = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.none(),
        many=True,
        required=False,
        help_text="Empty means the whole organisation; a team includes its sub-teams.",
    )
    publish_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    pinned = serializers.BooleanField(required=False)
    evergreen = serializers.BooleanField(required=False)
    caption_locked = serializers.BooleanField(required=False)
    captions = CaptionsInputSerializer(
        required=False,
        help_text="Replaces every caption when given: a network left out has none.",
    )
    image = serializers.FileField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="JPEG, PNG, WebP or GIF (multipart requests only); omit to keep the image.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            org_id = request.user.organization_id
            # Another organisation's topics and teams do not exist: 400 naming the field.
            topics: Any = self.fields["topics"]
            topics.child_relation.queryset = Topic.objects.filter(organization_id=org_id)
            teams: Any = self.fields["audience_teams"]
            teams.child_relation.queryset = Team.objects.filter(organization_id=org_id)

    def content_input(
        self, current: Content | None = None, *, partial: bool = False
    ) -> services.ContentInput:
        """The service input. A partial update keeps `current`'s value for every omitted
        field; a create or a full update gives omitted fields their defaults (except that
        an update keeps the language and publication date, and the image is kept)."""
        data = dict(self.validated_data)
        values: dict[str, Any] = {}
        if current is not None and partial:
            captions: dict[str, list[str]] = {}
            for caption in current.captions.all():
                captions.setdefault(caption.network, []).append(caption.text)
            values = {
                "kind": current.kind,
                "title": current.title,
                "why_it_matters": current.why_it_matters,
                "link_url": current.link_url,
                "hashtags": list(current.hashtags),
                "topics": list(current.topics.all()),
                "language": current.language,
                "audience_teams": list(current.audience_teams.all()),
                "publish_at": current.publish_at,
                "expires_at": current.expires_at,
                "pinned": current.pinned,
                "evergreen": current.evergreen,
                "caption_locked": current.caption_locked,
                "captions": captions,
            }
        elif current is None:
            request = self.context["request"]
            values["language"] = request.user.organization.default_language
        else:
            values["language"] = current.language
        values.update(data)
        if values.get("publish_at") is None:
            # What the service would pick anyway, given explicitly so that its expiry check
            # compares against it (without it an early expiry reaches the database check).
            values["publish_at"] = current.publish_at if current is not None else timezone.now()
        values["captions"] = {
            network: texts for network, texts in values.get("captions", {}).items() if texts
        }
        return services.ContentInput(**values)


class ContentFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[*Lifecycle.choices, (ContentStatus.APPROVED.value, ContentStatus.APPROVED.label)],
        required=False,
        allow_blank=True,
    )
    topic = serializers.SlugField(required=False, allow_blank=True, help_text="A topic's slug.")
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)
    author = serializers.IntegerField(required=False, min_value=1, help_text="A user id.")
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ApproveInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True)


class RejectInput(serializers.Serializer):
    comment = serializers.CharField(help_text="What must change.")


class WithdrawInput(serializers.Serializer):
    reason = serializers.CharField()


class DiffPieceSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "insert", "delete"])
    text = serializers.CharField()


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    diff = DiffPieceSerializer(many=True)


class ContentVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    author = serializers.EmailField(allow_null=True)
    created_at = serializers.DateTimeField()
    changes = FieldChangeSerializer(many=True)


class ContentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The library. Listing and writing are for the communications team; employees read
    approved content through the feed (retrieving one item works for what the feed shows).
    There is no delete: withdraw instead."""

    queryset = Content.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = ContentSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_permissions(self):
        if self.action in ("list", "versions", "withdraw"):
            return [HasOrganization(), IsCommsTeam()]
        if self.action in ("create", "update", "partial_update", "submit"):
            return [HasOrganization(), CanEditContent()]
        if self.action in ("approve", "reject"):
            return [HasOrganization(), CanReview()]
        return super().get_permissions()

    def get_queryset(self):
        filters = ContentFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.library_list(_caller(self.request), **filters.validated_data)

    def get_object(self) -> Content:
        return selectors.content_for_user(_caller(self.request), _pk(self.kwargs))

    def get_serializer_class(self):
        if self.action == "list":
            return ContentSerializer
        return ContentDetailSerializer

    def _output(self, content: Content, status_code: int = status.HTTP_200_OK) -> Response:
        # Read back through the selector: the same prefetches and scoping as every read.
        content = selectors.content_for_user(_caller(self.request), content.pk)
        return Response(self.get_serializer(content).data, status=status_code)

    @extend_schema(parameters=[ContentFilters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ContentInputSerializer, responses={201: ContentSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = ContentInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        content = services.content_create(
            actor=_caller(request), data=data.content_input(), request=request._request
        )
        return self._output(content, status.HTTP_201_CREATED)

    @extend_schema(request=ContentInputSerializer, responses=ContentSerializer)
    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        partial = bool(kwargs.pop("partial", False))
        content = selectors.content_for_user(_caller(request), _pk(self.kwargs), write=True)
        data = ContentInputSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        content = services.content_update(
            actor=_caller(request),
            content=content,
            data=data.content_input(content, partial=partial),
            request=request._request,
        )
        return self._output(content)

    @extend_schema(request=ContentInputSerializer, responses=ContentSerializer)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses=ContentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        content = services.content_submit(
            actor=_caller(request), content=self.get_object(), request=request._request
        )
        return self._output(content)

    @extend_schema(request=ApproveInput, responses=ContentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        content = self.get_object()
        data = ApproveInput(data=request.data)
        data.is_valid(raise_exception=True)
        content = services.content_approve(
            actor=_caller(request),
            content=content,
            comment=data.validated_data.get("comment", ""),
            request=request._request,
        )
        return self._output(content)

    @extend_schema(request=RejectInput, responses=ContentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        content = self.get_object()
        data = RejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        content = services.content_reject(
            actor=_caller(request),
            content=content,
            comment=data.validated_data["comment"],
            request=request._request,
        )
        return self._output(content)

    @extend_schema(request=WithdrawInput, responses=ContentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        content = self.get_object()
        data = WithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        content = services.content_withdraw(
            actor=_caller(request),
            content=content,
            reason=data.validated_data["reason"],
            request=request._request,
        )
        return self._output(content)

    @extend_schema(responses=ContentVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every version, newest first, with what changed from the one before."""
        content = self.get_object()
        versions = ContentVersion.objects.filter(content=content).select_related("author")
        payload = [
            {
                "number": version.number,
                "author": version.author.email if version.author else None,
                "created_at": version.created_at,
                "changes": [
                    {
                        "field": change.field,
                        "before": change.before,
                        "after": change.after,
                        "diff": [{"op": op, "text": text} for op, text in change.diff],
                    }
                    for change in selectors.version_diff(content, version.number)
                ],
            }
            for version in versions.order_by("-number")
        ]
        return Response(ContentVersionSerializer(payload, many=True).data)


# --- Feed -----------------------------------------------------------------------------------


class FeedCaptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    network = serializers.ChoiceField(choices=Network.choices)
    text = serializers.CharField()
    length = serializers.IntegerField(help_text="Length of `text` as the network counts it.")
    caption_with_disclosure = serializers.CharField(
        help_text="The caption with the organisation's mandatory disclosure appended."
    )
    length_with_disclosure = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The organisation's length limit on the network.")


class FeedItemSerializer(_ContentOutputMixin, serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="link, image or text")
    captions = serializers.SerializerMethodField(
        help_text="The caption offered to you on each network that has one."
    )

    class Meta:
        model = Content
        fields = [
            "id",
            "kind",
            "title",
            "why_it_matters",
            "link_url",
            "preview",
            "image_url",
            "renditions",
            "hashtags",
            "topics",
            "language",
            "publish_at",
            "expires_at",
            "pinned",
            "evergreen",
            "caption_locked",
            "lifecycle",
            "captions",
        ]
        read_only_fields = fields

    def _rules(self) -> compliance.ComplianceRules:
        # Once per response: the context dict is shared by every item of a list.
        context = cast(dict[str, Any], self.context)
        if "compliance_rules" not in context:
            user = _caller(context["request"])
            context["compliance_rules"] = services.compliance_rules_cached(
                organization_id=user.organization_id
            )
        return context["compliance_rules"]

    @extend_schema_field(FeedCaptionSerializer(many=True))
    def get_captions(self, content: Content) -> list[dict[str, Any]]:
        user = _caller(self.context["request"])
        rules = self._rules()
        offered = []
        for network in Network.values:
            caption = selectors.caption_for(content, network, user)
            if caption is None:
                continue
            preview = compliance.caption_preview(
                text=caption.text, network=network, rules=rules, link_url=content.link_url
            )
            offered.append(
                {
                    "id": caption.pk,
                    "network": network,
                    "text": caption.text,
                    "length": compliance.weighted_length(text=caption.text, network=network),
                    "caption_with_disclosure": preview.text,
                    # What the verdict counts: with the disclosure and, on X, the link.
                    "length_with_disclosure": preview.length,
                    "limit": preview.limit,
                }
            )
        return offered


class FeedFilters(serializers.Serializer):
    topic = serializers.SlugField(required=False, allow_blank=True, help_text="A topic's slug.")
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    new_only = serializers.BooleanField(
        required=False, help_text="Only what was published since your previous visit."
    )


# Without any of them, the filters' defaults apply and nothing needs validating.
_FEED_FILTERS = frozenset(FeedFilters().fields)


class FeedPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    page_size_query_description = _("Number of items per page: 20 unless given, at most 50.")
    max_page_size = 50
    django_paginator_class = CountInPagePaginator

    def page_restore(
        self, request: Request, rows: list[Any], *, number: int, size: int, total: int
    ) -> None:
        """As paginate_queryset left it, for a page read from the cache."""
        self.request = request
        paginator = self.django_paginator_class([], size)
        paginator.__dict__["count"] = total  # Paginator.count is a cached property
        self.page = paginator._get_page(rows, number, paginator)


class FeedViewSet(viewsets.ReadOnlyModelViewSet):
    """Approved, published, unexpired content aimed at the caller (pinned first, then in
    the caller's language, newest first), with the caption offered to the caller."""

    queryset = Content.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = FeedItemSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []
    pagination_class = FeedPagination

    def get_queryset(self):
        if self.action != "list":
            return selectors.feed_queryset(_caller(self.request))
        filters = FeedFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.feed_rows(_caller(self.request), **filters.validated_data)

    @extend_schema(parameters=[FeedFilters], responses=FeedItemSerializer(many=True))
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        # The hottest read of the API: a page of plain rows and its related rows, shaped
        # here (feed_items_shape) rather than by FeedItemSerializer field by field, which
        # cost two thirds of the request. The serializer stays the schema and the single
        # item's representation; a test holds the two to the same output. The shaped page
        # is kept per organisation and audience (content/feed_cache.py) unless the caller
        # searches or asks for what is new; only the caption offered is the caller's own.
        user = _caller(request)
        options: dict[str, Any] = {}
        if _FEED_FILTERS.intersection(request.query_params):
            filters = FeedFilters(data=request.query_params)
            filters.is_valid(raise_exception=True)
            options = filters.validated_data
        paginator = self.paginator
        assert isinstance(paginator, FeedPagination)
        number = request.query_params.get(paginator.page_query_param, "1")
        key = None
        if not options.get("q") and not options.get("new_only") and number.isdigit():
            size = paginator.get_page_size(request) or paginator.page_size
            key, kept, _version = feed_cache.feed_page_lookup(
                user,
                topic=options.get("topic", ""),
                number=int(number),
                size=size,
                base=request.build_absolute_uri("/"),
            )
            if kept is not None:
                shaped, total = kept
                paginator.page_restore(request, shaped, number=int(number), size=size, total=total)
                return self.get_paginated_response(feed_items_for(shaped, user=user))
        rows = self.paginate_queryset(selectors.feed_rows(user, **options))
        assert rows is not None  # the feed is always paginated
        shaped = feed_items_shape(
            rows,
            selectors.feed_rows_related(rows),
            rules=services.compliance_rules_cached(organization_id=user.organization_id),
            request=request,
        )
        if key is not None:
            feed_cache.feed_page_set(
                key, (shaped, paginator.page.paginator.count), organization_id=user.organization_id
            )
        return self.get_paginated_response(feed_items_for(shaped, user=user))


_DATETIME = serializers.DateTimeField()


def feed_items_for(shaped: list[dict[str, Any]], *, user: User) -> list[dict[str, Any]]:
    """Shaped feed items as FeedItemSerializer shows them to this person (same keys, order
    and values): of each network's captions, the one caption_for offers them."""
    items = []
    for item in shaped:
        pk = item["id"]
        items.append(
            {
                **item,
                "captions": [
                    offered[(user.pk + pk) % len(offered)] for offered in item["captions"]
                ],
            }
        )
    return items


def feed_items_shape(
    rows: list[dict[str, Any]],
    related: selectors.FeedRowsRelated,
    *,
    rules: compliance.ComplianceRules,
    request: Request | None,
) -> list[dict[str, Any]]:
    """Feed rows as FeedItemSerializer shows them, with every caption of each network
    (feed_items_for picks the person's): the same for everyone of an audience."""
    now = timezone.now()
    items = []
    for row in rows:
        pk = row["id"]
        expires_at = row["expires_at"]
        if row["status"] != ContentStatus.APPROVED:
            lifecycle = row["status"]
        elif expires_at is not None and expires_at <= now:
            lifecycle = Lifecycle.EXPIRED
        elif row["publish_at"] > now:
            lifecycle = Lifecycle.SCHEDULED
        else:
            lifecycle = Lifecycle.PUBLISHED
        public = lifecycle == Lifecycle.PUBLISHED

        def file_url(name: str, public: bool = public) -> str:
            url = media_signed_url(name) if public else default_storage.url(name)
            return _absolute(request, url)

        captions = []
        options = related.captions.get(pk, ())
        for network in Network.values:
            offered = [caption for caption in options if caption[1] == network]
            if offered:
                captions.append(
                    [
                        _feed_caption(caption_id, network, text, rules, row["link_url"])
                        for caption_id, _network, text in offered
                    ]
                )
        items.append(
            {
                "id": pk,
                "kind": row["kind"],
                "title": row["title"],
                "why_it_matters": row["why_it_matters"],
                "link_url": row["link_url"],
                "preview": {
                    "status": row["preview_status"],
                    "title": row["preview_title"],
                    "description": row["preview_description"],
                    "image_url": row["preview_image_url"],
                    "site_name": row["preview_site_name"],
                    "error": row["preview_error"],
                },
                "image_url": file_url(row["image"]) if row["image"] else None,
                "renditions": {name: file_url(file) for name, file in related.renditions[pk]},
                "hashtags": [str(tag) for tag in row["hashtags"]],
                "topics": related.topics[pk],
                "language": row["language"],
                "publish_at": _DATETIME.to_representation(row["publish_at"]),
                "expires_at": _DATETIME.to_representation(expires_at) if expires_at else None,
                "pinned": row["pinned"],
                "evergreen": row["evergreen"],
                "caption_locked": row["caption_locked"],
                "lifecycle": lifecycle,
                "captions": captions,
            }
        )
    return items


def _feed_caption(
    caption_id: int, network: str, text: str, rules: compliance.ComplianceRules, link_url: str
) -> dict[str, Any]:
    preview = compliance.caption_preview(text=text, network=network, rules=rules, link_url=link_url)
    return {
        "id": caption_id,
        "network": network,
        "text": text,
        "length": compliance.weighted_length(text=text, network=network),
        "caption_with_disclosure": preview.text,
        "length_with_disclosure": preview.length,
        "limit": preview.limit,
    }


# --- Suggestions ----------------------------------------------------------------------------


class SuggestionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "url",
            "text",
            "comment",
            "status",
            "author",
            "decided_by",
            "decided_at",
            "decision_note",
            "content",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_author(self, suggestion: Suggestion) -> str:
        return suggestion.author.email

    @extend_schema_field(serializers.EmailField(allow_null=True, help_text="Null until decided."))
    def get_decided_by(self, suggestion: Suggestion) -> str | None:
        return suggestion.decided_by.email if suggestion.decided_by else None


class SuggestionInput(serializers.Serializer):
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    text = serializers.CharField(required=False, allow_blank=True)
    comment = serializers.CharField(
        required=False, allow_blank=True, help_text="Why should colleagues share it?"
    )


class SuggestionFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SuggestionStatus.choices, required=False, allow_blank=True
    )
    mine = serializers.BooleanField(required=False, help_text="Editors: only your own suggestions.")


class SuggestionDecisionInput(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="Sent to the employee who suggested it."
    )


class SuggestionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Content proposed by employees. Employees see their own; editors see everyone's and
    accept (a draft is created, credited to the employee) or decline."""

    queryset = Suggestion.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = SuggestionSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_permissions(self):
        if self.action in ("accept", "decline"):
            return [HasOrganization(), CanEditContent()]
        return super().get_permissions()

    def get_queryset(self):
        filters = SuggestionFilters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.suggestions_for(_caller(self.request), **filters.validated_data)

    def get_object(self) -> Suggestion:
        return selectors.suggestion_for_user(_caller(self.request), _pk(self.kwargs))

    @extend_schema(parameters=[SuggestionFilters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SuggestionInput, responses={201: SuggestionSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = SuggestionInput(data=request.data)
        data.is_valid(raise_exception=True)
        suggestion = services.suggestion_create(
            actor=_caller(request), **data.validated_data, request=request._request
        )
        return Response(
            self.get_serializer(
                selectors.suggestion_for_user(_caller(request), suggestion.pk)
            ).data,
            status=status.HTTP_201_CREATED,
        )

    def _decide(self, request: Request, *, accept: bool) -> Response:
        suggestion = self.get_object()
        data = SuggestionDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.suggestion_decide(
            actor=_caller(request),
            suggestion=suggestion,
            accept=accept,
            note=data.validated_data.get("note", ""),
            request=request._request,
        )
        return Response(
            self.get_serializer(selectors.suggestion_for_user(_caller(request), suggestion.pk)).data
        )

    @extend_schema(request=SuggestionDecisionInput, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept: a draft is created from the suggestion (its id is in `content`)."""
        return self._decide(request, accept=True)

    @extend_schema(request=SuggestionDecisionInput, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accept=False)


# --- Topics ---------------------------------------------------------------------------------


class TopicInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)


class TopicViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The organisation's topics; editors add one by name (an existing topic with the same
    slug is returned instead of a duplicate)."""

    queryset = Topic.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = TopicSerializer
    permission_classes = [HasOrganization]
    filter_backends: list = []

    def get_permissions(self):
        if self.action == "create":
            return [HasOrganization(), CanEditContent()]
        return super().get_permissions()

    def get_queryset(self):
        return selectors.topics_of(_caller(self.request))

    @extend_schema(request=TopicInput, responses={201: TopicSerializer})
    def create(self, request: Request) -> Response:
        data = TopicInput(data=request.data)
        data.is_valid(raise_exception=True)
        topic = services.topic_get_or_create(
            organization=_organization(_caller(request)), name=data.validated_data["name"]
        )
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)


# --- Compliance check -----------------------------------------------------------------------


class ComplianceCheckInput(serializers.Serializer):
    network = serializers.ChoiceField(choices=Network.choices)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    link_url = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ViolationSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    start = serializers.IntegerField(help_text="Offset of the problem in `text`.")
    end = serializers.IntegerField()
    term = serializers.CharField(
        allow_blank=True, help_text="The blocked term as configured, or the domain."
    )


class ComplianceCheckOutput(serializers.Serializer):
    length = serializers.IntegerField(
        help_text="Length of what is shared as the network counts it: `text` with the "
        "disclosure and, on X, the content's link (23) when `text` does not show it; "
        "the same length the too_long verdict gives."
    )
    limit = serializers.IntegerField(help_text="The organisation's limit on the network.")
    text_with_disclosure = serializers.CharField()
    violations = ViolationSerializer(many=True)


class ComplianceCheckView(APIView):
    """Check a caption against the organisation's rules while it is being written: length,
    blocked terms (with their positions) and link domains."""

    permission_classes = [HasOrganization]

    @extend_schema(request=ComplianceCheckInput, responses=ComplianceCheckOutput)
    def post(self, request: Request) -> Response:
        data = ComplianceCheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        network = data.validated_data["network"]
        text = data.validated_data["text"]
        organization = _organization(_caller(request))
        violations = services.caption_violations(
            organization=organization,
            network=network,
            text=text,
            link_url=data.validated_data.get("link_url", ""),
        )
        rules = services.compliance_rules_for(organization)
        preview = compliance.caption_preview(
            text=text,
            network=network,
            rules=rules,
            link_url=data.validated_data.get("link_url", ""),
        )
        payload = {
            # The length the verdict counts (disclosure and, on X, the link included).
            "length": preview.length,
            "limit": preview.limit,
            "text_with_disclosure": compliance.caption_with_disclosure(
                text=text, disclosure=rules.disclosure
            ),
            "violations": [
                {
                    "code": v.code,
                    "message": str(v.message),
                    "start": v.start,
                    "end": v.end,
                    "term": v.term,
                }
                for v in violations
            ],
        }
        return Response(ComplianceCheckOutput(payload).data)


# --- RSS and Atom feeds ---------------------------------------------------------------------


class FeedSubscriptionSerializer(serializers.ModelSerializer):
    topics = TopicSerializer(many=True, read_only=True)
    # "new_items", not "mode": the API has other "mode" enums (shares, challenges).
    new_items = serializers.ChoiceField(
        source="mode",
        choices=FeedMode.choices,
        read_only=True,
        help_text="What new items become: drafts, or submitted for review.",
    )
    language = serializers.ChoiceField(
        choices=Language.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty: guessed from each item, else the organisation's language.",
    )
    state = serializers.SerializerMethodField(
        help_text="active; paused (by an editor); failing (paused after repeated failures)."
    )
    items_created = serializers.IntegerField(
        read_only=True, help_text="Contents this feed has created."
    )
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = FeedSubscription
        fields = [
            "id",
            "url",
            "title",
            "new_items",
            "topics",
            "language",
            "active",
            "state",
            "consecutive_failures",
            "last_error",
            "last_fetched_at",
            "last_success_at",
            "next_fetch_at",
            "items_created",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["active", "paused", "failing"]))
    def get_state(self, subscription: FeedSubscription) -> str:
        from content.feeds import feed_state

        return feed_state(subscription)

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_created_by(self, subscription: FeedSubscription) -> str | None:
        return subscription.created_by.email if subscription.created_by else None


class FeedSubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=1000)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    new_items = serializers.ChoiceField(
        choices=FeedMode.choices,
        required=False,
        help_text="What new items become: drafts (the default), or submitted for review.",
    )
    topics = serializers.PrimaryKeyRelatedField(
        queryset=Topic.objects.none(), many=True, required=False
    )
    language = serializers.ChoiceField(
        choices=Language.choices,
        required=False,
        allow_blank=True,
        help_text="Empty: guessed from each item, else the organisation's language.",
    )
    active = serializers.BooleanField(
        required=False,
        help_text="false pauses the feed; true resumes it (a failing feed is tried again).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            topics: Any = self.fields["topics"]
            topics.child_relation.queryset = Topic.objects.filter(
                organization_id=request.user.organization_id
            )

    def feed_input(self, current: FeedSubscription | None = None) -> Any:
        from content.feeds import FeedInput

        data = self.validated_data
        return FeedInput(
            url=data.get("url", current.url if current else ""),
            title=data.get("title", current.title if current else ""),
            mode=data.get("new_items", current.mode if current else FeedMode.DRAFT),
            topics=list(data["topics"])
            if "topics" in data
            else (list(current.topics.all()) if current else []),
            language=data.get("language", current.language if current else ""),
        )


class FeedSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The organisation's RSS and Atom subscriptions (editors). New items become drafts or
    are submitted for review, never published without approval. `fetch` fetches now (a
    failing feed is tried again)."""

    queryset = FeedSubscription.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = FeedSubscriptionSerializer
    permission_classes = [HasOrganization, CanEditContent]
    filter_backends: list = []

    def get_queryset(self):
        from content.feeds import feed_subscriptions_of

        return feed_subscriptions_of(_caller(self.request))

    def get_object(self) -> FeedSubscription:
        from content.feeds import feed_subscription_for_user

        return feed_subscription_for_user(_caller(self.request), _pk(self.kwargs))

    def _output(self, subscription: FeedSubscription, code: int = status.HTTP_200_OK) -> Response:
        from content.feeds import feed_subscription_for_user

        subscription = feed_subscription_for_user(_caller(self.request), subscription.pk)
        return Response(self.get_serializer(subscription).data, status=code)

    @extend_schema(request=FeedSubscriptionInput, responses={201: FeedSubscriptionSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        from content import feeds

        data = FeedSubscriptionInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        actor = _caller(request)
        subscription = feeds.feed_subscription_create(
            actor=actor, data=data.feed_input(), request=request._request
        )
        if data.validated_data.get("active") is False:
            feeds.feed_subscription_pause(
                actor=actor, subscription=subscription, request=request._request
            )
        return self._output(subscription, status.HTTP_201_CREATED)

    @extend_schema(request=FeedSubscriptionInput, responses=FeedSubscriptionSerializer)
    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        from content import feeds

        partial = bool(kwargs.pop("partial", False))
        subscription = self.get_object()
        data = FeedSubscriptionInput(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        actor = _caller(request)
        subscription = feeds.feed_subscription_update(
            actor=actor,
            subscription=subscription,
            data=data.feed_input(subscription),
            request=request._request,
        )
        active = data.validated_data.get("active")
        if active is False and subscription.active:
            feeds.feed_subscription_pause(
                actor=actor, subscription=subscription, request=request._request
            )
        elif active is True and not subscription.active:
            feeds.feed_subscription_resume(
                actor=actor, subscription=subscription, request=request._request
            )
        return self._output(subscription)

    @extend_schema(request=FeedSubscriptionInput, responses=FeedSubscriptionSerializer)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        from content.feeds import feed_subscription_delete

        feed_subscription_delete(
            actor=_caller(request), subscription=self.get_object(), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=FeedSubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def fetch(self, request: Request, pk: str | None = None) -> Response:
        """Fetch now; a paused or failing feed is resumed and tried again."""
        from content.feeds import feed_subscription_resume

        subscription = feed_subscription_resume(
            actor=_caller(request), subscription=self.get_object(), request=request._request
        )
        return self._output(subscription)

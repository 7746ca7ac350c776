"""REST API for authentication, the caller, teams, people, invitations and the audit log."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import django_filters
from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from organizations import selectors, services
from organizations.errors import DomainError
from organizations.models import AuditLogEntry, Invitation, Role, Team, User


class IsOrgAdmin(permissions.BasePermission):
    message = _("Only organisation administrators can do this.")

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.is_authenticated and request.user.is_org_admin)


def api_caller(request: Request) -> User:
    """The signed-in caller (the permission classes have refused anonymous requests)."""
    return cast(User, request.user)


def url_pk(kwargs: Mapping[str, Any]) -> int:
    """The URL's id; anything but digits names nothing (404, not a server error)."""
    value = str(kwargs.get("pk", ""))
    if not value.isdecimal():
        raise Http404
    return int(value)


class HasOrganization(permissions.BasePermission):
    message = _("Your account does not belong to an organisation.")

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.is_authenticated and request.user.organization_id)


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class MeSerializer(serializers.ModelSerializer):
    organization = serializers.SerializerMethodField()
    teams = TeamRefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "language",
            "time_zone",
            "job_title",
            "organization",
            "teams",
        ]

    @extend_schema(
        responses=inline_serializer(
            "OrganizationRef",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "slug": serializers.CharField(),
                "default_language": serializers.CharField(),
                "time_zone": serializers.CharField(),
                "brand_colour": serializers.CharField(),
            },
        )
    )
    def get_organization(self, user: User) -> dict | None:
        org = user.organization
        if org is None:
            return None
        return {
            "id": org.pk,
            "name": org.name,
            "slug": org.slug,
            "default_language": org.default_language,
            "time_zone": org.time_zone,
            "brand_colour": org.brand_colour,
        }


# Checks run before a password buys an API token, registered by higher apps in their
# AppConfig.ready() (this app cannot import them). Each receives the authenticated person,
# the request and the validated input, and raises a DomainError to refuse.
TokenIssueCheck = Callable[[User, Request, Mapping[str, Any]], None]
token_issue_checks: list[TokenIssueCheck] = []


class TokenView(APIView):
    """Exchange an email and password for a new API token, valid until `expiry`.

    Only a digest of the token is stored: it is shown once, in this answer. Each call
    issues another token; list them at auth/tokens/."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class Input(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
        code = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=64,
            help_text=(
                "For a person with two-factor sign-in: a current code of their authenticator "
                "app, or one of their unused recovery codes (each works once)."
            ),
        )

    @extend_schema(
        request=Input,
        responses=inline_serializer(
            "TokenOutput",
            {
                "token": serializers.CharField(),
                "expiry": serializers.DateTimeField(),
                "prefix": serializers.CharField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        # authenticate() runs through django-axes, so the API shares the login lockout.
        user = authenticate(
            request._request,
            email=data.validated_data["email"].lower(),
            username=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise DomainError(str(_("Email or password is incorrect.")), field="password")
        for check in token_issue_checks:
            check(user, request, data.validated_data)
        instance, token = services.api_token_issue(user=user, request=request._request)
        return Response(
            {
                "token": token,
                "expiry": serializers.DateTimeField().to_representation(instance.expiry),
                "prefix": instance.token_key,
            }
        )


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="token_key", read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["prefix", "created", "expiry", "current"]

    def get_current(self, token: AuthToken) -> bool:
        request = self.context.get("request")
        return bool(request is not None and getattr(request.auth, "pk", None) == token.pk)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: when each was issued, when it expires, its first
    characters (never the token). DELETE auth/tokens/<prefix>/ revokes one."""

    lookup_field = "token_key"
    lookup_url_kwarg = "prefix"
    # A prefix is hexadecimal: anything else is a 404 at routing, never a 500 in a view.
    lookup_value_regex = "[0-9a-f]+"
    queryset = AuthToken.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return selectors.api_tokens_of_user(api_caller(self.request))

    def perform_destroy(self, instance: AuthToken) -> None:
        services.api_token_revoke(
            actor=api_caller(self.request), token=instance, request=self.request._request
        )


class LogoutAllView(APIView):
    """Revoke every API token of the caller (the one in use included)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.api_tokens_revoke_all(
            user=api_caller(request),
            actor=api_caller(request),
            reason="signed_out_everywhere",
            request=request._request,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        # The caller as applied for this request: the active organisation and role.
        user = api_caller(request)
        teams = Team.objects.filter(organization_id=user.organization_id)
        user = (
            User.objects.select_related("organization")
            .prefetch_related(Prefetch("teams", queryset=teams))
            .get(pk=user.pk)
        )
        active = api_caller(request)
        user.organization, user.role = active.organization, active.role
        return Response(MeSerializer(user).data)


X_ORGANIZATION = OpenApiParameter(
    name="X-Organization",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "For a person in several organisations: the id or slug of the organisation this "
        "call works in (every endpoint accepts it). Without it: the organisation chosen in "
        "the web app's switcher for a session, the home organisation for a token. An "
        "organisation the caller is not a member of is refused with 403."
    ),
)


class MyOrganizationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="organization.pk")
    name = serializers.CharField(source="organization.name")
    slug = serializers.CharField(source="organization.slug")
    role = serializers.ChoiceField(choices=Role.choices)
    home = serializers.BooleanField(source="is_home", help_text="The person's home organisation.")
    active = serializers.BooleanField(help_text="The organisation this request works in.")


class MyOrganizationsView(APIView):
    """The caller's organisations and their role in each, the home one first. Choose the
    one a call works in with the `X-Organization` header (id or slug)."""

    @extend_schema(parameters=[X_ORGANIZATION], responses=MyOrganizationSerializer(many=True))
    def get(self, request: Request) -> Response:
        from organizations.memberships import organizations_of

        user = api_caller(request)
        rows = [
            {
                "organization": choice.organization,
                "role": choice.role,
                "is_home": choice.is_home,
                "active": choice.organization.pk == user.organization_id,
            }
            for choice in organizations_of(user)
        ]
        return Response(MyOrganizationSerializer(rows, many=True).data)


class TeamSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.none(), allow_null=True, required=False
    )
    managers = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), many=True, required=False
    )

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "parent", "managers"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            org_id = request.user.organization_id
            self.fields["parent"].queryset = Team.objects.filter(organization_id=org_id)
            self.fields["managers"].child_relation.queryset = User.objects.filter(
                organization_id=org_id
            )


def _own_teams(request: Request | None) -> Any:
    """The filter choices of a team filter: the caller's organisation's teams only, so that
    another organisation's team id is refused exactly like an unknown one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.organization_id is None:
        return Team.objects.none()
    return Team.objects.filter(organization_id=user.organization_id)


class TeamFilter(django_filters.FilterSet):
    parent = django_filters.ModelChoiceFilter(queryset=_own_teams)

    class Meta:
        model = Team
        fields = ["parent", "kind"]


class MemberFilter(django_filters.FilterSet):
    teams = django_filters.ModelMultipleChoiceFilter(queryset=_own_teams)

    class Meta:
        model = User
        fields = ["role", "teams", "is_active"]


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = TeamSerializer
    permission_classes = [HasOrganization]
    filterset_class = TeamFilter

    def get_queryset(self):
        return selectors.teams_of_organization(self.request.user).prefetch_related("managers")

    def get_permissions(self):
        if self.action in ("create", "update", "partial_update", "destroy"):
            return [IsOrgAdmin()]
        return super().get_permissions()

    def perform_create(self, serializer: TeamSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.team_create(
            actor=self.request.user,
            name=data["name"],
            kind=data.get("kind", "team"),
            parent=data.get("parent"),
            managers=data.get("managers", []),
            request=self.request._request,
        )

    def perform_update(self, serializer: TeamSerializer) -> None:
        team = serializer.instance
        data = serializer.validated_data
        serializer.instance = services.team_update(
            actor=self.request.user,
            team=team,
            name=data.get("name", team.name),
            kind=data.get("kind", team.kind),
            parent=data.get("parent", team.parent),
            managers=data.get("managers", list(team.managers.all())),
            request=self.request._request,
        )

    def perform_destroy(self, instance: Team) -> None:
        services.team_delete(actor=self.request.user, team=instance, request=self.request._request)


class MemberSerializer(serializers.ModelSerializer):
    teams = TeamRefSerializer(many=True, read_only=True)
    # The role in the caller's active organisation (a member of several has one in each).
    role = serializers.ChoiceField(choices=Role.choices, source="role_here", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "job_title",
            "language",
            "is_active",
            "teams",
        ]
        read_only_fields = fields


class MemberViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = MemberSerializer
    permission_classes = [HasOrganization]
    filterset_class = MemberFilter

    def get_queryset(self):
        return selectors.member_list(self.request.user)

    class RoleInput(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(request=RoleInput, responses=MemberSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsOrgAdmin])
    def role(self, request: Request, pk: str | None = None) -> Response:
        member = selectors.member_for_user(request.user, int(pk or 0), write=True)
        data = self.RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_set_role(
            actor=request.user,
            user=member,
            role=data.validated_data["role"],
            request=request._request,
        )
        return Response(MemberSerializer(member).data)


class InvitationSerializer(serializers.ModelSerializer):
    teams = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.none(), many=True, required=False
    )
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "job_title",
            "language",
            "teams",
            "status",
            "created_at",
            "expires_at",
            "sent_at",
            "accepted_at",
        ]
        read_only_fields = ["created_at", "expires_at", "sent_at", "accepted_at"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["teams"].child_relation.queryset = Team.objects.filter(
                organization_id=request.user.organization_id
            )


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Invitation.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = InvitationSerializer
    permission_classes = [IsOrgAdmin]

    def get_queryset(self):
        return selectors.invitation_list(self.request.user)

    def perform_create(self, serializer: InvitationSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.invitation_create(
            actor=self.request.user,
            email=data["email"],
            role=data.get("role", Role.EMPLOYEE),
            teams=data.get("teams", []),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            job_title=data.get("job_title", ""),
            language=data.get("language", ""),
            request=self.request._request,
        )

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        invitation = selectors.invitation_for_user(request.user, int(pk or 0))
        services.invitation_revoke(
            actor=request.user, invitation=invitation, request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLogEntry
        fields = [
            "id",
            "created_at",
            "actor_email",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "ip_address",
            "details",
        ]


class AuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation's audit log, newest first; filter with action, actor, since, until."""

    queryset = AuditLogEntry.objects.none()  # the schema's model; get_queryset() scopes
    serializer_class = AuditEntrySerializer
    permission_classes = [IsOrgAdmin]
    filter_backends: list = []

    class Filters(serializers.Serializer):
        action = serializers.CharField(required=False, allow_blank=True)
        actor = serializers.CharField(required=False, allow_blank=True)
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

    def get_queryset(self):
        filters = self.Filters(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.audit_entries(self.request.user, **filters.validated_data)

    @extend_schema(parameters=[Filters])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

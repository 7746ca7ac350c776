"""The SCIM 2.0 service (RFC 7643/7644) over Portevoix's people and teams.

scim2-server does the protocol: routing, request validation, filters, PATCH and PUT
application, discovery endpoints and error bodies. This module only says what we serve
(the schemas below publish the attributes we store, nothing more, so that an identity
provider never sends a value we would silently drop) and how a resource is read from and
written to `User` and `Team` (`OrganizationStorage`), always within one organisation."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any, Union, cast

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from scim2_models import (
    AuthenticationScheme,
    External,
    InvalidValueException,
    NotFoundException,
    Reference,
    Resource,
    ResourceType,
    ResponseParameters,
    Schema,
    ScimFilter,
    ScimProvider,
    SearchRequest,
    ServiceProviderConfig,
    UniquenessException,
)
from scim2_models.path import AttrPath, CompareOperator, Comparison
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import load_default_resource_types, load_default_schemas, parametrize

from organizations.errors import ConflictError, DomainError
from organizations.models import Organization, Team, User
from provisioning import services
from provisioning.models import ScimToken

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
MAX_RESULTS = 200

BEARER_TOKEN_SCHEME = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="Bearer token",
    description="The token an organisation admin creates on the SCIM administration page",
    spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
    primary=True,
)

# The attributes we map, and how (attribute: sub-attributes kept, mutability override).
USER_ATTRIBUTES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "userName": ((), None),
    "name": (("givenName", "familyName"), None),
    "displayName": ((), "readOnly"),
    "title": ((), None),
    "preferredLanguage": ((), None),
    "active": ((), None),
    # One address per person, the userName: the list is its read-only mirror.
    "emails": (("value", "type", "primary"), "readOnly"),
    "groups": (("value", "$ref", "display", "type"), None),
}
GROUP_ATTRIBUTES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "displayName": ((), None),
    "members": (("value", "$ref", "type"), None),
}
# Attributes every Portevoix account has a value for: a client cannot unassign them.
REQUIRED_ATTRIBUTES = {"active"}


def _pruned(schema: Schema, kept: dict[str, tuple[tuple[str, ...], str | None]]) -> Schema:
    data = schema.model_dump(mode="json")
    attributes = []
    for attribute in data["attributes"]:
        if attribute["name"] not in kept:
            continue
        sub_names, mutability = kept[attribute["name"]]
        if mutability:
            attribute["mutability"] = mutability
        if attribute.get("subAttributes"):
            attribute["subAttributes"] = [
                sub for sub in attribute["subAttributes"] if sub["name"] in sub_names
            ]
            for sub in attribute["subAttributes"]:
                if mutability == "readOnly":
                    sub["mutability"] = "readOnly"
        if attribute["name"] in REQUIRED_ATTRIBUTES:
            attribute["required"] = True
        attributes.append(attribute)
    data["attributes"] = attributes
    return Schema.model_validate(data)


@cache
def provider() -> ScimProvider:
    schemas = load_default_schemas()
    resource_types = load_default_resource_types()
    user_type = resource_types["User"].model_copy(update={"schema_extensions": None})
    config = ServiceProviderConfig.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
        }
    )
    config.authentication_schemes = [BEARER_TOKEN_SCHEME]
    return ScimProvider.from_discovery(
        [
            _pruned(schemas[USER_SCHEMA], USER_ATTRIBUTES),
            _pruned(schemas[GROUP_SCHEMA], GROUP_ATTRIBUTES),
        ],
        [user_type, resource_types["Group"]],
        config=config,
    )


@cache
def service() -> ScimService:
    return ScimService(provider())


def _version(body: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f'W/"{digest[:16]}"'


def _domain_to_scim(error: DomainError) -> Exception:
    if isinstance(error, ConflictError):
        return UniquenessException(detail=error.message)
    return InvalidValueException(detail=error.message)


class OrganizationStorage(ScimStorage):
    """Users and Groups of one organisation, read from and written to User and Team.

    People the identity provider deleted (`ScimPerson.removed_at`) are not there for SCIM; people
    of other organisations never are."""

    def __init__(self, *, organization: Organization, token: ScimToken) -> None:
        self.organization = organization
        self.token = token

    # -- Reading -------------------------------------------------------------------------

    def _users(self) -> QuerySet[User]:
        return (
            User.objects.filter(organization=self.organization)
            .exclude(scim_person__removed_at__isnull=False)
            .select_related("scim_person")
            .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("pk")))
            .order_by("pk")
        )

    def _teams(self) -> QuerySet[Team]:
        members = (
            User.objects.exclude(scim_person__removed_at__isnull=False).order_by("pk").only("pk")
        )
        return (
            Team.objects.filter(organization=self.organization)
            .prefetch_related(Prefetch("members", queryset=members))
            .order_by("pk")
        )

    def _model(self, resource_type: ResourceType) -> type[Resource[Any]]:
        return service().get_model(resource_type)

    def _user_resource(self, user: User) -> Resource[Any]:
        name = {"givenName": user.first_name, "familyName": user.last_name}
        body: dict[str, Any] = {
            "schemas": [USER_SCHEMA],
            "id": str(user.pk),
            "userName": user.email,
            "name": name,
            "displayName": user.get_full_name() or user.email,
            "title": user.job_title,
            "preferredLanguage": _preferred_language(user),
            "active": user.is_active,
            "emails": [{"value": user.email, "type": "work", "primary": True}],
            "groups": [
                {
                    "value": str(team.pk),
                    "$ref": f"Groups/{team.pk}",
                    "display": team.name,
                    "type": "direct",
                }
                for team in user.teams.all()
            ],
        }
        if user.external_id:
            body["externalId"] = user.external_id
        body = _without_blanks(body)
        body["meta"] = {
            "resourceType": "User",
            "created": user.date_joined.isoformat(),
            "lastModified": user.date_joined.isoformat(),
            "version": _version(body),
        }
        return self._model(self._type("User")).model_validate(body)

    def _team_resource(self, team: Team) -> Resource[Any]:
        body: dict[str, Any] = {
            "schemas": [GROUP_SCHEMA],
            "id": str(team.pk),
            "displayName": team.name,
            "members": [
                {"value": str(member.pk), "$ref": f"Users/{member.pk}", "type": "User"}
                for member in team.members.all()
            ],
        }
        if team.external_id:
            body["externalId"] = team.external_id
        body = _without_blanks(body)
        body["meta"] = {
            "resourceType": "Group",
            "created": team.created_at.isoformat(),
            "lastModified": team.created_at.isoformat(),
            "version": _version(body),
        }
        return self._model(self._type("Group")).model_validate(body)

    @staticmethod
    def _type(name: str) -> ResourceType:
        return service().get_resource_type(name)

    def _resource(self, resource_type: ResourceType, row: User | Team) -> Resource[Any]:
        if isinstance(row, User):
            return self._user_resource(row)
        return self._team_resource(row)

    def _rows(self, resource_type: ResourceType) -> QuerySet[Any]:
        if resource_type.name == "User":
            return self._users()
        if resource_type.name == "Group":
            return self._teams()
        raise NotFoundException(detail=f"Unknown resource type {resource_type.name!r}")

    def _row(self, resource_type: ResourceType, resource_id: str | None) -> Any:
        if not resource_id or not str(resource_id).isdigit() or len(str(resource_id)) > 18:
            raise NotFoundException(detail=f"{resource_type.name} {resource_id!r} not found")
        row = self._rows(resource_type).filter(pk=int(resource_id)).first()
        if row is None:
            raise NotFoundException(detail=f"{resource_type.name} {resource_id!r} not found")
        return row

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self._resource(resource_type, self._row(resource_type, resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        start = search_request.start_index_0 or 0
        count = search_request.count if search_request.count is not None else MAX_RESULTS
        scim_filter = search_request.filter
        if len(resource_types) != 1:
            return self._search_everything(resource_types, scim_filter, start, count)
        resource_type = resource_types[0]
        rows = self._rows(resource_type)
        if scim_filter is None:
            total = rows.count()
            page = list(rows[start : start + count]) if count else []
            return SearchPage(total, [self._resource(resource_type, row) for row in page])
        narrowed = self._narrow(resource_type, rows, scim_filter.ast)
        # Any filter the library parses is honoured: the cheap equalities narrow the rows
        # in SQL, the library's own evaluation decides for every remaining row.
        found = [
            resource
            for resource in (self._resource(resource_type, row) for row in narrowed)
            if scim_filter.match(resource)
        ]
        return SearchPage(len(found), found[start : start + count] if count else [])

    def _search_everything(
        self,
        resource_types: list[ResourceType],
        scim_filter: ScimFilter[Any] | None,
        start: int,
        count: int,
    ) -> SearchPage:
        """A search at the root (/.search): every type's resources as one collection."""
        resources = [
            self._resource(resource_type, row)
            for resource_type in {rt.name: rt for rt in resource_types}.values()
            for row in self._rows(resource_type)
        ]
        if scim_filter is not None:
            if not scim_filter.models and resources:
                models = tuple(dict.fromkeys(type(r) for r in resources))
                scim_filter = parametrize(ScimFilter, Union[models])(str(scim_filter))  # noqa: UP007
            resources = [r for r in resources if scim_filter.match(r)]
        return SearchPage(len(resources), resources[start : start + count] if count else [])

    def _narrow(self, resource_type: ResourceType, rows: QuerySet[Any], node: Any) -> QuerySet[Any]:
        """The rows an `attr eq "value"` filter can match, found in SQL (userName,
        externalId, displayName, id); every other filter walks the organisation's rows."""
        if not (
            isinstance(node, Comparison)
            and node.op == CompareOperator.eq
            and isinstance(node.value, str)
            and isinstance(node.attr_path, AttrPath)
            and node.attr_path.sub_attr is None
        ):
            return rows
        attr = node.attr_path.attr.lower()
        value = node.value
        if attr == "id":
            return (
                rows.filter(pk=int(value)) if value.isdigit() and len(value) <= 18 else rows.none()
            )
        if attr == "externalid":
            return rows.filter(external_id=value)
        if resource_type.name == "User" and attr == "username":
            return rows.filter(email__iexact=value)
        if resource_type.name == "Group" and attr == "displayname":
            return rows.filter(name__iexact=value)
        return rows

    # -- Writing -------------------------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        data = _dump(resource)
        try:
            if resource_type.name == "User":
                user = services.scim_user_create(
                    organization=self.organization,
                    values=_person_values(data, current=None),
                    token=self.token,
                )
                return self.get(resource_type, str(user.pk))
            team = services.scim_team_create(
                organization=self.organization, values=_team_values(data), token=self.token
            )
            return self.get(resource_type, str(team.pk))
        except DomainError as error:
            raise _domain_to_scim(error) from None

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, resource.id)
        data = _dump(resource)
        try:
            if isinstance(row, User):
                services.scim_user_update(
                    user=row, values=_person_values(data, current=row), token=self.token
                )
            else:
                services.scim_team_update(team=row, values=_team_values(data), token=self.token)
        except DomainError as error:
            raise _domain_to_scim(error) from None
        return self.get(resource_type, str(row.pk))

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        row = self._row(resource_type, resource_id)
        try:
            if isinstance(row, User):
                services.scim_user_delete(user=row, token=self.token)
            else:
                services.scim_team_delete(team=row, token=self.token)
        except DomainError as error:
            raise _domain_to_scim(error) from None


def _preferred_language(user: User) -> str:
    """The language the identity provider set, as the person's language now is; unassigned
    when it set none (the person's own choice is theirs)."""
    try:
        person = user.scim_person
    except ObjectDoesNotExist:
        return ""
    return user.language if person.preferred_language else ""


def _without_blanks(body: dict[str, Any]) -> dict[str, Any]:
    """Unassigned attributes are left out of a SCIM resource, not sent empty."""
    cleaned: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v not in ("", None)}
        if value in ("", None, [], {}):
            continue
        cleaned[key] = value
    return cleaned


def _dump(resource: Resource[Any]) -> dict[str, Any]:
    return cast(dict[str, Any], resource.model_dump(mode="json", by_alias=True, exclude_none=True))


def _person_values(data: dict[str, Any], *, current: User | None) -> services.PersonValues:
    name = data.get("name") or {}
    active = data.get("active")
    if active is None:
        # Unassigned: a new person is active, an existing one keeps their state.
        active = current.is_active if current is not None else True
    return services.PersonValues(
        email=str(data.get("userName") or ""),
        first_name=str(name.get("givenName") or ""),
        last_name=str(name.get("familyName") or ""),
        language=str(data.get("preferredLanguage") or ""),
        job_title=str(data.get("title") or ""),
        external_id=str(data.get("externalId") or ""),
        active=bool(active),
    )


def _team_values(data: dict[str, Any]) -> services.TeamValues:
    member_ids = []
    for member in data.get("members") or []:
        value = str(member.get("value") or "")
        if member.get("type") not in (None, "User") or not value.isdigit() or len(value) > 18:
            raise InvalidValueException(
                detail=f"Member {value!r} is not a person of this organisation"
            )
        member_ids.append(int(value))
    return services.TeamValues(
        name=str(data.get("displayName") or ""),
        external_id=str(data.get("externalId") or ""),
        member_ids=member_ids,
    )

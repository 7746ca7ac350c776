"""What the OpenAPI schema says beyond each view's own answer, in one place.

- Every error the API gives is problem JSON (organizations.api_errors): one `Problem`
  component, and each operation lists the error statuses its view can give.
- A URL field that may be blank answers "" when empty: it is documented as "a URI or the
  empty string", not as a URI.
- A time of day without seconds ("08:30") is documented by its pattern.

Referenced from SPECTACULAR_SETTINGS (config/settings.py): the preprocessing hook is what
imports this module, so the field extensions below are registered before any field is
mapped."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error, as problem JSON (RFC 9457).",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Each problem, with the field it concerns ('' for the whole request).",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
                "additionalProperties": True,
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_DESCRIPTIONS = {
    "400": "Invalid input, or a request the rules refuse.",
    "401": "Not authenticated (no, expired or unknown credentials).",
    "403": "Authenticated, but this role or person may not do this.",
    "404": "Not found, or not visible to the caller (also an out-of-range page).",
    "409": "The object is not in a state that allows this.",
    "429": "Too many requests; retry after the delay in Retry-After.",
}

_WRITES = {"post", "put", "patch", "delete"}

BLANKABLE_URI_ANY_OF: list[dict[str, Any]] = [{"format": "uri"}, {"maxLength": 0}]


def _view_class(generator: Any, path: str, method: str) -> type | None:
    for endpoint_path, _regex, endpoint_method, callback in getattr(generator, "endpoints", []):
        if endpoint_path == path and endpoint_method.lower() == method:
            return getattr(callback, "cls", None)
    return None


def _error_statuses(view: type | None, method: str, operation: dict[str, Any]) -> list[str]:
    takes_input = bool(operation.get("parameters")) or "requestBody" in operation
    statuses: list[str] = []
    if takes_input:
        statuses.append("400")
    # Credentials are read on every request: a bad token is a 401 even where none is needed.
    statuses.append("401")
    open_to_all = view is not None and all(
        issubclass(permission, permissions.AllowAny)
        for permission in getattr(view, "permission_classes", [])
    )
    if not open_to_all:
        statuses.append("403")
    if takes_input:
        # An unknown or invisible id (path, query or body) and a page out of range.
        statuses.append("404")
    if method in _WRITES and not open_to_all:
        statuses.append("409")
    if view is not None and (
        getattr(view, "throttle_classes", None) or getattr(view, "throttle_scope", None)
    ):
        statuses.append("429")
    return statuses


def _drop_uri_format_of_blankable(schema: Any) -> None:
    """drf-spectacular puts `format: uri` back from the field's URLValidator: a blankable
    URL keeps it only inside its anyOf."""
    if isinstance(schema, dict):
        if schema.get("anyOf") == BLANKABLE_URI_ANY_OF:
            schema.pop("format", None)
        for value in schema.values():
            _drop_uri_format_of_blankable(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_uri_format_of_blankable(value)


def register_extensions(endpoints: list, **kwargs: Any) -> list:
    """Preprocessing hook: leaves the endpoints as they are (importing this module is what
    registers the field extensions)."""
    return endpoints


def add_problem_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict:
    """Postprocessing hook: the Problem component and each operation's error answers."""
    components = result.setdefault("components", {})
    for schema in components.get("schemas", {}).values():
        _drop_uri_format_of_blankable(schema)
    components.setdefault("schemas", {})["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            view = _view_class(generator, path, method)
            for status in _error_statuses(view, method, operation):
                operation["responses"].setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {
                            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
    return result


def _may_be_blank(field: serializers.Field) -> bool:
    if getattr(field, "allow_blank", False):
        return True
    # A read-only field of a model serializer loses allow_blank: ask the model field.
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.read_only:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except Exception:  # a source that is not a model field (a property, a path)
        return False


class BlankableURLExtension(OpenApiSerializerFieldExtension):
    """A URL field that allows blank answers "" when empty: say so."""

    target_class = "rest_framework.fields.URLField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not _may_be_blank(self.target):
            return schema
        schema.pop("format", None)
        return {
            **schema,
            "type": "string",
            "anyOf": [dict(choice) for choice in BLANKABLE_URI_ANY_OF],
            "description": (schema.get("description", "") + " Empty when there is none.").strip(),
        }


HOUR_MINUTE_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": HOUR_MINUTE_PATTERN,
        "example": "08:30",
        "description": "A time of day, HH:MM (24 hours).",
    }
)
class HourMinuteField(serializers.TimeField):
    """A time of day as "HH:MM"; "HH:MM:SS" is accepted on input too."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M")
        super().__init__(**kwargs)


class ListActionPaginationSchema(AutoSchema):
    """drf-spectacular wraps every many=True answer of a paginated view in a page; only the
    `list` action is paginated (a create that answers a list answers a plain array)."""

    def _get_paginator(self) -> Any:
        if getattr(self.view, "action", "list") != "list":
            return None
        return super()._get_paginator()

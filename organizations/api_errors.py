"""Every API error as problem JSON (RFC 9457) that names the field and the problem."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from organizations.errors import DomainError


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            errors.extend(
                _field_errors(value, f"{prefix}.{name}" if prefix and name else name or prefix)
            )
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                errors.extend(_field_errors(value, f"{prefix}[{index}]"))
            else:
                errors.append({"field": prefix, "message": str(value)})
    else:
        errors.append({"field": prefix, "message": str(detail)})
    return errors


def problem(status_code: int, title: str, detail: str, errors: list[dict[str, str]] | None = None):
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status_code}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, content_type="application/problem+json")


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        errors = [{"field": exc.field or "", "message": exc.message}]
        for item in exc.errors:
            # Structured details (e.g. each rule a caption breaks, with its position).
            if isinstance(item, dict):
                errors.append(
                    {"field": exc.field or "", **item, "message": str(item.get("message", ""))}
                )
            else:
                errors.append({"field": "", "message": str(item)})
        return problem(exc.status_code, _("Request refused"), exc.message, errors)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = errors[0] if errors else {"field": "", "message": _("Invalid input.")}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        result = problem(status.HTTP_400_BAD_REQUEST, _("Invalid input"), detail, errors)
    else:
        detail = getattr(exc, "detail", str(exc))
        title = {
            401: _("Authentication required"),
            403: _("Permission denied"),
            404: _("Not found"),
            405: _("Method not allowed"),
            429: _("Too many requests"),
        }.get(response.status_code, _("Request failed"))
        result = problem(response.status_code, str(title), str(detail))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            result[header] = response[header]
    return result

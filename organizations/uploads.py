"""Byte limits on request bodies, enforced before and while the body is read.

- A body whose Content-Length cannot fit (files up to ``settings.IMAGE_MAX_BYTES`` plus
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` of other fields) is refused with 413 before any of it is
  read. Django's WSGI request never reads past Content-Length, so a body cannot grow
  beyond what it declared.
- Within that, ``BoundedUploadHandler`` counts the bytes of the file parts as they stream
  in (to a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE) and stops the read at the
  limit with ``UploadTooLarge``, which names the form field.

The API answers problem JSON naming the field; pages answer the 413 page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from organizations.errors import DomainError
from organizations.images import too_many_bytes_message

# How much of an oversized multipart body is read to name the file field it carries.
_PEEK_BYTES = 64 * 1024
_FILE_PART = re.compile(
    rb'content-disposition:[^\r\n]*?\bname="([^"\r\n]*)"[^\r\n]*?\bfilename\*?=', re.IGNORECASE
)


class UploadTooLarge(DomainError):
    status_code = 413


def _files_limit() -> int:
    return int(settings.IMAGE_MAX_BYTES)


def body_limit(request: HttpRequest) -> int | None:
    """The largest body this request may declare; None for no limit."""
    fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.content_type == "multipart/form-data":
        return _files_limit() + (fields or 0)
    return fields


class BoundedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: counts the file bytes of the request as they arrive
    and refuses past the limit, so an oversized file is never read to its end. Every
    form takes one file at most, so the limit is on all the files of a request."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if self.content_length is not None and self.content_length > _files_limit():
            raise UploadTooLarge(too_many_bytes_message(self.content_length), field=field_name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > _files_limit():
            raise UploadTooLarge(too_many_bytes_message(), field=self.field_name)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers store the file


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request)
        declared = _content_length(request)
        if limit is not None and declared > limit:
            field = _peek_file_field(request) if _is_api(request) else ""
            return upload_refused(request, too_many_bytes_message(), field=field)
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and not _is_api(request)
        ):
            # Parsed here rather than in CSRF's check, where an error could only be a 500.
            # The API parses in DRF, whose error handler answers UploadTooLarge itself.
            try:
                request.FILES  # noqa: B018
            except UploadTooLarge as error:
                return upload_refused(request, error.message, field=error.field or "")
        return self.get_response(request)


def upload_refused(request: HttpRequest, message: str, *, field: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "type": "about:blank",
                "title": _("Request too large"),
                "status": 413,
                "detail": f"{field}: {message}" if field else message,
                "errors": [{"field": field, "message": message}],
            },
            status=413,
            content_type="application/problem+json",
        )
    return render(request, "413.html", {"message": message}, status=413)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _content_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _peek_file_field(request: HttpRequest) -> str:
    """The name of the first file part in the start of a multipart body that is refused
    anyway; "" when it is not there."""
    if request.content_type != "multipart/form-data":
        return ""
    try:
        start = request.read(_PEEK_BYTES)
    except OSError:
        return ""
    match = _FILE_PART.search(start)
    return match.group(1).decode("utf-8", "replace") if match else ""

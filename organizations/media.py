"""Uploaded files served behind an access check, never from a public folder.

Every file lives under a folder that tells which kind of object owns it (``avatars/``,
``logos/``, ``content/``…). Apps register their kinds in ``AppConfig.ready()``, as they do
profile sections, so this module never imports a higher app. ``media_serve`` looks up the
object that references the requested name, asks the kind whether the caller may see it
(their organisation, the object's state) and answers with the file: Django streams it, or
with ``settings.MEDIA_ACCEL_REDIRECT_PREFIX`` set, nginx does (``X-Accel-Redirect`` to an
internal location). Anything else is a 404, whether the file exists or not.

Published content images must also reach people and machines without a session (link
previews, apps): their URLs carry a signature of the file name (``media_signed_url``),
honoured only while the kind says the object is public (published content).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_safe

from organizations.models import User

_SIGNATURE_SALT = "portevoix.media"
SIGNATURE_PARAMETER = "s"


@dataclass(frozen=True)
class MediaKind:
    folder: str
    model: type[models.Model]
    field: str
    organization_id: Callable[[Any], int | None]
    # May this member of the object's organisation see it? (the resource's access helper)
    can_view: Callable[[User, Any], bool]
    # May anyone holding a signed URL see it now?
    public_when_signed: Callable[[Any], bool] | None = None
    select_related: tuple[str, ...] = ()


_kinds: list[MediaKind] = []


def media_register(
    *,
    folder: str,
    model: type[models.Model],
    field: str,
    organization_id: Callable[[Any], int | None],
    can_view: Callable[[User, Any], bool],
    public_when_signed: Callable[[Any], bool] | None = None,
    select_related: tuple[str, ...] = (),
) -> None:
    kind = MediaKind(
        folder.strip("/") + "/",
        model,
        field,
        organization_id,
        can_view,
        public_when_signed,
        select_related,
    )
    _kinds[:] = [k for k in _kinds if (k.model, k.field) != (model, field)] + [kind]
    # The most specific folder first: content/renditions/ before content/.
    _kinds.sort(key=lambda k: -len(k.folder))


def media_owner(name: str) -> tuple[MediaKind, models.Model] | None:
    """The registered kind and the object whose file is ``name``, or None."""
    for kind in _kinds:
        if not name.startswith(kind.folder):
            continue
        rows = kind.model._default_manager.filter(**{kind.field: name})
        if kind.select_related:
            rows = rows.select_related(*kind.select_related)
        owner = rows.first()
        if owner is not None:
            return kind, owner
    return None


def media_signature(name: str) -> str:
    return signing.Signer(salt=_SIGNATURE_SALT).signature(name)


def media_signed_url(name: str) -> str:
    """A URL of ``name`` that works without a session while its owner is public."""
    query = urlencode({SIGNATURE_PARAMETER: media_signature(name)})
    return f"{default_storage.url(name)}?{query}"


def media_may_view(request: HttpRequest, name: str) -> bool:
    found = media_owner(name)
    if found is None:
        return False
    kind, owner = found
    signature = request.GET.get(SIGNATURE_PARAMETER, "")
    if (
        signature
        and kind.public_when_signed is not None
        and constant_time_compare(signature, media_signature(name))
        and kind.public_when_signed(owner)
    ):
        return True
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True  # the Django admin shows every file it edits
    organization = kind.organization_id(owner)
    if organization is None or user.organization_id != organization:
        return False
    return kind.can_view(user, owner)  # type: ignore[arg-type]


@require_safe
def media_serve(request: HttpRequest, path: str) -> HttpResponse | FileResponse:
    name = path
    if not _is_plain_name(name) or not media_may_view(request, name):
        raise Http404
    if not default_storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    response: HttpResponse | FileResponse
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{quote(name)}"
    else:
        response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    # Access can end (a post withdrawn, a member leaving): caches keep the file briefly.
    public = SIGNATURE_PARAMETER in request.GET and not request.user.is_authenticated
    response["Cache-Control"] = f"{'public' if public else 'private'}, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


def _is_plain_name(name: str) -> bool:
    parts = name.split("/")
    return (
        bool(name)
        and "\\" not in name
        and "\x00" not in name
        and all(part not in ("", ".", "..") for part in parts)
    )


# --- Replaced files ------------------------------------------------------------------------


def media_discard_on_commit(*names: str) -> None:
    """Delete the files ``names`` once the current transaction commits, each unless a row
    still references it (a file can be shared, e.g. by a copy of a post)."""
    names = tuple(name for name in names if name)
    if names:
        transaction.on_commit(lambda: media_discard(*names))


def media_discard(*names: str) -> None:
    for name in names:
        if name and not _referenced(name) and default_storage.exists(name):
            default_storage.delete(name)


def _referenced(name: str) -> bool:
    return any(
        model._default_manager.filter(**{field.name: name}).exists()
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    )

"""The one pipeline every stored image goes through (content images, avatars, logos,
challenge banners, reward images).

1. ``validate_image``: the byte limit (``settings.IMAGE_MAX_BYTES``) from the upload's
   size, before anything is decoded; then the format sniffed from the content, not the
   file name, and the pixel limit read from the header (decompression bombs).
2. ``image_reencode``: decoded and written again, upright (EXIF orientation applied), in
   sRGB, without any metadata (EXIF with GPS, XMP, comments, ICC profiles).
3. ``CleanImageField``: the model field of every uploaded image. Whatever reaches it (a
   service, a model form, the Django admin) is re-encoded unless it already was, and it is
   stored under an unguessable name (``UnguessableName``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from organizations.errors import DomainError

logger = logging.getLogger(__name__)

ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}

JPEG_QUALITY = 85
WEBP_QUALITY = 85
# Animations are kept while every frame fits in this many frames and the
# settings.IMAGE_MAX_PIXELS budget in total; otherwise only the first frame is kept.
MAX_ANIMATION_FRAMES = 500

# The only image.info keys that survive re-encoding: they describe pixels, not the author.
_PIXEL_INFO_KEYS = frozenset({"transparency", "background"})

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --- Validation ----------------------------------------------------------------------------


def validate_image(upload: File) -> None:
    if getattr(upload, "_committed", False):
        return  # a file already stored was checked when it was uploaded
    _check_bytes(upload_size(upload))
    max_pixels = settings.IMAGE_MAX_PIXELS
    position = 0
    try:
        position = upload.tell()
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow warns, then raises, past its own (higher) limit; both are our error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in ALLOWED_IMAGE_FORMATS:
                    raise ValidationError(
                        _("Unsupported image type. Use JPEG, PNG, WebP or GIF."),
                        code="image_format",
                    )
                if width * height > max_pixels:
                    raise ValidationError(
                        _("This image is too large (%(pixels)s pixels; at most %(max)s).")
                        % {"pixels": f"{width * height:,}", "max": f"{max_pixels:,}"},
                        code="image_too_large",
                    )
                image.verify()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(
            _("This image is too large to be processed safely."), code="image_too_large"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _invalid_image() from exc
    finally:
        with contextlib.suppress(OSError, ValueError):
            upload.seek(position)


def upload_size(upload: Any) -> int | None:
    """The upload's size in bytes without reading it: what the upload handler counted, or
    the end of a seekable stream. None when it cannot be known."""
    size = getattr(upload, "size", None)
    if isinstance(size, int):
        return size
    try:
        position = upload.tell()
        upload.seek(0, os.SEEK_END)
        end = upload.tell()
        upload.seek(position)
    except (AttributeError, OSError, ValueError):
        return None
    return end if isinstance(end, int) else None


def file_size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(n)s MB") % {"n": f"{size / (1024 * 1024):.1f}".removesuffix(".0")}
    return _("%(n)s KB") % {"n": max(1, round(size / 1024))}


def too_many_bytes_message(size: int | None = None) -> str:
    limit = file_size_text(settings.IMAGE_MAX_BYTES)
    if size is None:
        return _("This file is too large: at most %(max)s.") % {"max": limit}
    return _("This file is too large (%(size)s; at most %(max)s).") % {
        "size": file_size_text(size),
        "max": limit,
    }


def _check_bytes(size: int | None) -> None:
    if size is not None and size > settings.IMAGE_MAX_BYTES:
        raise ValidationError(too_many_bytes_message(size), code="file_too_large")


def _invalid_image() -> ValidationError:
    return ValidationError(
        _("This file is not a valid image. Use JPEG, PNG, WebP or GIF."), code="image_invalid"
    )


# --- Re-encoding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReencodedImage:
    data: bytes
    format: str
    width: int
    height: int
    # The first frame, clean: what content renditions are cut from.
    first_frame: Image.Image = field(compare=False, repr=False)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


@contextlib.contextmanager
def pillow_errors_as_validation() -> Iterator[None]:
    """Anything Pillow raises on a hostile file becomes the ValidationError of a bad
    upload: never a 500."""
    try:
        yield
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        raise ValidationError(
            _("This image is too large to be processed safely."), code="image_too_large"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _invalid_image() from exc
    except Exception as exc:
        # Pillow occasionally fails on malformed files with other errors; still a bad upload.
        logger.warning("Unexpected error while processing an image", exc_info=True)
        raise _invalid_image() from exc


def image_reencode(upload: File | IO[bytes]) -> ReencodedImage:
    """Validate ``upload`` and write it again without metadata. Raises ValidationError
    (and nothing else) for anything that is not a processable JPEG, PNG, WebP or GIF, or
    that is over the byte or pixel limit."""
    data = _read_bounded(upload)
    # Validate exactly the bytes that are processed below.
    validate_image(File(io.BytesIO(data), name=getattr(upload, "name", None)))
    with pillow_errors_as_validation():
        return _reencode(data)


def image_clean(upload: File | IO[bytes]) -> CleanImageFile:
    """``upload`` through the pipeline, as a file ready for any image field."""
    image = image_reencode(upload)
    return CleanImageFile(image.data, name=f"image.{image.extension}")


def image_clean_for_field(upload: File | IO[bytes], *, field: str) -> CleanImageFile:
    """``image_clean`` for a service: a refused image is the DomainError of ``field``."""
    try:
        return image_clean(upload)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field=field) from None


class CleanImageFile(ContentFile):
    """Bytes that went through ``image_reencode``: stored as they are."""


def _read_bounded(upload: File | IO[bytes]) -> bytes:
    limit = settings.IMAGE_MAX_BYTES
    _check_bytes(upload_size(upload))
    try:
        position: int | None = upload.tell()
    except (AttributeError, OSError):
        position = None  # not seekable: read what is left
    if position is not None:
        upload.seek(0)
    try:
        # One byte more than allowed tells an oversized stream without reading it all.
        data = upload.read(limit + 1)
    finally:
        if position is not None:
            upload.seek(position)
    if not isinstance(data, bytes | bytearray):
        raise _invalid_image()
    if len(data) > limit:
        raise ValidationError(too_many_bytes_message(), code="file_too_large")
    return bytes(data)


def _reencode(data: bytes) -> ReencodedImage:
    with Image.open(io.BytesIO(data), formats=sorted(ALLOWED_IMAGE_FORMATS)) as image:
        image_format = image.format or ""
        frames = _frames_to_keep(image)
        first = _clean_frame(image)
        others = []
        durations = [image.info.get("duration", 0)]
        for index in range(1, frames):
            image.seek(index)
            others.append(_clean_frame(image))
            durations.append(image.info.get("duration", 0))
        loop = image.info.get("loop")
    encoded = _encode(first, others, image_format, durations, loop)
    return ReencodedImage(encoded, image_format, first.width, first.height, first)


def _frames_to_keep(image: Image.Image) -> int:
    frames = getattr(image, "n_frames", 1)
    if frames <= 1 or frames > MAX_ANIMATION_FRAMES:
        return 1
    if frames * image.width * image.height > settings.IMAGE_MAX_PIXELS:
        return 1
    return frames


def _clean_frame(image: Image.Image) -> Image.Image:
    """The current frame, upright, in sRGB, with no metadata left in ``info``."""
    frame = ImageOps.exif_transpose(image)
    frame = _to_srgb(frame)
    frame.info = {key: value for key, value in frame.info.items() if key in _PIXEL_INFO_KEYS}
    return frame


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            if not ImageCms.getProfileDescription(source).strip().startswith("sRGB"):
                output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
                converted = ImageCms.profileToProfile(
                    image, source, _SRGB_PROFILE, outputMode=output_mode
                )
                if converted is not None:
                    converted.info = dict(image.info)
                    image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            # A broken profile: keep the pixels as they are, the profile is dropped anyway.
            pass
    if image.mode == "CMYK":
        image = _keep_info(image, image.convert("RGB"))
    return image


def _keep_info(source: Image.Image, converted: Image.Image) -> Image.Image:
    converted.info = dict(source.info)
    return converted


def _encode(
    first: Image.Image,
    others: list[Image.Image],
    image_format: str,
    durations: list[Any],
    loop: Any,
) -> bytes:
    options: dict[str, Any] = {}
    if image_format == "JPEG":
        if first.mode not in ("L", "RGB"):
            first = _keep_info(first, first.convert("RGB"))
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif image_format == "PNG":
        options = {"optimize": not others}
    elif image_format == "WEBP":
        if first.mode not in ("RGB", "RGBA"):
            first = _keep_info(first, first.convert("RGBA" if has_alpha(first) else "RGB"))
        options = {"quality": WEBP_QUALITY}
    if others:
        options.update(save_all=True, append_images=others, duration=durations)
        if loop is not None:
            options["loop"] = loop
    buffer = io.BytesIO()
    first.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def has_alpha(image: Image.Image) -> bool:
    if not image.has_transparency_data:
        return False
    alpha = image.convert("RGBA").getchannel("A")
    low = alpha.getextrema()[0]
    return isinstance(low, int | float) and low < 255


# --- Storage -------------------------------------------------------------------------------


@deconstructible
class UnguessableName:
    """``upload_to`` of every uploaded file: ``<folder>/<random>.<ext>``. The name tells
    nothing (no id, no original file name) and cannot be enumerated; the folder tells the
    media view which kind of object owns the file."""

    def __init__(self, folder: str) -> None:
        self.folder = folder.strip("/")

    def __call__(self, instance: object, filename: str) -> str:
        extension = os.path.splitext(filename)[1].lower()
        if extension.lstrip(".") not in {*EXTENSIONS.values(), "jpeg"}:
            extension = ""
        return f"{self.folder}/{secrets.token_urlsafe(18)}{extension}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnguessableName) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)


class CleanImageFieldFile(ImageFieldFile):
    def save(self, name: str | None, content: File, save: bool = True) -> None:
        if not isinstance(content, CleanImageFile):
            content = image_clean(content)
        # The extension follows the stored format, not the uploaded name.
        super().save(content.name or "image", content, save)


class CleanImageField(models.ImageField):
    """An uploaded image: re-encoded without metadata whatever path it arrives by."""

    attr_class = CleanImageFieldFile

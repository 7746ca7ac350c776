"""Image validation shared by every upload: the content decides the format, not the
file name, and oversized images are refused before Pillow decodes them."""

from __future__ import annotations

import contextlib
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def validate_image(upload: File) -> None:
    if getattr(upload, "_committed", False):
        return  # a file already stored was checked when it was uploaded
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
        raise ValidationError(
            _("This file is not a valid image. Use JPEG, PNG, WebP or GIF."), code="image_invalid"
        ) from exc
    finally:
        with contextlib.suppress(OSError, ValueError):
            upload.seek(position)

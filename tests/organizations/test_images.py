"""Image uploads: the content decides the format, oversized images are refused before
decoding, and every bad file is a ValidationError (a form error), never a 500."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from organizations.images import validate_image
from tests.conftest import client_for


def _image_bytes(fmt: str, size: tuple[int, int] = (8, 6), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 200 if mode == "L" else (200, 30, 60)).save(buffer, format=fmt)
    return buffer.getvalue()


def _upload(content: bytes, name: str = "image.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims the given size (a decompression bomb's shape)."""
    data = bytearray(_image_bytes("PNG", (1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    chunk = bytes(data[ihdr : ihdr + 17])
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "a.png"), ("JPEG", "a.jpg"), ("WEBP", "a.webp"), ("GIF", "a.gif")]
)
def test_accepts_allowed_formats(fmt, name):
    upload = _upload(_image_bytes(fmt), name)
    upload.seek(3)
    validate_image(upload)  # no exception
    assert upload.tell() == 3  # the caller's position is restored


def test_format_comes_from_content_not_name():
    validate_image(_upload(_image_bytes("JPEG"), "photo.png"))
    with pytest.raises(ValidationError) as caught:
        validate_image(_upload(_image_bytes("BMP"), "photo.png"))
    assert caught.value.code == "image_format"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"just some text, not an image\n", "image_invalid"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", "image_invalid"),
        (b"", "image_invalid"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image_invalid",
        ),
    ],
    ids=["text", "pdf", "empty", "svg"],
)
def test_rejects_files_that_are_not_images(content, code):
    with pytest.raises(ValidationError) as caught:
        validate_image(_upload(content, "evil.png"))
    assert caught.value.code == code


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM"])
def test_rejects_valid_images_of_other_formats(fmt):
    with pytest.raises(ValidationError) as caught:
        validate_image(_upload(_image_bytes(fmt, (16, 16)), "image.png"))
    assert caught.value.code == "image_format"


def test_rejects_truncated_png():
    content = _image_bytes("PNG", (64, 64))
    with pytest.raises(ValidationError):
        validate_image(_upload(content[: len(content) // 2]))


def test_rejects_png_with_corrupt_checksum():
    data = bytearray(_image_bytes("PNG", (4, 4)))
    data[data.index(b"IDAT") + 6] ^= 0xFF
    with pytest.raises(ValidationError):
        validate_image(_upload(bytes(data)))


def test_rejects_image_above_the_pixel_limit(settings):
    settings.IMAGE_MAX_PIXELS = 1_000_000
    with pytest.raises(ValidationError) as caught:
        validate_image(_upload(_image_bytes("PNG", (2000, 1000), mode="L")))
    assert caught.value.code == "image_too_large"
    # Exactly at the limit is fine.
    validate_image(_upload(_image_bytes("PNG", (1000, 1000), mode="L")))


@pytest.mark.parametrize(
    "size",
    [(10_000, 10_000), (20_000, 20_000), (65_000, 65_000)],
    ids=["above-our-limit", "pillow-warning", "pillow-error"],
)
def test_rejects_decompression_bombs_without_decoding(size):
    with pytest.raises(ValidationError) as caught:
        validate_image(_upload(_png_claiming(*size)))
    assert caught.value.code == "image_too_large"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from(
        [
            b"\x89PNG\r\n\x1a\n",
            b"GIF89a",
            b"GIF87a",
            b"\xff\xd8\xff",
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            b"BM",
            b"II*\x00",
            b"",
        ]
    ),
    body=st.binary(max_size=200),
)
def test_garbage_is_a_validation_error_never_a_crash(prefix, body):
    with contextlib.suppress(ValidationError):
        validate_image(_upload(prefix + body))


# --- Through the pages -------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _profile_post(client, avatar):
    return client.post(
        "/me/",
        {
            "first_name": "Ana",
            "last_name": "Lopez",
            "job_title": "",
            "language": "en",
            "avatar": avatar,
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"not an image at all", "avatar.png"),
        (b"%PDF-1.4\n", "avatar.pdf"),
        (_image_bytes("BMP"), "avatar.bmp"),
        (_png_claiming(20_000, 20_000), "bomb.png"),
    ],
    ids=["text", "pdf", "bmp", "bomb"],
)
def test_profile_with_invalid_avatar_shows_a_form_error(personas, media, content, name):
    response = _profile_post(client_for(personas.teammate), _upload(content, name))
    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors
    personas.teammate.refresh_from_db()
    assert not personas.teammate.avatar
    assert personas.teammate.first_name != "Ana"
    assert list(media.rglob("*")) == []


@pytest.mark.django_db
def test_profile_with_oversized_avatar_shows_a_form_error(personas, media, settings):
    settings.IMAGE_MAX_PIXELS = 1_000_000
    avatar = _upload(_image_bytes("PNG", (2000, 1000), mode="L"), "big.png")
    response = _profile_post(client_for(personas.teammate), avatar)
    assert response.status_code == 200
    assert "avatar" in response.context["form"].errors
    assert "too large" in " ".join(response.context["form"].errors["avatar"])


@pytest.mark.django_db
def test_profile_with_valid_avatar_is_saved(personas, media):
    response = _profile_post(client_for(personas.teammate), _upload(_image_bytes("PNG")))
    assert response.status_code == 302
    personas.teammate.refresh_from_db()
    assert personas.teammate.first_name == "Ana"
    assert personas.teammate.avatar.name.startswith("avatars/")
    assert (media / personas.teammate.avatar.name).is_file()


@pytest.mark.django_db
def test_org_logo_in_a_wrong_format_is_a_form_error(personas, media):
    response = client_for(personas.owner).post(
        "/admin/",
        {
            "name": "Acme Santé",
            "default_language": "fr",
            "time_zone": "Europe/Paris",
            "brand_colour": "#112233",
            "logo": _upload(_image_bytes("BMP"), "logo.png"),
        },
    )
    assert response.status_code == 200
    assert "logo" in response.context["form"].errors
    personas.organization.refresh_from_db()
    assert not personas.organization.logo
    assert personas.organization.brand_colour != "#112233"


@pytest.mark.django_db
def test_org_settings_save_with_a_valid_logo_then_without_reupload(personas, media):
    client = client_for(personas.owner)
    form = {
        "name": "Acme Santé",
        "default_language": "fr",
        "time_zone": "Europe/Paris",
        "brand_colour": "#112233",
    }
    response = client.post("/admin/", {**form, "logo": _upload(_image_bytes("PNG"), "l.png")})
    assert response.status_code == 302
    personas.organization.refresh_from_db()
    assert personas.organization.logo.name.startswith("logos/")
    # Saving the settings again without a new file keeps the logo.
    response = client.post("/admin/", {**form, "brand_colour": "#445566"})
    assert response.status_code == 302
    personas.organization.refresh_from_db()
    assert personas.organization.brand_colour == "#445566"
    assert personas.organization.logo.name.startswith("logos/")


@pytest.mark.django_db
def test_org_settings_save_when_the_stored_logo_file_is_gone(personas, media):
    """Media lost after a restore or a move must not make the settings page a 500."""
    personas.organization.logo.name = "logos/vanished.png"
    personas.organization.save()
    response = client_for(personas.owner).post(
        "/admin/",
        {
            "name": "Acme Santé",
            "default_language": "fr",
            "time_zone": "Europe/Paris",
            "brand_colour": "#445566",
        },
    )
    assert response.status_code in (200, 302)

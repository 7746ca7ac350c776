"""Images uploaded with content, through the API and the editor page: bombs, oversize and
wrong formats are a 400 (or a form error), never a 500, and nothing is written; EXIF and
GPS data never reach the stored file."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from content.models import Content, ContentKind
from organizations.models import Role
from tests.conftest import api_client_for, client_for
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return UserFactory(organization=OrganizationFactory(), role=Role.EDITOR)


def _png_bomb() -> io.BytesIO:
    """A tiny PNG whose header claims 100,000 x 100,000 pixels."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", 100_000, 100_000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    out = io.BytesIO(bytes(data))
    out.name = "bomb.png"
    return out


def _oversize(settings) -> io.BytesIO:
    settings.IMAGE_MAX_PIXELS = 1_000_000
    buffer = io.BytesIO()
    Image.new("RGB", (1500, 1000)).save(buffer, format="PNG")
    buffer.name = "big.png"
    buffer.seek(0)
    return buffer


def _bmp() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="BMP")
    buffer.name = "picture.jpg"  # the name lies; the content decides
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("make", ["bomb", "oversize", "bmp"])
def test_bad_images_are_a_400_through_the_api(editor, settings, make):
    upload = {"bomb": _png_bomb, "oversize": lambda: _oversize(settings), "bmp": _bmp}[make]()
    response = api_client_for(editor).post(
        "/api/v1/contents/",
        {"kind": "image", "title": "Photo", "image": upload},
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert any(error["field"] == "image" for error in body["errors"])
    assert Content.objects.count() == 0


@pytest.mark.parametrize("make", ["bomb", "oversize", "bmp"])
def test_bad_images_are_a_form_error_in_the_editor(editor, settings, make):
    upload = {"bomb": _png_bomb, "oversize": lambda: _oversize(settings), "bmp": _bmp}[make]()
    response = client_for(editor).post(
        "/library/new/",
        {
            "kind": "image",
            "title": "Photo",
            "language": "fr",
            "publish_at": "2026-11-23T10:00",
            "image": upload,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["image"]
    assert Content.objects.count() == 0


def test_gps_and_exif_never_reach_the_stored_image(editor):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), (10, 120, 200)).save(buffer, format="JPEG", exif=exif)
    buffer.name = "phone.jpg"
    buffer.seek(0)
    response = client_for(editor).post(
        "/library/new/",
        {
            "kind": "image",
            "title": "From a phone",
            "language": "fr",
            "publish_at": "2026-11-23T10:00",
            "image": buffer,
        },
    )
    assert response.status_code == 302
    content = Content.objects.get()
    assert content.kind == ContentKind.IMAGE
    with Image.open(content.image.path) as stored:
        assert not stored.getexif()
        assert "exif" not in stored.info
        assert stored.size == (200, 400)  # the orientation was applied, then dropped
    assert {r.name for r in content.renditions.all()} >= {"linkedin", "x", "facebook"}

"""Content images are served through an access check, never from a public folder: the
file's organisation and the post's state decide (drafts, reviews and withdrawn posts for
the comms team only; published posts for their audience), published images also reach
sessionless fetchers through a signed URL, names cannot be guessed, nginx can do the
sending, a replaced image is deleted, and an upload over the byte limit is refused before
the body is read."""

from __future__ import annotations

import io
import re
import sys
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone
from PIL import Image

from content.models import Content, ContentKind, ContentStatus
from content.services import ContentInput, content_create, content_update
from organizations.errors import DomainError
from organizations.models import Role
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def jpeg(colour: tuple[int, int, int] = (10, 120, 200), size=(400, 200)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


@pytest.fixture
def editor(personas):
    return UserFactory(organization=personas.organization, role=Role.EDITOR)


@pytest.fixture
def post(personas, editor, media) -> Content:
    """An image post of the personas' organisation, as an editor uploads it (a draft)."""
    upload = SimpleUploadedFile("launch-photo.jpg", jpeg(), content_type="image/jpeg")
    content = content_create(
        actor=editor, data=ContentInput(kind=ContentKind.IMAGE, title="Launch", image=upload)
    )
    return Content.objects.get(pk=content.pk)


def set_state(content: Content, state: str) -> None:
    now = timezone.now()
    status, publish_at = {
        "draft": (ContentStatus.DRAFT, now - timedelta(hours=1)),
        "in_review": (ContentStatus.IN_REVIEW, now - timedelta(hours=1)),
        "withdrawn": (ContentStatus.WITHDRAWN, now - timedelta(hours=1)),
        "scheduled": (ContentStatus.APPROVED, now + timedelta(days=2)),
        "published": (ContentStatus.APPROVED, now - timedelta(hours=1)),
    }[state]
    Content.objects.filter(pk=content.pk).update(status=status, publish_at=publish_at)


def fetch(client: Client, url: str) -> int:
    response = client.get(url)
    if response.status_code == 200:
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert body[:3] == b"\xff\xd8\xff"  # the JPEG itself
    return response.status_code


def urls_of(content: Content) -> list[str]:
    thumb = content.renditions.get(name="thumb")
    return [content.image.url, thumb.file.url]


STATES = ["draft", "in_review", "withdrawn", "scheduled", "published"]


@pytest.mark.parametrize("state", STATES)
def test_nobody_outside_the_organisation_gets_a_content_image(personas, post, state):
    set_state(post, state)
    for url in urls_of(post):
        assert fetch(Client(), url) == 404
        assert fetch(client_for(personas.outsider), url) == 404


@pytest.mark.parametrize("state", STATES)
def test_the_comms_team_sees_images_in_every_state(personas, editor, post, state):
    set_state(post, state)
    for url in urls_of(post):
        assert fetch(client_for(editor), url) == 200
        assert fetch(client_for(personas.owner), url) == 200


@pytest.mark.parametrize("state", STATES)
def test_employees_see_only_published_images(personas, post, state):
    set_state(post, state)
    expected = 200 if state == "published" else 404
    for url in urls_of(post):
        assert fetch(client_for(personas.teammate), url) == expected


def test_an_employee_outside_the_audience_does_not_get_the_image(personas, post):
    set_state(post, "published")
    post.audience_teams.set([personas.team])
    elsewhere = UserFactory(organization=personas.organization, role=Role.EMPLOYEE)
    assert fetch(client_for(personas.teammate), post.image.url) == 200
    assert fetch(client_for(elsewhere), post.image.url) == 404


def test_published_images_have_signed_urls_that_work_without_a_session_until_withdrawn(
    personas, post
):
    set_state(post, "published")
    item = api_client_for(personas.teammate).get(f"/api/v1/feed/{post.pk}/").json()
    urls = [item["image_url"], *item["renditions"].values()]
    assert len(urls) == 5
    anonymous = Client()
    for url in urls:
        assert "?s=" in url
        assert fetch(anonymous, url) == 200
    # The signature is of that file only, and a forged one is refused.
    forged = urls[0].split("?s=")[0] + "?s=forged"
    assert fetch(anonymous, forged) == 404
    other = urls[1].split("?s=")[0] + "?s=" + urls[0].split("?s=")[1]
    assert fetch(anonymous, other) == 404
    # Withdrawn (or back in review): the signed URLs stop working.
    set_state(post, "withdrawn")
    for url in urls:
        assert fetch(anonymous, url) == 404
    assert fetch(client_for(personas.teammate), urls[0]) == 404


def test_unpublished_images_are_not_signed_in_the_api(editor, post):
    item = api_client_for(editor).get(f"/api/v1/contents/{post.pk}/").json()
    assert "?s=" not in item["image_url"]
    assert fetch(Client(), item["image_url"]) == 404
    assert fetch(client_for(editor), item["image_url"]) == 200


def test_stored_names_cannot_be_guessed(post):
    names = [post.image.name, *(r.file.name for r in post.renditions.all())]
    assert re.fullmatch(r"content/[A-Za-z0-9_-]{24}\.jpg", post.image.name), post.image.name
    for name in names[1:]:
        assert re.fullmatch(r"content/renditions/[A-Za-z0-9_-]{24}\.(jpg|png)", name), name
    assert not any(str(post.pk) in name.split("/")[-1][:3] for name in names)
    assert not any("launch" in name for name in names)


def test_files_stored_under_the_old_names_stay_readable_behind_the_check(
    personas, editor, post, media
):
    (media / "content" / "content-35.jpg").write_bytes(jpeg())
    Content.objects.filter(pk=post.pk).update(image="content/content-35.jpg")
    (media / "content" / "content-36.jpg").write_bytes(jpeg())  # nobody's file
    assert fetch(client_for(editor), "/media/content/content-35.jpg") == 200
    assert fetch(Client(), "/media/content/content-35.jpg") == 404
    assert fetch(client_for(personas.teammate), "/media/content/content-35.jpg") == 404
    assert fetch(client_for(editor), "/media/content/content-36.jpg") == 404


@pytest.mark.parametrize(
    "path", ["/media/content/../content/x.jpg", "/media//etc/passwd", "/media/content/"]
)
def test_odd_paths_are_not_found(editor, post, path):
    assert client_for(editor).get(path).status_code == 404


def test_nginx_sends_the_file_when_x_accel_redirect_is_configured(settings, editor, post):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/_protected_media/"
    response = client_for(editor).get(post.image.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/_protected_media/{post.image.name}"
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == b""
    refused = client_for(UserFactory()).get(post.image.url)  # another organisation
    assert refused.status_code == 404
    assert "X-Accel-Redirect" not in refused


def test_the_feed_and_the_content_pages_still_show_the_images(personas, editor, post):
    set_state(post, "published")
    employee = client_for(personas.teammate)
    feed = employee.get("/feed/").content.decode()
    thumbs = re.findall(r'src="(/media/content/renditions/[^"]+)"', feed)
    assert thumbs, "the feed card shows the thumbnail"
    assert all(fetch(employee, url) == 200 for url in thumbs)
    detail = employee.get(f"/content/{post.pk}/").content.decode()
    images = re.findall(r'src="(/media/content/[^"]+)"', detail)
    assert images and all(fetch(employee, url) == 200 for url in images)
    set_state(post, "draft")
    library = client_for(editor)
    detail = library.get(f"/content/{post.pk}/").content.decode()
    images = re.findall(r'src="(/media/content/[^"]+)"', detail)
    assert images and all(fetch(library, url) == 200 for url in images)


def test_a_replaced_content_image_and_its_renditions_are_deleted(
    editor, post, media, django_capture_on_commit_callbacks
):
    before = {media / post.image.name, *(media / r.file.name for r in post.renditions.all())}
    assert all(path.is_file() for path in before)
    upload = SimpleUploadedFile("new.jpg", jpeg((200, 0, 0)), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        content_update(
            actor=editor,
            content=post,
            data=ContentInput(kind=ContentKind.IMAGE, title="Launch", image=upload),
        )
    post.refresh_from_db()
    after = {media / post.image.name, *(media / r.file.name for r in post.renditions.all())}
    assert all(path.is_file() for path in after)
    assert not any(path.exists() for path in before)
    assert {p for p in media.rglob("*") if p.is_file()} == after


# --- Byte limit -----------------------------------------------------------------------------


def padded_jpeg(size: int) -> bytes:
    data = jpeg()
    return data + b"\0" * (size - len(data))


def test_the_api_refuses_an_image_over_the_byte_limit_naming_the_field(editor, media, settings):
    settings.IMAGE_MAX_BYTES = 256 * 1024
    upload = SimpleUploadedFile("big.jpg", padded_jpeg(1024 * 1024), content_type="image/jpeg")
    response = api_client_for(editor).post(
        "/api/v1/contents/",
        {"kind": "image", "title": "Photo", "image": upload},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["field"] == "image"
    assert "at most 256 KB" in body["detail"]
    assert Content.objects.count() == 0
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_the_service_refuses_an_image_over_the_byte_limit(editor, post, media, settings):
    """The one validator checks the size too, whatever path the file came by."""
    settings.IMAGE_MAX_BYTES = 256 * 1024
    big = io.BytesIO(padded_jpeg(300 * 1024))
    big.name = "big.jpg"
    stored = post.image.name
    with pytest.raises(DomainError) as caught:
        content_update(
            actor=editor,
            content=post,
            data=ContentInput(kind=ContentKind.IMAGE, title="Launch", image=big),
        )
    assert caught.value.field == "image"
    assert caught.value.message == "This file is too large (300 KB; at most 256 KB)."
    post.refresh_from_db()
    assert post.image.name == stored


class CountingBody:
    """A request body that is generated as it is read and counts what was read; reading
    more than ``cap`` bytes fails the test (the old code read everything)."""

    def __init__(self, head: bytes, cap: int) -> None:
        self.head, self.cap, self.read_bytes = head, cap, 0

    def read(self, size: int = -1) -> bytes:
        size = 64 * 1024 if size is None or size < 0 else size
        start = self.read_bytes
        self.read_bytes += size
        if self.read_bytes > self.cap:
            raise AssertionError(f"read {self.read_bytes:,} bytes of a refused body")
        head = self.head[start : start + size]
        return head + b"\0" * (size - len(head))

    def readline(self, size: int = -1) -> bytes:
        return self.read(size if size and size > 0 else 1024)


def wsgi_post(path: str, body: CountingBody, length: int, **headers: str) -> tuple[int, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "multipart/form-data; boundary=xYzBoUnDaRy",
        "CONTENT_LENGTH": str(length),
        **headers,
    }
    # The test client's handler: a real WSGI request, without closing the test's database
    # connection at the end of the request.
    response = ClientHandler()(environ)
    return response.status_code, b"".join(response)


MULTIPART_HEAD = (
    b"--xYzBoUnDaRy\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\nPhoto\r\n'
    b"--xYzBoUnDaRy\r\n"
    b'Content-Disposition: form-data; name="image"; filename="huge.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n" + jpeg()
)


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(editor, media):
    """1 GiB declared by a signed-in editor: refused from Content-Length, only the start
    read (to name the field), where the old code streamed it all."""
    session = client_for(editor).cookies["sessionid"].value
    body = CountingBody(MULTIPART_HEAD, cap=32 * 1024 * 1024)
    # With a CSRF cookie, DRF's session check reads the form: the old code read it all.
    cookies = f"sessionid={session}; csrftoken={'a' * 32}"
    status, content = wsgi_post("/api/v1/contents/", body, length=1024**3, HTTP_COOKIE=cookies)
    assert status == 413
    assert b'"field": "image"' in content or b'"field":"image"' in content
    assert body.read_bytes <= 128 * 1024


def test_a_page_upload_over_the_limit_stops_reading_at_the_limit(editor, media, settings):
    settings.IMAGE_MAX_BYTES = 256 * 1024
    session = client_for(editor).cookies["sessionid"].value
    length = 2 * 1024 * 1024  # within what a body may declare, but the file is too large
    body = CountingBody(MULTIPART_HEAD, cap=length)
    cookies = f"sessionid={session}; csrftoken={'a' * 32}"
    status, content = wsgi_post("/library/new/", body, length=length, HTTP_COOKIE=cookies)
    assert status == 413
    assert "too large" in content.decode()
    assert body.read_bytes < 512 * 1024
    assert Content.objects.count() == 0

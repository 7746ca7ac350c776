"""The link preview's image, downloaded and stored for the thumbnail of article posts.

It is fetched with the page's SSRF rules (every hop checked, pinned addresses, one deadline,
a byte limit), put through the one image pipeline (re-encoded, metadata stripped) and stored
under an unguessable name behind the media access check. Whatever goes wrong with the image
(a refused address, a non-image answer, an oversized or cut body, a file the pipeline
refuses), nothing is stored and the preview itself is still ready. Replacing the link or
fetching the preview again deletes the previous file.

A tiny HTTP server on 127.0.0.1 plays the site; the settings allow that one address and
port, the way the local demo does (``LINK_PREVIEW_ALLOW_ADDRESSES``,
``LINK_PREVIEW_EXTRA_PORTS``).
"""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from content import linkpreview, services
from content.linkpreview import AddressPolicy, LinkFetchFailed, LinkRefused, image_fetch
from content.models import Content, ContentKind, PreviewStatus
from content.services import ContentInput, content_create, content_update, link_preview_refresh
from organizations.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


# --- The site -----------------------------------------------------------------------------


@dataclass
class Site:
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Accept)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _accept in self.requests]

    def policy(self) -> AddressPolicy:
        return AddressPolicy(
            allowed_ports=frozenset({self.port}), allow_addresses=frozenset({"127.0.0.1"})
        )


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        site.requests.append((self.path, self.headers.get("Accept", "")))
        route = site.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        route(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = False  # server_close() joins the handler threads
    the_site = Site(port=server.server_address[1])
    server.site = the_site  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="preview-image-site"
    )
    thread.start()
    try:
        yield the_site
    finally:
        the_site.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
        assert not thread.is_alive()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    return tmp_path


@pytest.fixture
def allow_site(settings, site: Site, media: Path) -> Site:
    """The settings of the local demo: the loopback site's address and port allowed."""
    settings.LINK_PREVIEW_ALLOW_ADDRESSES = ["127.0.0.1"]
    settings.LINK_PREVIEW_EXTRA_PORTS = [site.port]
    return site


@dataclass
class Spy:
    calls: list[tuple[str, str, str, int]] = field(default_factory=list)

    @property
    def ips(self) -> list[str]:
        return [ip for _scheme, _host, ip, _port in self.calls]


@pytest.fixture
def connection_spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Records every connection the fetcher opens (its only way to open one)."""
    spy = Spy()
    real_connect = linkpreview._connect

    def recording_connect(scheme: str, host: str, ip: str, port: int, deadline: float):
        spy.calls.append((scheme, host, ip, port))
        return real_connect(scheme, host, ip, port, deadline)

    monkeypatch.setattr(linkpreview, "_connect", recording_connect)
    return spy


def respond(
    body: bytes,
    *,
    status: int = 200,
    content_type: str | None = "image/jpeg",
    headers: dict[str, str] | None = None,
    length: int | bool | None = True,
) -> Route:
    """A response; ``length`` True announces the real length, an int another one, None
    none at all (the body then ends when the connection closes)."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        if content_type is not None:
            handler.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if length is True:
            handler.send_header("Content-Length", str(len(body)))
        elif isinstance(length, int):
            handler.send_header("Content-Length", str(length))
        handler.end_headers()
        with contextlib.suppress(OSError):
            handler.wfile.write(body)
        handler.close_connection = True

    return route


def endless_image(handler: http.server.BaseHTTPRequestHandler) -> None:
    """An image/jpeg answer without a length whose body never ends."""
    site: Site = handler.server.site  # type: ignore[attr-defined]
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.end_headers()
    sent = 0
    try:
        handler.wfile.write(b"\xff\xd8\xff\xe0")
        while not site.stop.is_set() and sent < 200_000_000:
            handler.wfile.write(b"\0" * 65_000)
            sent += 65_000
    except OSError:
        pass
    handler.close_connection = True


def dripping_image(handler: http.server.BaseHTTPRequestHandler) -> None:
    """An image/jpeg answer announcing 10 kB, then sending one byte every 50 ms."""
    site: Site = handler.server.site  # type: ignore[attr-defined]
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.send_header("Content-Length", "10000")
    handler.end_headers()
    try:
        handler.wfile.write(b"\xff\xd8\xff")
        handler.wfile.flush()
        while not site.stop.wait(0.05):
            handler.wfile.write(b"\0")
            handler.wfile.flush()
    except OSError:
        pass
    handler.close_connection = True


def jpeg_with_metadata(size: tuple[int, int] = (320, 160)) -> bytes:
    """A JPEG carrying EXIF with GPS coordinates, a camera maker and a comment."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "JPEG", exif=exif, comment=b"shot at home")
    return buffer.getvalue()


def noisy_jpeg(size: tuple[int, int] = (300, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "JPEG")
    return buffer.getvalue()


def article(image: str) -> Route:
    return respond(
        f"""<!doctype html><html><head>
<title>Fallback</title>
<meta property="og:title" content="Portevoix ships">
<meta property="og:description" content="An article about advocacy.">
<meta property="og:image" content="{image}">
<meta property="og:site_name" content="Example News">
</head><body><p>Hello</p></body></html>""".encode(),
        content_type="text/html; charset=utf-8",
    )


def link_content(personas, site: Site, path: str = "/article") -> Content:
    return Content.objects.create(
        organization=personas.organization,
        author=UserFactory(organization=personas.organization, role=Role.EDITOR),
        kind=ContentKind.LINK,
        title="An article",
        link_url=site.url(path),
        preview_status=PreviewStatus.PENDING,
    )


def stored_files(media: Path) -> list[Path]:
    folder = media / "content" / "previews"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def assert_ready_without_image(content: Content, media: Path) -> None:
    content.refresh_from_db()
    assert content.preview_status == PreviewStatus.READY
    assert content.preview_title == "Portevoix ships"
    assert content.preview_site_name == "Example News"
    assert not content.preview_image
    assert stored_files(media) == []


# --- Stored, clean ------------------------------------------------------------------------


def test_the_preview_stores_the_image_re_encoded_without_metadata(
    personas, allow_site: Site, media: Path
):
    site = allow_site
    original = jpeg_with_metadata()
    site.routes["/article"] = article("/images/cover.jpg")  # relative: made absolute
    site.routes["/images/cover.jpg"] = respond(original)
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY

    content.refresh_from_db()
    assert content.preview_status == PreviewStatus.READY
    assert content.preview_title == "Portevoix ships"
    assert content.preview_image_url == site.url("/images/cover.jpg")
    assert site.paths == ["/article", "/images/cover.jpg"]
    assert site.requests[1][1].startswith("image/")  # asked for an image
    # Stored under the access-checked folder, with a name that tells nothing.
    name = content.preview_image.name
    assert name.startswith("content/previews/") and name.endswith(".jpg")
    assert "cover" not in name and str(content.pk) not in name.removeprefix("content/previews/")
    assert stored_files(media) == [media / name]
    data = (media / name).read_bytes()
    assert data != original
    assert b"PhoneMaker" not in data and b"shot at home" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 160)
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info
    # What the lead's pipeline passes to the LinkedIn adapter as link_image_path.
    assert Path(content.preview_image.path).read_bytes() == data


def test_the_stored_preview_image_is_served_behind_the_access_check(
    personas, allow_site: Site, media: Path
):
    site = allow_site
    site.routes["/article"] = article("/cover.png")
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (200, 10, 10, 128)).save(buffer, "PNG")
    site.routes["/cover.png"] = respond(buffer.getvalue(), content_type="image/png")
    content = link_content(personas, site)
    link_preview_refresh(content_id=content.pk)
    content.refresh_from_db()
    assert content.preview_image.name.endswith(".png")

    url = content.preview_image.url
    assert client_for(content.author).get(url).status_code == 200
    assert client_for(personas.outsider).get(url).status_code == 404


def test_image_fetch_returns_the_bytes_and_the_content_type(site: Site):
    data = jpeg_with_metadata()
    site.routes["/go"] = respond(b"", status=302, headers={"Location": "/cover"}, length=True)
    site.routes["/cover"] = respond(data, content_type="image/jpeg; charset=binary")
    fetched = image_fetch(site.url("/go"), policy=site.policy())
    assert fetched.data == data  # unchecked bytes: the pipeline cleans them
    assert fetched.content_type == "image/jpeg"
    assert fetched.final_url == site.url("/cover")


# --- Refused addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "http://192.168.1.10/cover.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/cover.jpg",
        "http://[::1]/cover.jpg",
        "http://localhost/cover.jpg",
        "http://2130706433/cover.jpg",
    ],
)
def test_an_image_on_a_private_address_is_refused_without_a_connection(
    personas, allow_site: Site, media: Path, connection_spy: Spy, image: str
):
    site = allow_site
    site.routes["/article"] = article(image)
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY

    assert connection_spy.ips == ["127.0.0.1"]  # the page only
    assert site.paths == ["/article"]
    assert_ready_without_image(content, media)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/cover.jpg",  # loopback, but not the allowed address
        "http://169.254.169.254/latest/meta-data/",
        "http://172.16.0.1/cover.jpg",
        "http://127.0.0.1:{other}/cover.jpg",  # a port the policy does not allow
        "file:///etc/passwd",
    ],
)
def test_an_image_redirecting_to_a_private_address_is_refused_on_the_hop(
    personas, allow_site: Site, media: Path, connection_spy: Spy, location: str
):
    site = allow_site
    other = site.port + 1 if site.port < 65535 else site.port - 1
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(
        b"",
        status=302,
        headers={"Location": location.format(port=site.port, other=other)},
        content_type=None,
    )
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY

    assert connection_spy.ips == ["127.0.0.1", "127.0.0.1"]  # the page and the first hop
    assert site.paths == ["/article", "/cover.jpg"]
    assert_ready_without_image(content, media)


def test_image_fetch_refuses_a_private_address_before_connecting(connection_spy: Spy):
    with pytest.raises(LinkRefused) as caught:
        image_fetch("http://10.0.0.1/cover.jpg")
    assert caught.value.code == "private"
    assert connection_spy.calls == []


def test_image_fetch_refuses_a_name_resolving_to_any_private_address(connection_spy: Spy):
    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port)),
        ]

    with pytest.raises(LinkRefused) as caught:
        image_fetch("https://cdn.example.test/cover.jpg", resolver=resolver)
    assert caught.value.code == "private"
    assert connection_spy.calls == []


# --- Not an image, too large, cut short ---------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        respond(b"<html><body>Not an image</body></html>", content_type="text/html"),
        respond(b'<svg xmlns="http://www.w3.org/2000/svg"/>', content_type="image/svg+xml"),
        respond(jpeg_with_metadata(), content_type=None),  # untyped: not read
        respond(jpeg_with_metadata(), content_type="application/octet-stream"),
        respond(b"<html>pretending</html>", content_type="image/jpeg"),  # pipeline refuses
        respond(b"GIF89a" + b"\0" * 40, content_type="image/gif"),  # a broken image
        respond(b"", content_type="image/png"),
        respond(jpeg_with_metadata(), status=404),
    ],
    ids=["html", "svg", "untyped", "octet-stream", "fake-jpeg", "broken-gif", "empty", "404"],
)
def test_a_non_image_answer_stores_nothing(personas, allow_site: Site, media: Path, answer: Route):
    site = allow_site
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = answer
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY

    assert site.paths == ["/article", "/cover.jpg"]
    assert_ready_without_image(content, media)


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", None])
def test_image_fetch_refuses_non_image_content_types(site: Site, content_type: str | None):
    site.routes["/cover"] = respond(b"<svg/>", content_type=content_type)
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy())
    assert caught.value.code == "not_image"


@pytest.mark.parametrize("length", [True, None], ids=["announced", "unannounced"])
def test_an_oversized_image_stores_nothing(
    settings, personas, allow_site: Site, media: Path, length: bool | None
):
    site = allow_site
    settings.IMAGE_MAX_BYTES = 4096
    big = noisy_jpeg()
    assert len(big) > 4096
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(big, length=length)
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY
    assert_ready_without_image(content, media)


@pytest.mark.parametrize("length", [True, None], ids=["announced", "unannounced"])
def test_image_fetch_stops_at_the_byte_limit(site: Site, length: bool | None):
    site.routes["/cover"] = respond(noisy_jpeg(), length=length)
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy(), max_bytes=4096)
    assert caught.value.code == "too_large"


def test_image_fetch_defaults_to_the_image_byte_limit(settings, site: Site):
    settings.IMAGE_MAX_BYTES = 4096
    site.routes["/cover"] = respond(noisy_jpeg())
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy())
    assert caught.value.code == "too_large"


def test_an_endless_image_is_cut_at_the_limit_without_waiting(site: Site):
    site.routes["/cover"] = endless_image
    started = time.monotonic()
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy(), max_bytes=100_000, timeout=5)
    assert caught.value.code == "too_large"
    assert time.monotonic() - started < 3


def test_an_image_cut_short_is_refused(site: Site):
    data = jpeg_with_metadata()
    site.routes["/cover"] = respond(data[: len(data) // 2], length=len(data))
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy())
    assert caught.value.code == "invalid_response"


def test_a_dripping_image_is_cut_by_the_deadline(site: Site):
    site.routes["/cover"] = dripping_image
    started = time.monotonic()
    with pytest.raises(LinkFetchFailed) as caught:
        image_fetch(site.url("/cover"), policy=site.policy(), timeout=0.5)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 3


def test_a_dripping_image_does_not_fail_the_preview(
    personas, allow_site: Site, media: Path, monkeypatch: pytest.MonkeyPatch
):
    site = allow_site
    real_fetch = linkpreview.image_fetch
    monkeypatch.setattr(
        linkpreview, "image_fetch", lambda url, **kwargs: real_fetch(url, **kwargs, timeout=0.5)
    )
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = dripping_image
    content = link_content(personas, site)

    assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY
    assert_ready_without_image(content, media)


# --- Replaced, refetched, raced -----------------------------------------------------------


def test_replacing_the_link_deletes_the_stored_image(
    personas, allow_site: Site, media: Path, monkeypatch, django_capture_on_commit_callbacks
):
    site = allow_site
    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue_preview", lambda content: queued.append(content.pk))
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    content = content_create(
        actor=editor,
        data=ContentInput(kind=ContentKind.LINK, title="An article", link_url=site.url("/article")),
    )
    link_preview_refresh(content_id=content.pk)
    content.refresh_from_db()
    old = media / content.preview_image.name
    assert old.is_file()

    with django_capture_on_commit_callbacks(execute=True):
        content_update(
            actor=editor,
            content=content,
            data=ContentInput(
                kind=ContentKind.LINK, title="An article", link_url=site.url("/other")
            ),
        )

    content.refresh_from_db()
    assert not content.preview_image
    assert content.preview_status == PreviewStatus.PENDING
    assert not old.exists()
    assert queued == [content.pk, content.pk]


def test_an_edit_that_keeps_the_link_keeps_the_image(
    personas, allow_site: Site, media: Path, monkeypatch, django_capture_on_commit_callbacks
):
    site = allow_site
    monkeypatch.setattr(services, "_enqueue_preview", lambda content: None)
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    editor = UserFactory(organization=personas.organization, role=Role.EDITOR)
    data = ContentInput(kind=ContentKind.LINK, title="An article", link_url=site.url("/article"))
    content = content_create(actor=editor, data=data)
    link_preview_refresh(content_id=content.pk)
    content.refresh_from_db()
    name = content.preview_image.name

    with django_capture_on_commit_callbacks(execute=True):
        data.title = "A better title"
        content_update(actor=editor, content=content, data=data)

    content.refresh_from_db()
    assert content.preview_image.name == name
    assert (media / name).is_file()


def test_refetching_replaces_the_stored_image(
    personas, allow_site: Site, media: Path, django_capture_on_commit_callbacks
):
    site = allow_site
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    content = link_content(personas, site)
    link_preview_refresh(content_id=content.pk)
    content.refresh_from_db()
    first = media / content.preview_image.name

    with django_capture_on_commit_callbacks(execute=True):
        link_preview_refresh(content_id=content.pk)

    content.refresh_from_db()
    second = media / content.preview_image.name
    assert second != first
    assert stored_files(media) == [second]


def test_refetching_a_page_that_lost_its_image_deletes_the_stored_one(
    personas, allow_site: Site, media: Path, django_capture_on_commit_callbacks
):
    site = allow_site
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    content = link_content(personas, site)
    link_preview_refresh(content_id=content.pk)
    assert len(stored_files(media)) == 1

    site.routes["/cover.jpg"] = respond(b"gone", status=404, content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        assert link_preview_refresh(content_id=content.pk) == PreviewStatus.READY

    assert_ready_without_image(content, media)


def test_a_failed_refetch_keeps_the_previous_preview(
    personas, allow_site: Site, media: Path, django_capture_on_commit_callbacks
):
    site = allow_site
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    content = link_content(personas, site)
    link_preview_refresh(content_id=content.pk)
    content.refresh_from_db()
    name = content.preview_image.name

    site.routes["/article"] = respond(b"down", status=503, content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        assert link_preview_refresh(content_id=content.pk) == PreviewStatus.FAILED

    content.refresh_from_db()
    assert content.preview_image.name == name
    assert stored_files(media) == [media / name]


def test_an_image_fetched_for_a_link_replaced_meanwhile_is_discarded(
    personas, allow_site: Site, media: Path, monkeypatch: pytest.MonkeyPatch
):
    site = allow_site
    site.routes["/article"] = article("/cover.jpg")
    site.routes["/cover.jpg"] = respond(jpeg_with_metadata())
    content = link_content(personas, site)
    real_store = services._preview_image_store

    def store_then_edit(image_url: str, policy: Any) -> str:
        name = real_store(image_url, policy)
        assert name and (media / name).is_file()
        Content.objects.filter(pk=content.pk).update(
            link_url="https://example.org/new", preview_status=PreviewStatus.PENDING
        )
        return name

    monkeypatch.setattr(services, "_preview_image_store", store_then_edit)
    link_preview_refresh(content_id=content.pk)

    content.refresh_from_db()
    assert content.preview_status == PreviewStatus.PENDING  # the new link's fetch decides
    assert not content.preview_image
    assert stored_files(media) == []

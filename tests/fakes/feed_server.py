"""A loopback web server that serves RSS and Atom documents for the feed tests.

Each path answers a fixed document with its ``ETag`` and ``Last-Modified``, and honours
conditional requests the way real servers do: ``If-None-Match`` matching the ETag (or
``If-Modified-Since`` equal to Last-Modified when no ETag is set) gets a 304 without a
body. Every request is recorded with its headers, so tests can see what was sent, and a
path can be set to fail with a status."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Document:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = ""
    last_modified: str = ""
    status: int = 200


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    documents: dict[str, Document] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, document: Document) -> str:
        self.documents[path] = document
        return self.url(path)

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def start(self) -> FeedServer:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(Seen(self.path, dict(self.headers.items())))
                document = fake.documents.get(self.path)
                if document is None:
                    self.send_error(404)
                    return
                if document.status != 200:
                    self.send_response(document.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                match = bool(document.etag) and self.headers.get("If-None-Match") == document.etag
                if not document.etag and document.last_modified:
                    match = self.headers.get("If-Modified-Since") == document.last_modified
                if match:
                    self.send_response(304)
                    if document.etag:
                        self.send_header("ETag", document.etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", document.content_type)
                if document.etag:
                    self.send_header("ETag", document.etag)
                if document.last_modified:
                    self.send_header("Last-Modified", document.last_modified)
                self.send_header("Content-Length", str(len(document.body)))
                self.end_headers()
                self.wfile.write(document.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = False  # server_close() joins the handler threads
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="feed-server"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

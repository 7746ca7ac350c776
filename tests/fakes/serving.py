"""What every loopback fake shares: its address and life in a test's thread
(`ThreadServed`), and the command line that runs it as a program (`make run`)."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any, Self


class ThreadServed:
    """The address, start() and stop() of a fake whose HTTP server (`self.server`, built in
    its __init__) runs in a thread of the test process."""

    server: ThreadingHTTPServer
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def start(self) -> Self:
        # A short poll interval so that stop() returns at once (tests start one per test).
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_fake(
    *, description: str, port: int, demo_help: str, build: Callable[[str, int, bool], Any]
) -> None:
    """Parse --host, --port and --demo, build the fake with them and serve it until
    interrupted. `build` returns the fake (with `server` and `url`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--demo", action="store_true", help=demo_help)
    args = parser.parse_args()
    fake = build(args.host, args.port, args.demo)
    print(f"{description} on {fake.url}", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()

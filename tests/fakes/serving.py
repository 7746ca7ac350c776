"""Running a fake as a program (`make run`): the command line every fake shares."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


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

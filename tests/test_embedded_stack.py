"""Starts the embedded stack the way `make run` does — SQLite, the filesystem broker, no
PostgreSQL or Redis — in a temporary folder, and checks it end to end: /healthz, a login,
a task enqueued by a request and run by the worker, a periodic task fired by beat, and
Ctrl-C stopping every process it started."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.stack


def _wait_for(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the server is still starting
            last_error = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


def _children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited already.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _sign_in(base: str, email: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=5)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "login": email,
            "password": "portevoix-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": page.url},
        timeout=10,
    )
    return session, response


@pytest.fixture
def stack_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PORTEVOIX_ENV="development",
        DEBUG="false",  # as make run: what a user would see
        PORTEVOIX_VAR_DIR=str(tmp_path / "var"),
        HEARTBEAT_INTERVAL_SECONDS="2",
        PYTHONUNBUFFERED="1",
    )
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(
            [sys.executable, "manage.py", *step],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return env


def test_embedded_stack_runs_tasks_and_stops_cleanly(stack_env, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox_port, x_port, linkedin_port = free_port(), free_port(), free_port()
    log = (tmp_path / "stack.log").open("wb")
    stack = subprocess.Popen(
        [
            sys.executable,
            "bin/run-stack",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--fake-x-port",
            str(x_port),
            "--fake-linkedin-port",
            str(linkedin_port),
        ],
        cwd=ROOT,
        env=stack_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    children: set[int] = set()
    try:
        health = _wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=2).json(), timeout=90, what="/healthz"
        )
        assert health["database"] == "ok" and health["broker"] == "ok"
        children = _children_of(stack.pid)
        # The sandbox network, the fakes of X and LinkedIn, web, worker, beat.
        assert len(children) == 6

        session, response = _sign_in(base, "admin@demo.portevoix.test")
        assert response.status_code == 200
        assert (
            "Administration" in response.text
            or "Administration" in session.get(f"{base}/admin/", timeout=5).text
        )

        # A request enqueues the invitation email; the embedded worker sends it.
        invited = session.post(
            f"{base}/admin/invitations/",
            data={
                "email": "newcomer@example.test",
                "role": "employee",
                "language": "en",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/admin/invitations/"},
            timeout=10,
            allow_redirects=False,
        )
        assert invited.status_code == 302, invited.text[:2000]
        database = Path(stack_env["PORTEVOIX_VAR_DIR"]) / "portevoix.sqlite3"

        def invitation_sent() -> bool:
            with sqlite3.connect(database) as conn:
                row = conn.execute(
                    "SELECT sent_at FROM organizations_invitation WHERE email = ?",
                    ("newcomer@example.test",),
                ).fetchone()
            return bool(row and row[0])

        _wait_for(invitation_sent, timeout=60, what="the worker to send the invitation")

        # Beat fires the heartbeat every two seconds; the worker records it.
        _wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=2).json()["worker_heartbeat"],
            timeout=60,
            what="a periodic task to run",
        )

        # The demo manager's LinkedIn is connected to the sandbox network: a share made in
        # the page is posted by the worker, for real, over HTTP.
        manager, _page = _sign_in(base, "manager@demo.portevoix.test")
        feed = manager.get(f"{base}/feed/?page=2", timeout=10).text
        candidates = re.findall(r'href="/share/(\d+)/"', feed)
        assert candidates, "the feed offers content to share"
        shared = None
        for content_id in candidates:
            response = manager.post(
                f"{base}/share/{content_id}/",
                data={
                    "networks": "linkedin",
                    "when": "now",
                    "mode_linkedin": "api",
                    "csrfmiddlewaretoken": manager.cookies["csrftoken"],
                },
                headers={"Referer": f"{base}/share/{content_id}/"},
                timeout=10,
                allow_redirects=False,
            )
            if response.status_code == 302:
                shared = content_id
                break
        assert shared, "one of the feed's posts could be shared"

        def share_published() -> bool:
            with sqlite3.connect(database) as conn:
                row = conn.execute(
                    "SELECT s.status FROM advocacy_share s JOIN organizations_user u"
                    " ON u.id = s.user_id WHERE u.email = ? AND s.content_id = ?"
                    " AND s.network = 'linkedin'",
                    ("manager@demo.portevoix.test", int(shared)),
                ).fetchone()
            return bool(row and row[0] == "published")

        _wait_for(share_published, timeout=60, what="the worker to post to the sandbox network")
        posts = requests.get(f"http://127.0.0.1:{sandbox_port}/_fake/state", timeout=5).json()[
            "posts"
        ]
        assert len([p for p in posts if not p["deleted"]]) == 1
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
            for child in children:
                if _alive(child):
                    os.killpg(child, signal.SIGKILL)
            raise
        finally:
            log.close()
            # Shown by pytest when the test fails: what the stack printed last.
            lines = (tmp_path / "stack.log").read_text(errors="replace").splitlines()
            print("\n".join(lines[-80:]))
    output = (tmp_path / "stack.log").read_text(errors="replace")
    assert re.search(r"newcomer@example\.test", output), "the console email backend printed it"
    leftover = [pid for pid in children if _alive(pid)]
    assert leftover == [], f"processes left running after Ctrl-C: {leftover}"

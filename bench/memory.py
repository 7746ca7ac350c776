"""Memory after the runs: the RSS of each gunicorn web worker after the `make bench` HTTP
load, beside the Celery worker's RSS after the publishing benchmark.

    .venv/bin/python -m bench.memory [--scale small] [--seconds 10]

Serves Portevoix as bench.run does (gunicorn, 4 sync workers, PORTEVOIX_ENV=production,
the generated database `portevoix_bench_<scale>`, made or reused by bench.generate, Redis
database 12 under a prefix of the run's own), loads the same three paths with wrk (the
tracked redirect over the codes of published shares, the feed API with an employee's token,
the dashboard page with a manager's session), then reads VmRSS from /proc/<pid>/status of
the master and of every worker. The Celery figure is read from the publishing benchmark's
results (bench/results/publishing.json): run `python -m bench.publishing` first.

Targets (issue 14): web worker ≤ 150 MB RSS, Celery worker ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import generate
from bench.throwaway import ROOT, children_of, environment, redis_clean, rss_mb, wait_http

WEB_TARGET_MB = 150.0
CELERY_TARGET_MB = 200.0
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
# Several redirect codes in one wrk run, as bench.run does.
LUA = """
local paths = {%s}
local i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small", choices=sorted(generate.SCALES))
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--seconds", type=int, default=10, help="wrk time per path")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", default="memory", help="results file name")
    parser.add_argument(
        "--publishing", type=Path, default=None, help="publishing results (JSON) to report"
    )
    return parser.parse_args(argv)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(base: str, paths: list[str], headers: dict[str, str], seconds: int, workdir: Path,
         connections: int) -> str:  # fmt: skip
    script = workdir / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(path) for path in paths))
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, base], capture_output=True, text=True, check=True)  # noqa: S603
    return next((line for line in done.stdout.splitlines() if "Requests/sec" in line), "").strip()


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench.memory needs wrk (Debian: apt-get install wrk)")
    database_url = args.database_url or generate.default_url(args.scale)
    run_id = f"bench-memory-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="portevoix-memory-"))
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    served = dict(os.environ) | {
        "PORTEVOIX_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": generate.BENCH_SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": generate.BENCH_FIELD_ENCRYPTION_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BEHIND_PROXY": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "CACHE_KEY_PREFIX": run_id,
        "CLICK_STREAM_KEY": f"{run_id}:clicks",
        "LEADERBOARD_KEY_PREFIX": f"{run_id}:leaderboard",
        "RATE_LIMIT_KEY_PREFIX": f"{run_id}:ratelimit",
        "PORTEVOIX_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }
    manifest_path = workdir / "manifest.json"
    subprocess.run(  # noqa: S603 - our interpreter and module
        [sys.executable, "-m", "bench.generate", "--scale", args.scale, "--database-url",
         database_url, "--reuse", "--manifest", str(manifest_path)],
        # Not `served`: the generator refuses to write the database named in DATABASE_URL.
        check=True, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip
    manifest = json.loads(manifest_path.read_text())
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        check=True, cwd=ROOT, env=served,
    )  # fmt: skip
    prepared = json.loads(
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.prepare", json.dumps(manifest["accounts"])],
            check=True, cwd=ROOT, env=served, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    port = _free_port()
    log = (workdir / "gunicorn.log").open("wb")
    master = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class",
         "sync", "--timeout", "120", "--bind", f"127.0.0.1:{port}", "config.wsgi:application"],
        cwd=ROOT, env=served, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", master, timeout=90)
        time.sleep(1)
        workers = children_of(master.pid)
        at_start = {pid: rss_mb(pid) for pid in workers}
        common = {"User-Agent": BROWSER, "X-Forwarded-Proto": "https"}
        loads = {
            "redirect": ([f"/s/{code}" for code in prepared["codes"]], {}),
            "feed": (
                ["/api/v1/feed/"],
                {"Authorization": f"Token {prepared['token']}", "Accept": "application/json"},
            ),
            "dashboard": (["/dashboards/"], {"Cookie": prepared["session_cookie"]}),
        }
        rates = {}
        for name, (paths, headers) in loads.items():
            print(f"loading {name} for {args.seconds} s", flush=True)
            rates[name] = _wrk(
                base, paths, common | headers, args.seconds, workdir, args.connections
            )
        after = {pid: rss_mb(pid) for pid in children_of(master.pid)}
        master_rss = rss_mb(master.pid)
    finally:
        if master.poll() is None:
            os.killpg(master.pid, signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(master.pid, signal.SIGKILL)
            master.wait(timeout=10)
        log.close()
        redis_clean(args.redis_url, run_id)
        shutil.rmtree(workdir, ignore_errors=True)
    web_max = max((value for value in after.values() if value is not None), default=0.0)
    publishing_path = args.publishing or args.results / "publishing.json"
    celery: dict[str, Any] = {}
    if publishing_path.exists():
        publishing = json.loads(publishing_path.read_text())
        celery = {
            "rss_mb": publishing.get("celery_worker_rss_mb", {}),
            "after": f"{publishing['params']['shares']} shares, --pool "
            f"{publishing['params']['pool']} --concurrency {publishing['params']['concurrency']}",
            "when": publishing.get("when"),
        }
    celery_max = max((v for v in celery.get("rss_mb", {}).values() if v is not None), default=None)
    results = {
        "benchmark": "memory",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "scale": args.scale,
        "web": {
            "served": f"gunicorn, {args.workers} sync workers, PORTEVOIX_ENV=production",
            "load": {
                name: f"wrk -t2 -c{args.connections} {args.seconds} s: {rate}"
                for name, rate in rates.items()
            },
            "worker_rss_mb_at_start": at_start,
            "worker_rss_mb_after": after,
            "master_rss_mb": master_rss,
            "max_worker_rss_mb": web_max,
            "target_mb": WEB_TARGET_MB,
            "meets_target": web_max <= WEB_TARGET_MB,
        },
        "celery": celery
        | {
            "max_rss_mb": celery_max,
            "target_mb": CELERY_TARGET_MB,
            "meets_target": celery_max is not None and celery_max <= CELERY_TARGET_MB,
        },
        "environment": environment(),
    }
    _write(results, args.results, args.name)
    return results


def _write(results: dict[str, Any], folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    web, celery = results["web"], results["celery"]
    lines = [
        "# Memory after the runs",
        "",
        f"- when: {results['when']}; {results['environment']['machine']}; load average "
        f"{results['environment']['load_average']}; scale {results['scale']}",
        f"- web: {web['served']}; then " + "; ".join(f"{k}: {v}" for k, v in web["load"].items()),
        f"- Celery: after the publishing benchmark ({celery.get('after', 'not run')})",
        "",
        "| process | RSS (MB) | target | |",
        "|---|---:|---:|---|",
        f"| gunicorn workers at start | {', '.join(str(v) for v in web['worker_rss_mb_at_start'].values())} | | |",
        f"| gunicorn workers after the load | {', '.join(str(v) for v in web['worker_rss_mb_after'].values())} | ≤ {web['target_mb']:g} | {'met' if web['meets_target'] else 'missed'} |",
        f"| gunicorn master | {web['master_rss_mb']} | | |",
        f"| Celery worker after publishing | {celery['max_rss_mb']} | ≤ {celery['target_mb']:g} | {'met' if celery['meets_target'] else 'missed'} |",
    ]
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    results = run()
    return 0 if results["web"]["meets_target"] and results["celery"]["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

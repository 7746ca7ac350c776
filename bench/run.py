"""`make bench`: Portevoix and a bare Django floor, served the same way, loaded over real
HTTP with wrk, side by side in one run.

    BENCH_SCALE=small|medium|full .venv/bin/python -m bench.run

1. Generates the scale's database (portevoix_bench_<scale>) or reuses it when it already
   holds that scale (bench.generate --reuse).
2. Starts Portevoix under gunicorn (production settings, 4 sync workers) on a free port,
   against that database and Redis, and the bare app of bench/baseline the same way.
3. Loads each path with wrk (`-t2 -c32`, browser User-Agent, X-Forwarded-Proto: https as
   the TLS proxy would send): /s/<code> over 1,000 tracked links, /api/v1/feed/ with an
   employee's API token, the feed page with the employee's session (floor: a bare
   logged-in page), the dashboard page with a manager's session.
4. Writes bench/results/<scale>.json and <scale>.md (req/s, latency percentiles, ratio to
   the floor, the issue's target) and stops every process it started, by its own id.

Environment: BENCH_SCALE (small), BENCH_DURATION seconds per measurement (10),
BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_WORKERS (4), BENCH_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/portevoix_bench_<scale>), BENCH_REDIS_URL
(redis://127.0.0.1:6379/12), BENCH_RESULTS (bench/results).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import generate

ROOT = Path(__file__).resolve().parent.parent
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
# The targets (ratio of Portevoix's req/s to the floor's).
TARGETS = {"redirect": 0.6, "feed": 0.15, "feed_page": 0.1}
# The query budget per request (the warm figure counted by bench.prepare).
QUERY_TARGETS = {"feed": 8}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or int(value) < 1:
        raise SystemExit(f"{name}={value!r} must be a positive whole number")
    return int(value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Every process this run starts, each in a session (process group) of its own, so
    that stopping it by its id stops its workers too."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
        handle = log.open("ab")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command, env=env, cwd=ROOT, stdout=handle, stderr=handle, start_new_session=True
        )
        handle.close()
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.started.clear()


def _wait_ready(url: str, process: subprocess.Popen, log: Path, deadline: float = 60) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {deadline} s; see {log}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _probe(url: str, headers: dict[str, str]) -> tuple[int, int]:
    """Status and body size of one request (redirects not followed)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=60) as answer:
            return answer.status, len(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, len(error.read())


LUA = """
local paths = {%(paths)s}
local counter = 0
%(headers)s
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "errors_connect": %%d, ' ..
    '"errors_read": %%d, "errors_write": %%d, "errors_status": %%d, "errors_timeout": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def _wrk(
    base: str,
    paths: list[str],
    headers: dict[str, str],
    *,
    seconds: int,
    threads: int,
    connections: int,
    workdir: Path,
) -> dict[str, Any]:
    script = workdir / "load.lua"
    script.write_text(
        LUA
        % {
            "paths": ", ".join(json.dumps(path) for path in paths),
            "headers": "\n".join(
                f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}"
                for name, value in headers.items()
            ),
        }
    )
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
        "-s", str(script), base,
    ]  # fmt: skip
    output = subprocess.run(  # noqa: S603 - wrk with our arguments
        command, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCHJSON "))
    figures = json.loads(line.removeprefix("BENCHJSON "))
    seconds_run = figures["duration_us"] / 1e6
    errors = sum(value for key, value in figures.items() if key.startswith("errors_"))
    return {
        "requests": figures["requests"],
        "seconds": round(seconds_run, 2),
        "req_per_s": round(figures["requests"] / seconds_run, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p95_ms": round(figures["p95_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 2),
        "errors": errors,
        "non_2xx_3xx": figures["errors_status"],
    }


def _manifest(scale: str, database_url: str, env: dict[str, str], workdir: Path) -> dict:
    path = workdir / "manifest.json"
    command = [
        sys.executable, "-m", "bench.generate", "--scale", scale, "--database-url",
        database_url, "--reuse", "--manifest", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT, env=env)  # noqa: S603
    return json.loads(path.read_text())


def _versions(database_url: str, redis_url: str) -> dict[str, str]:
    import django
    import redis

    from bench.databases import Target

    connection = Target.parse(database_url).connect()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]  # noqa: S607
    gunicorn = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres.split()[0],
        "redis": redis.Redis.from_url(redis_url).info("server")["redis_version"],
        "gunicorn": gunicorn.removeprefix("gunicorn ").strip("() version"),
        "wrk": wrk.split(" [")[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }


def _stream_length(redis_url: str, key: str) -> int:
    import redis

    return int(redis.Redis.from_url(redis_url).xlen(key))


def _clean_redis(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "make bench needs wrk (Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk)"
        )
    scale = os.environ.get("BENCH_SCALE", "small").strip() or "small"
    if scale not in generate.SCALES:
        raise SystemExit(f"BENCH_SCALE={scale!r} must be one of {', '.join(generate.SCALES)}")
    seconds = _env_int("BENCH_DURATION", 10)
    warm_up = min(2, seconds)
    connections = _env_int("BENCH_CONNECTIONS", 32)
    threads = _env_int("BENCH_THREADS", 2)
    workers = _env_int("BENCH_WORKERS", 4)
    database_url = os.environ.get("BENCH_DATABASE_URL") or generate.default_url(scale)
    redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/12"
    results_dir = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results")
    run_id = f"bench-{os.getpid()}"
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)

    workdir = Path(tempfile.mkdtemp(prefix="portevoix-bench-"))
    started = time.perf_counter()
    manifest = _manifest(scale, database_url, dict(os.environ), workdir)
    anchor = datetime.fromisoformat(manifest["params"]["anchor"])
    served = dict(os.environ) | {
        "PORTEVOIX_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": generate.BENCH_SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": generate.BENCH_FIELD_ENCRYPTION_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BEHIND_PROXY": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": run_id,
        "CLICK_STREAM_KEY": f"{run_id}:clicks",
        "LEADERBOARD_KEY_PREFIX": f"{run_id}:leaderboard",
        "RATE_LIMIT_KEY_PREFIX": f"{run_id}:ratelimit",
        "PORTEVOIX_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }
    first, last = (anchor - timedelta(days=30)).date(), (anchor - timedelta(days=1)).date()
    dashboard = f"/dashboards/?period=custom&start={first}&end={last}"
    print("collecting static files (production storage needs the manifest)", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        check=True, cwd=ROOT, env=served,
    )  # fmt: skip
    prepared = json.loads(
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.prepare", json.dumps(manifest["accounts"]), dashboard],
            check=True,
            cwd=ROOT,
            env=served,
            capture_output=True,
            text=True,
        ).stdout
    )
    load_before = os.getloadavg()
    processes = Processes()
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    try:
        ports = {"portevoix": _free_port(), "baseline": _free_port()}
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                    "--worker-class", "sync", "--timeout", "120"]  # fmt: skip
        logs = {name: workdir / f"{name}.log" for name in ports}
        app = processes.start(
            [*gunicorn, "--bind", f"127.0.0.1:{ports['portevoix']}", "config.wsgi:application"],
            env=served,
            log=logs["portevoix"],
        )
        floor = processes.start(
            [*gunicorn, "--bind", f"127.0.0.1:{ports['baseline']}",
             "bench.baseline.wsgi:application"],
            env=served | {"DJANGO_SETTINGS_MODULE": "bench.baseline.settings"},
            log=logs["baseline"],
        )  # fmt: skip
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        _wait_ready(f"{bases['portevoix']}/healthz", app, logs["portevoix"])
        _wait_ready(f"{bases['baseline']}/healthz", floor, logs["baseline"])
        print(f"Portevoix on {bases['portevoix']}, baseline on {bases['baseline']}", flush=True)

        common = {"User-Agent": BROWSER, "X-Forwarded-Proto": "https"}
        redirects = [f"/s/{code}" for code in prepared["codes"]]
        scenarios = [
            # name, path(s), extra headers, expected status, floor?
            ("redirect", redirects, {}, 302, True),
            ("feed", ["/api/v1/feed/"], {"Authorization": f"Token {prepared['token']}",
                                          "Accept": "application/json"}, 200, True),
            ("feed_page", ["/feed/"], {"Cookie": prepared["employee_session_cookie"],
                                       "Accept": "text/html"}, 200, True),
            ("dashboard", [dashboard], {"Cookie": prepared["session_cookie"]}, 200, False),
        ]  # fmt: skip
        wanted = [n.strip() for n in os.environ.get("BENCH_SCENARIOS", "").split(",") if n.strip()]
        scenarios = [scenario for scenario in scenarios if not wanted or scenario[0] in wanted]
        measured: dict[str, Any] = {}
        for name, paths, headers, status, with_floor in scenarios:
            queued_before = _stream_length(redis_url, served["CLICK_STREAM_KEY"])
            answered = 0
            sides = ["portevoix", "baseline"] if with_floor else ["portevoix"]
            row: dict[str, Any] = {"path": paths[0] if len(paths) == 1 else "/s/<code>"}
            row["queries"] = prepared["queries"].get(name)
            for side in sides:
                got, size = _probe(bases[side] + paths[0], common | headers)
                if got != status:
                    raise SystemExit(
                        f"{side} answered {got} to {paths[0]} (expected {status}); see {logs[side]}"
                    )
                # Warm the workers (connections, caches), then measure.
                warm = _wrk(bases[side], paths, common | headers, seconds=warm_up,
                            threads=threads, connections=connections, workdir=workdir)  # fmt: skip
                print(f"measuring {name} on {side} for {seconds} s", flush=True)
                figures = _wrk(bases[side], paths, common | headers, seconds=seconds,
                               threads=threads, connections=connections, workdir=workdir)  # fmt: skip
                figures["body_bytes"] = size
                row[side] = figures
                if side == "portevoix":
                    answered = 1 + warm["requests"] + figures["requests"]
            if name == "redirect":
                # Every redirect wrk saw answered is a browser's: each must have queued one
                # click. wrk does not count the answers still in flight when it stops (at
                # most one per connection per run), so the stream may hold a few more.
                queued = _stream_length(redis_url, served["CLICK_STREAM_KEY"]) - queued_before
                row["clicks"] = {
                    "redirects_answered": answered,
                    "clicks_queued": queued,
                    "lost": max(0, answered - queued),
                    "in_flight_at_stop_at_most": 2 * connections,
                }
            if with_floor:
                ratio = row["portevoix"]["req_per_s"] / row["baseline"]["req_per_s"]
                row["ratio"] = round(ratio, 3)
                row["target"] = TARGETS[name]
                row["meets_target"] = ratio >= TARGETS[name]
            measured[name] = row
    finally:
        processes.stop_all()
        with contextlib.suppress(Exception):
            _clean_redis(redis_url, run_id)
        shutil.rmtree(workdir, ignore_errors=True)

    results = {
        "scale": scale,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load": {
            "tool": "wrk",
            "threads": threads,
            "connections": connections,
            "seconds": seconds,
            "warm_up_seconds": warm_up,
        },
        "served": f"gunicorn, {workers} sync workers, PORTEVOIX_ENV=production, no Celery",
        "environment": _versions(database_url, redis_url)
        | {
            # Other work on the machine moves every figure: ratios from one run hold better.
            "load_average_before": [round(value, 2) for value in load_before],
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
        },
        "data": {
            "database": database_url.rsplit("/", 1)[-1],
            "anchor": manifest["params"]["anchor"],
            "seed": manifest["params"]["seed"],
            "generated_in_seconds": manifest["seconds"],
            "rows": manifest["counts"],
            "bot_requests_not_stored": manifest["bot_requests"],
        },
        "scenarios": measured,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    _write(results, results_dir)
    return 0


def _write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    scale = results["scale"]
    (out / f"{scale}.json").write_text(json.dumps(results, indent=2) + "\n")
    env, load, rows = results["environment"], results["load"], results["data"]["rows"]
    lines = [
        f"# `make bench` at the {scale} scale",
        "",
        f"- when: {results['when']}; machine: {env['machine']}; load average (1, 5, 15 min) "
        f"{env['load_average_before']} before, {env['load_average_after']} after",
        f"- served: {results['served']}; Python {env['python']}, Django {env['django']}, "
        f"gunicorn {env['gunicorn']}, PostgreSQL {env['postgresql']}, Redis {env['redis']}",
        f"- load: {env['wrk']}, -t{load['threads']} -c{load['connections']}, "
        f"{load['seconds']} s per measurement after {load['warm_up_seconds']} s of warm-up, "
        "on the same machine",
        f"- data (21 organisations): {rows['organizations_user']:,} people, "
        f"{rows['content_content']:,} contents, "
        f"{rows['advocacy_share']:,} shares, {rows['advocacy_click']:,} clicks, "
        f"{rows['challenges_pointentry']:,} ledger entries, "
        f"{rows['analytics_dailyrollup']:,} rollup rows (anchor {results['data']['anchor'][:10]})",
        "",
        "| path | Portevoix req/s | p50 ms | p99 ms | queries (cold/warm) | floor req/s "
        "| floor p50 ms | floor p99 ms | ratio | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floors = {
        "redirect": "redirect after one SELECT",
        "feed": "JsonResponse of 20 feed-sized items",
        "feed_page": "a logged-in page (session and user read, a small template extending a "
        "minimal base)",
    }
    for name, row in results["scenarios"].items():
        mine = row["portevoix"]
        label = {
            "redirect": "`/s/<code>` tracked redirect",
            "feed": "`GET /api/v1/feed/` (employee token)",
            "feed_page": "`/feed/` page (employee session)",
            "dashboard": "dashboard page, 30 days (manager session)",
        }[name]
        queries = row.get("queries") or {}
        counted = f"{queries['cold']}/{queries['warm']}" if queries else "–"
        if "baseline" in row:
            floor = row["baseline"]
            verdict = "met" if row["meets_target"] else "missed"
            target = f"≥ {row['target']}× ({verdict})"
            if name in QUERY_TARGETS and queries:
                met = "met" if queries["warm"] <= QUERY_TARGETS[name] else "missed"
                target += f"; ≤ {QUERY_TARGETS[name]} queries ({met})"
            lines.append(
                f"| {label} | {mine['req_per_s']:,} | {mine['p50_ms']} | {mine['p99_ms']} | "
                f"{counted} | {floor['req_per_s']:,} | {floor['p50_ms']} | {floor['p99_ms']} | "
                f"{row['ratio']}× | {target} |"
            )
        else:
            lines.append(
                f"| {label} | {mine['req_per_s']:,} | {mine['p50_ms']} | {mine['p99_ms']} | "
                f"{counted} | – | – | – | – | page p95 ≤ 150 ms at full scale "
                f"(p95 here: {mine['p95_ms']} ms) |"
            )
    lines += [
        "",
        "Floors (bench/baseline, served the same way): "
        + "; ".join(f"{name}: {what}" for name, what in floors.items())
        + ". Errors or non-2xx/3xx answers during the load: "
        + ", ".join(
            f"{name} {row['portevoix']['errors']}" for name, row in results["scenarios"].items()
        )
        + ".",
    ]
    clicks = results["scenarios"].get("redirect", {}).get("clicks")
    if clicks:
        lines += [
            "",
            f"Clicks: {clicks['redirects_answered']:,} browser redirects answered, "
            f"{clicks['clicks_queued']:,} click events queued in the Redis stream, "
            f"{clicks['lost']} lost (wrk does not count the at most "
            f"{clicks['in_flight_at_stop_at_most']} answers in flight when it stops). "
            "Queries: one request in-process to each path, the first (cold per-process caches) "
            "and a second.",
        ]
    (out / f"{scale}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

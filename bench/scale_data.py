"""A generated database of one scale for the benchmarks that read it in process
(bench.rollups, bench.dashboards): found or generated, then Django set up against it."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import databases, generate


def open_scale(scale: str, database_url: str | None, *, log: Any = print) -> dict[str, Any]:
    """Use the database when it holds a finished generation of `scale` (whatever the
    generator version: regenerating medium takes minutes), else generate it. Returns the
    manifest; Django is set up against the database afterwards."""
    url = database_url or generate.default_url(scale)
    target = databases.Target.parse(url)
    manifest = databases.generated_manifest(target)
    if not manifest or manifest.get("params", {}).get("scale") != scale:
        manifest = generate.generate(
            database_url=url,
            scale=scale,
            reuse=True,
            app_database_url=os.environ.get("DATABASE_URL"),
            log=log,
        )
    generate._setup_django(url)
    return manifest


def environment() -> dict[str, Any]:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def write_results(
    out: Path, name: str, scale: str, result: dict[str, Any], render: Callable[[dict], str]
) -> str:
    """bench/results/<name>.json keeps one entry per scale (the latest run of each);
    <name>.md is rewritten from every scale held."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    held: dict[str, Any] = {}
    if path.exists():
        try:
            held = json.loads(path.read_text())
        except ValueError:
            held = {}
    scales = held.get("scales", {}) if isinstance(held.get("scales"), dict) else {}
    scales[scale] = result
    order = ["tiny", "small", "medium", "full"]
    scales = dict(sorted(scales.items(), key=lambda item: order.index(item[0])))
    path.write_text(json.dumps({"scales": scales}, indent=2, default=str) + "\n")
    text = render(scales)
    (out / f"{name}.md").write_text(text)
    return text

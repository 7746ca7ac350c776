"""The house rules that a reviewer would otherwise check by hand."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = [
    "organizations",
    "notifications",
    "content",
    "advocacy",
    "challenges",
    "analytics",
    "archive",
    # Reaching people outside the app: each reads the apps below, none reads another.
    "digests",
    "messaging",
    "nudges",
    # SCIM provisioning deprovisions a person across the apps above.
    "provisioning",
    # Single sign-on per organisation (SAML, OpenID Connect): signs people in, JIT accounts.
    "sso",
    # Two-factor sign-in: the policy, its enforcement and an admin's reset of a lost device.
    "twofactor",
    # A person's data reads every app above.
    "privacy",
    "config",
]


def test_no_lower_app_imports_a_higher_one():
    offences = []
    for low_index, low in enumerate(LAYERS):
        for path in (ROOT / low).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            for high in LAYERS[low_index + 1 :]:
                if re.search(rf"^\s*(from|import) {high}(\.| )", text, re.MULTILINE):
                    offences.append(f"{path.relative_to(ROOT)} imports {high}")
    assert offences == []


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_file_is_valid():
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "validation-only",
            "FIELD_ENCRYPTION_KEYS": "validation-only",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "--services"],
        cwd=ROOT,
        env={
            **os.environ,
            "SECRET_KEY": "validation-only",
            "FIELD_ENCRYPTION_KEYS": "validation-only",
        },
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)


def test_every_long_running_compose_service_has_a_healthcheck():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in compose["services"][name], name


def test_vendored_assets_are_present():
    for asset in (
        "vendor/htmx/htmx.min.js",
        "vendor/chartjs/chart.umd.min.js",
        "vendor/pico/pico.min.css",
        "css/app.css",
        "js/app.js",
    ):
        assert (ROOT / "static" / asset).is_file(), asset

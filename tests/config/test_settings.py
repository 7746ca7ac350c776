"""Settings fail fast on bad values, and production mode passes `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_check(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "PORTEVOIX_ENV",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_check_deploy_is_clean(tmp_path):
    result = _run_check(
        {
            "PORTEVOIX_ENV": "production",
            "SECRET_KEY": "q7Z!v0rN3w@x8Lk1Fz#pT6bY2mJ9sD4hG5cR0aE7uW1iO3yQ8nB",
            "FIELD_ENCRYPTION_KEYS": FERNET_KEY,
            "ALLOWED_HOSTS": "portevoix.example.org",
            "PORTEVOIX_VAR_DIR": str(tmp_path),
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


FERNET_KEY = "Yq4bAFu3ItdbKNCSX0e4H9QM9w8eqmP4mW_36WyBSpI="


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (None, "FIELD_ENCRYPTION_KEYS is required"),
        ("not-a-key", "is not a Fernet key"),
    ],
)
def test_production_mode_requires_token_encryption_keys(tmp_path, keys, message):
    env = {
        "PORTEVOIX_ENV": "production",
        "SECRET_KEY": "q7Z!v0rN3w@x8Lk1Fz#pT6bY2mJ9sD4hG5cR0aE7uW1iO3yQ8nB",
        "ALLOWED_HOSTS": "portevoix.example.org",
        "PORTEVOIX_VAR_DIR": str(tmp_path),
    }
    if keys:
        env["FIELD_ENCRYPTION_KEYS"] = keys
    result = _run_check(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_mode_requires_secret_key(tmp_path):
    result = _run_check({"PORTEVOIX_ENV": "production", "PORTEVOIX_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_mode_refuses_debug(tmp_path):
    result = _run_check(
        {
            "PORTEVOIX_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "DEBUG": "true",
            "PORTEVOIX_VAR_DIR": str(tmp_path),
        }
    )
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("LOGIN_FAILURE_LIMIT", "five", "is not an integer"),
        ("LOGIN_FAILURE_LIMIT", "0", "must be at least 1"),
        ("PORTEVOIX_ENV", "staging", "must be one of"),
        ("LINK_PREVIEW_EXTRA_PORTS", "8080,http", "is not an integer"),
        ("DATABASE_URL", "db.example.org/portevoix", "is not a URL"),
    ],
)
def test_malformed_values_stop_the_process(tmp_path, name, value, message):
    result = _run_check({name: value, "PORTEVOIX_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert message in result.stderr


def test_secret_from_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-from-a-file-" + "k" * 50 + "\n")
    env = {"SECRET_KEY_FILE": str(secret), "PORTEVOIX_VAR_DIR": str(tmp_path)}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "s3cr3t-from-a-file-" + "k" * 50


def test_production_headers(client, settings, db):
    # The security middleware's headers as they are sent in production.
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/", secure=True)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "max-age=31536000" in response["Strict-Transport-Security"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"

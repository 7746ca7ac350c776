"""Settings of the bare baseline: no apps but the sessions' model (the logged-in page reads
Portevoix's session table), one template folder; the database of the benchmark
(DATABASE_URL) with persistent connections, as Portevoix's production settings."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "portevoix-bench-baseline-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.baseline.urls"
WSGI_APPLICATION = "bench.baseline.wsgi.application"
# Only the session model: no middleware reads the session, the page view does.
INSTALLED_APPS: list[str] = ["django.contrib.sessions"]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
    )
}
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

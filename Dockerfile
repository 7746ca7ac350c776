# Portevoix production image. One image runs every process: the web app (the default
# command), the Celery worker, Celery beat and the one-shot migration; docker-compose.yml
# picks the command of each. See docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PORTEVOIX_ENV=production \
    PORTEVOIX_VAR_DIR=/app/var

WORKDIR /app

RUN groupadd --system --gid 1000 portevoix \
 && useradd --system --uid 1000 --gid portevoix --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portevoix

# Dependencies first, so that a code change does not reinstall them. The project is not
# installed as a package: its [project] dependencies are read from pyproject.toml and handed
# to pip as separate arguments (no shell word-splitting of version specifiers).
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', *deps]) \
if deps else 'pyproject.toml lists no [project] dependencies')" \
 && python -m pip check

# The code stays owned by root: the app user can read it, not change it.
COPY . .

# Translations and static files are built into the image. Production settings refuse to
# start without SECRET_KEY, so these two commands get a dummy that exists only in this
# build step (it is not in the image's environment). The filesystem broker and file cache
# that the settings fall back to without REDIS_URL are not kept.
RUN export SECRET_KEY=build-only-not-a-secret ALLOWED_HOSTS=localhost \
 && python manage.py compilemessages_portable \
 && python manage.py collectstatic --noinput \
 && rm -rf /app/var/broker /app/var/cache \
 && mkdir -p /app/var/media \
 && chown portevoix:portevoix /app/var /app/var/media

# /app/var (writable: beat's schedule, media) belongs to the app user; /app/var/staticfiles
# stays read-only. A new named volume mounted on /app/var/media inherits that ownership.
USER portevoix

EXPOSE 8000

# /healthz answers 200 when the database and the broker answer, 503 otherwise. The request
# goes to 127.0.0.1 with a Host header that ALLOWED_HOSTS accepts (localhost when listed,
# otherwise the first entry); /healthz is exempt from the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; \
hosts = [h.strip() for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip()]; \
host = 'localhost' if not hosts or 'localhost' in hosts or '*' in hosts else hosts[0].lstrip('.'); \
urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=8)"

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

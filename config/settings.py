"""Portevoix settings: one module, every value from the environment.

The helpers below parse environment variables into typed values and stop the process
with a clear message when a value is malformed, so a typo never becomes a silent default.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    """Read NAME, or the content of the file named by NAME_FILE (for container secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int_list(name: str) -> list[int]:
    numbers = []
    for item in env_list(name):
        if not item.isdecimal():
            raise ImproperlyConfigured(f"{name} has {item!r}, which is not an integer")
        numbers.append(int(item))
    return numbers


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {sorted(choices)}")
    return value


def env_url(name: str, default: str = "") -> str:
    value = env_str(name, default).strip()
    if value and not urlparse(value).scheme:
        raise ImproperlyConfigured(f"{name}={value!r} is not a URL (scheme missing)")
    return value


# --- Mode -------------------------------------------------------------------------------
# development: make run; production: real deployment (SECRET_KEY required); test: pytest.
ENVIRONMENT = env_choice("PORTEVOIX_ENV", "development", {"development", "production", "test"})
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PORTEVOIX_ENV=production")

VAR_DIR = Path(env_str("PORTEVOIX_VAR_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when PORTEVOIX_ENV=production")
    SECRET_KEY = "insecure-development-key-not-for-production-use-" + "x" * 20

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # Two-factor sign-in: authenticator apps, security keys and passkeys, recovery codes.
    "allauth.mfa",
    # Employees connect their X and LinkedIn accounts through these (connect mode only:
    # they never sign in with them). advocacy/networks/<name>/ holds the rest.
    "allauth.socialaccount.providers.twitter_oauth2",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "csp",
    "django_htmx",
    "organizations",
    "notifications",
    "content",
    "advocacy",
    "challenges",
    "analytics",
    # Everything shared under a person's name, kept for the regulator (issue 17).
    "archive",
    # Reaching people outside the app: email digests, Slack and Teams channels, nudges.
    "digests",
    "messaging",
    "nudges",
    # Identity providers create, update and deactivate people (SCIM 2.0, issue 15).
    "provisioning",
    # Single sign-on per organisation, SAML 2.0 and OpenID Connect (issue 15).
    "sso",
    "allauth.socialaccount.providers.saml",
    # Two-factor sign-in: the organisation's policy, enforcement, an admin's reset (issue 15).
    "twofactor",
    # A person's data: their export, erasure, the privacy page and the retention job.
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # /s/<code> answered here, without the session and everything after it (advocacy.lean).
    "advocacy.lean.TrackedLinkMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The organisation a person in several works in for this request (organizations.memberships).
    "organizations.middleware.ActiveOrganizationMiddleware",
    "organizations.middleware.UserLanguageMiddleware",
    # After the language is known: the refusal speaks the person's language.
    "organizations.middleware.ControlCharacterGuardMiddleware",
    # Before any view (and CSRF's check) reads the body: oversized uploads get a 413.
    "organizations.uploads.UploadLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After allauth's: a person the organisation requires a second factor of sets one up first.
    "twofactor.middleware.TwoFactorRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.shell",
                "notifications.context_processors.bell",
                "advocacy.context_processors.sharing_pause",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------


def database_conn_max_age(argv: Sequence[str], configured: int) -> int:
    """How long (seconds) this process keeps a database connection for its next request.
    gunicorn and the Celery worker serve from a fixed set of threads, each reusing its own
    connection. runserver (and testserver) start a thread per request, and a finished
    thread's connection is never reused nor closed, until PostgreSQL answers "too many
    clients": there every connection is closed at the end of its request."""
    return 0 if list(argv[1:2]) in (["runserver"], ["testserver"]) else configured


DATABASE_URL = env_url("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=database_conn_max_age(
                sys.argv, env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
            ),
            # A kept connection is checked before a request or task reuses it: one the
            # server dropped meanwhile (restart, failover, pg_terminate_backend) is
            # replaced instead of failing the request.
            conn_health_checks=True,
        )
    }
    # A PostgreSQL read replica for the dashboards and exports (config/db_router.py);
    # off until configured. Only the analytics selectors that ask for it read there.
    DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL")
    if DATABASE_REPLICA_URL:
        DATABASES["replica"] = dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        )
        # In a test run the replica is the test database itself (no second copy).
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
        DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
else:
    # Embedded default: SQLite shared by the web process and the worker. WAL, a busy
    # timeout and IMMEDIATE transactions keep concurrent writers from "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portevoix.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portevoix")
            # Parallel test workers share one Redis database, and each test starts by
            # emptying the cache: each worker (and the processes its tests start, which
            # inherit the variable) keeps its own keys.
            + (
                f"-{os.environ['PYTEST_XDIST_WORKER']}"
                if ENVIRONMENT == "test" and os.environ.get("PYTEST_XDIST_WORKER")
                else ""
            ),
        }
    }
else:
    # A file cache is shared by the web process and the worker, unlike local memory.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Tasks routed to one queue per kind (publishing, metrics, notifications, rollups); every
# worker must then be started with -Q (docs/operations.md, "Scaling out").
CELERY_QUEUES_BY_KIND = env_bool("CELERY_QUEUES_BY_KIND", False)
# Longest wait a task may be held in the broker before it runs; the Redis visibility
# timeout must be longer, or Redis redelivers a message a worker still holds.
CELERY_MAX_TASK_WAIT_SECONDS = 15 * 60
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=10)
# How long connecting to the Redis broker may take. A request that enqueues a task waits this
# long at most when the broker is down (the row is the outbox: the sweeper sends it later);
# a worker simply tries again.
CELERY_BROKER_CONNECT_TIMEOUT = env_int("CELERY_BROKER_CONNECT_TIMEOUT_MS", 500, minimum=10) / 1000
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 60, minimum=1)

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "organizations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Before any password is checked: no password sign-in where SSO is required.
    "sso.backends.SsoEnforcementBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# People join through an invitation from their organisation, never by open sign-up.
# sso's subclass refuses passwords where an organisation requires single sign-on.
ACCOUNT_ADAPTER = "sso.adapter.SsoAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Lockout is django-axes' job (per account + IP); allauth's own limits stay as a backstop.
ACCOUNT_RATE_LIMITS = {"login_failed": "50/m/ip,20/5m/key"}

# Network accounts are connected, never used to sign in; allauth keeps the link, our
# SocialAccount keeps the tokens, encrypted (allauth would store them in clear).
# Organisations' identity providers (sso/) sign people in; network providers stay connect-only.
SOCIALACCOUNT_ADAPTER = "sso.adapter.SsoSocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("NETWORK_READ_TIMEOUT", 20, minimum=1)
SOCIALACCOUNT_PROVIDERS = {
    # X's base URLs are settings (tests and the demo use a fake): our provider class reads
    # them where allauth's hard-codes them.
    "twitter_oauth2": {"provider_class": "advocacy.networks.x.provider.XProvider"},
    # Single sign-on (sso.providers): a nonce for OpenID Connect, replay refusal for SAML.
    "openid_connect": {"provider_class": "sso.providers.SsoOpenIDConnectProvider"},
    "saml": {"provider_class": "sso.providers.SsoSAMLProvider"},
}
# --- Single sign-on (sso/) ---
# Tolerance for the identity provider's clock on a SAML assertion's Conditions
# (NotBefore, NotOnOrAfter); at most 600 s, a larger value is cut down to it.
SSO_SAML_CLOCK_SKEW_SECONDS = min(env_int("SSO_SAML_CLOCK_SKEW_SECONDS", 120, minimum=0), 600)
# Identity provider addresses over plain http (on loopback): development and tests only.
SSO_ALLOW_INSECURE_URLS = env_bool("SSO_ALLOW_INSECURE_URLS", not PRODUCTION)
if PRODUCTION and SSO_ALLOW_INSECURE_URLS:
    raise ImproperlyConfigured("SSO_ALLOW_INSECURE_URLS must be off when PORTEVOIX_ENV=production")
# DNS servers ("host" or "host:port") asked for domain verification records; empty: the system's.
SSO_DNS_NAMESERVERS = env_list("SSO_DNS_NAMESERVERS")

# --- Two-factor sign-in (allauth.mfa; twofactor/ holds the policy and enforcement) ---------
# An authenticator app (TOTP), security keys and passkeys (WebAuthn), and recovery codes.
# Whoever has one is asked for it after their password; an organisation may require it of its
# admins, editors and reviewers (twofactor.middleware).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Passkeys: a key that holds the account signs in on its own, without the password.
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Portevoix"
MFA_TOTP_PERIOD = 30
MFA_TOTP_DIGITS = 6
# One step of clock drift either way between the phone and the server.
MFA_TOTP_TOLERANCE = 1
MFA_RECOVERY_CODE_COUNT = 10
MFA_WEBAUTHN_USER_VERIFICATION = "preferred"
# Browsers allow WebAuthn on https only, and on http://127.0.0.1 / localhost; the latter are
# accepted outside production (make run, tests).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
# Changing one's second factor asks again for the password (or the factor) after this long.
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "organizations.auth.login_identifier"
AXES_LOCKOUT_CALLABLE = "organizations.auth.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env_bool("BEHIND_PROXY", False) else ["REMOTE_ADDR"]
)

# Link previews refuse private addresses; these exceptions exist for a local test network.
LINK_PREVIEW_ALLOW_ADDRESSES = env_list("LINK_PREVIEW_ALLOW_ADDRESSES")
LINK_PREVIEW_EXTRA_PORTS = env_int_list("LINK_PREVIEW_EXTRA_PORTS")
LINK_PREVIEW_USER_AGENT = env_str("LINK_PREVIEW_USER_AGENT", "PortevoixLinkPreview/1.0")

INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 14, minimum=1)

# --- Sharing ----------------------------------------------------------------------------
# Keys that encrypt network tokens at rest (Fernet keys, comma-separated, newest first; old
# keys stay listed until every token is re-encrypted). Required in production.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not FIELD_ENCRYPTION_KEYS and PRODUCTION:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is required when PORTEVOIX_ENV=production")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        _valid_key = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _valid_key = False
    if not _valid_key:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 "
            "bytes; make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
# The sandbox network (a fake social network on loopback): demo and tests only.
SANDBOX_NETWORK_URL = env_url("SANDBOX_NETWORK_URL")
NETWORK_CONNECT_TIMEOUT = env_int("NETWORK_CONNECT_TIMEOUT", 5, minimum=1)
NETWORK_READ_TIMEOUT = env_int("NETWORK_READ_TIMEOUT", 20, minimum=1)
SHARE_MAX_ATTEMPTS = env_int("SHARE_MAX_ATTEMPTS", 6, minimum=1)
SHARE_RETRY_BASE_SECONDS = float(env_str("SHARE_RETRY_BASE_SECONDS", "30"))
# Waits up to this long ride in the broker (countdown); longer ones are stored on the row
# for the sweeper, since Redis redelivers messages held past its visibility timeout.
SHARE_BROKER_MAX_WAIT_SECONDS = env_int("SHARE_BROKER_MAX_WAIT_SECONDS", 300, minimum=0)
# A due share dispatched this long ago and still waiting is dispatched again.
SHARE_REDISPATCH_AFTER_SECONDS = env_int("SHARE_REDISPATCH_AFTER_SECONDS", 120, minimum=0)
# A claim older than this belongs to a worker that died.
SHARE_CLAIM_TIMEOUT_SECONDS = env_int(
    "SHARE_CLAIM_TIMEOUT_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=1
)
SHARE_SWEEP_INTERVAL_SECONDS = env_int("SHARE_SWEEP_INTERVAL_SECONDS", 60, minimum=1)
CLICK_STREAM_KEY = env_str("CLICK_STREAM_KEY", "portevoix:clicks")
CLICK_DRAIN_INTERVAL_SECONDS = env_int("CLICK_DRAIN_INTERVAL_SECONDS", 10, minimum=1)
# Publishing limits, "count/seconds", per account and per app, for each adapter. X allows
# 100 posts per 15 minutes per user and 10,000 per day per app; LinkedIn about 150 a day
# per member.
RATE_LIMIT_KEY_PREFIX = env_str("RATE_LIMIT_KEY_PREFIX", "portevoix:ratelimit")
# Points leaderboards: one Redis sorted set per organisation and period under this prefix.
LEADERBOARD_KEY_PREFIX = env_str("LEADERBOARD_KEY_PREFIX", "portevoix:leaderboard")
# A click pays its points only once it is this old: time for fraud checks to reverse it.
POINTS_CLICK_SETTLE_SECONDS = env_int("POINTS_CLICK_SETTLE_SECONDS", 15 * 60, minimum=0)
# The lobby screen and its intranet widget reload their data this often.
DISPLAY_REFRESH_SECONDS = env_int("DISPLAY_REFRESH_SECONDS", 60, minimum=5)
NETWORK_RATE_LIMITS = {
    "sandbox": {
        "account": env_str("SANDBOX_LIMIT_PER_ACCOUNT", "30/60"),
        "app": env_str("SANDBOX_LIMIT_PER_APP", "600/60"),
    },
    # X documents 100 posts per 15 minutes per user; the app's daily cap depends on the
    # plan bought from X.
    "x": {
        "account": "100/900",
        "app": f"{env_int('X_APP_DAILY_POST_CAP', 10000, minimum=1)}/86400",
        # X limits each endpoint on its own: DELETE /2/tweets/:id 50, GET /2/tweets/:id
        # and GET /2/users/:id/tweets 900 per 15 minutes and person.
        "delete": {"account": "50/900", "app": "50000/900"},
        "read": {"account": "900/900", "app": "450000/900"},
    },
    "linkedin": {"account": "150/86400", "app": "100000/86400"},
}

# --- The real networks --------------------------------------------------------------------
# Base URLs are settings so that tests and the demo talk to loopback fakes of the same APIs.
X_API_BASE_URL = env_url("X_API_BASE_URL", "https://api.x.com").rstrip("/")
# Where employees authorise the app (X's consent page).
X_AUTHORIZE_URL = env_url("X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize")
X_SCOPES = ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"]
LINKEDIN_API_BASE_URL = env_url("LINKEDIN_API_BASE_URL", "https://api.linkedin.com").rstrip("/")
# The OpenID Connect issuer; its discovery document is <this>/.well-known/openid-configuration.
LINKEDIN_OAUTH_BASE_URL = env_url(
    "LINKEDIN_OAUTH_BASE_URL", "https://www.linkedin.com/oauth"
).rstrip("/")
# LinkedIn keeps each monthly API version for about a year, then answers 426.
LINKEDIN_API_VERSION = env_str("LINKEDIN_API_VERSION", "202611")
LINKEDIN_SCOPES = ["openid", "profile", "email", "w_member_social"]
# Days before a token that cannot be refreshed expires when the employee is reminded.
TOKEN_EXPIRY_WARNING_DAYS = env_int("TOKEN_EXPIRY_WARNING_DAYS", 7, minimum=1)
# Server-wide app credentials, used by organisations that did not enter their own.
NETWORK_APP_DEFAULTS = {
    "x": {
        "client_id": env_str("X_CLIENT_ID", ""),
        "client_secret": env_str("X_CLIENT_SECRET", ""),
    },
    "linkedin": {
        "client_id": env_str("LINKEDIN_CLIENT_ID", ""),
        "client_secret": env_str("LINKEDIN_CLIENT_SECRET", ""),
    },
}

# --- Installable app and web push -----------------------------------------------------------
# VAPID keys (RFC 8292) that sign push messages; web push stays off (no push UI, nothing
# sent) until all three are set. docs/operations.md says how to make a pair.
# The public key is the uncompressed P-256 point, the private key the raw 32-byte scalar (or
# its DER form), both base64url; WEBPUSH_VAPID_PRIVATE_KEY_FILE reads it from a file.
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY").strip()
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY").strip()
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT").strip()
_webpush_values = (WEBPUSH_VAPID_PUBLIC_KEY, WEBPUSH_VAPID_PRIVATE_KEY, WEBPUSH_VAPID_SUBJECT)
if any(_webpush_values) and not all(_webpush_values):
    raise ImproperlyConfigured(
        "Web push needs WEBPUSH_VAPID_PUBLIC_KEY, WEBPUSH_VAPID_PRIVATE_KEY and "
        "WEBPUSH_VAPID_SUBJECT together (or none of them to leave it off)"
    )
if WEBPUSH_VAPID_SUBJECT and not WEBPUSH_VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured(
        f"WEBPUSH_VAPID_SUBJECT={WEBPUSH_VAPID_SUBJECT!r} must be a mailto: address (or https URL)"
    )
if WEBPUSH_VAPID_PUBLIC_KEY:
    try:
        _public_point = base64.urlsafe_b64decode(
            WEBPUSH_VAPID_PUBLIC_KEY + "=" * (-len(WEBPUSH_VAPID_PUBLIC_KEY) % 4)
        )
    except ValueError:
        _public_point = b""
    if len(_public_point) != 65 or _public_point[0] != 4:
        raise ImproperlyConfigured(
            "WEBPUSH_VAPID_PUBLIC_KEY is not an uncompressed P-256 public key in base64url "
            "(87 characters starting with B)"
        )
# Push services a subscription may point at (host suffixes). The server POSTs to the endpoint
# a browser hands over, so any other host would let a member aim it at internal addresses.
WEBPUSH_ENDPOINT_HOSTS = env_list(
    "WEBPUSH_ENDPOINT_HOSTS",
    [
        "fcm.googleapis.com",
        "android.googleapis.com",
        "push.services.mozilla.com",
        "notify.windows.com",
        "push.apple.com",
    ],
)
# Plain http to a loopback push service (the local fake) in development and tests only: real
# push services are https, and browsers refuse to subscribe on anything else.
WEBPUSH_ALLOW_LOOPBACK = DEBUG or ENVIRONMENT == "test"
# How long a push service keeps a message for a device that is offline (the TTL header).
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 24 * 3600, minimum=0)
WEBPUSH_TIMEOUT_SECONDS = env_int("WEBPUSH_TIMEOUT_SECONDS", 10, minimum=1)

# --- Slack and Microsoft Teams ------------------------------------------------------------
# Each organisation connects its own Slack app (bot token) and Teams Workflows webhooks in the
# administration pages; these only say where Slack's Web API is (a loopback fake in tests).
SLACK_API_BASE_URL = env_url("SLACK_API_BASE_URL", "https://slack.com/api/")
if not SLACK_API_BASE_URL.endswith("/"):
    SLACK_API_BASE_URL += "/"
# Plain http to loopback webhooks and Slack (the local fakes) in development and tests only.
MESSAGING_ALLOW_LOOPBACK = DEBUG or ENVIRONMENT == "test"

# --- Email digests ------------------------------------------------------------------------
# An address that unsubscribes by email too (List-Unsubscribe's mailto:, beside the one-click
# URL of RFC 8058); empty: the URL only.
DIGEST_UNSUBSCRIBE_MAILTO = env_str("DIGEST_UNSUBSCRIBE_MAILTO").strip()

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
# One date style per language ("5 December 2026 at 14:32" / "5 décembre 2026 à 14:32").
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
# Collected files exist in production only; elsewhere the finders serve them.
STATIC_ROOT = VAR_DIR / "staticfiles" if PRODUCTION else None
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Uploaded files: an image (the largest file any form takes) is at most IMAGE_MAX_BYTES.
# Bodies that cannot fit are refused from their Content-Length, and a file part is counted
# while it streams in (organizations.uploads); above 2.5 MB it goes to a temporary file, not
# memory. The other fields of a request are at most DATA_UPLOAD_MAX_MEMORY_SIZE.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "organizations.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Uploaded files are served by organizations.media after an access check. With a prefix
# (e.g. /_protected_media/), the answer is an X-Accel-Redirect to that internal nginx
# location instead of the file itself (docs/operations.md).
MEDIA_ACCEL_REDIRECT_PREFIX = env_str("MEDIA_ACCEL_REDIRECT_PREFIX", "")
# Images above this many pixels are refused before decoding (decompression bombs).
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000, minimum=1_000_000)

# --- Email ------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portevoix <no-reply@portevoix.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a refused token is then a 401 with WWW-Authenticate, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.api_auth.UserLanguageTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "organizations.api_errors.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "10/min"},
}
# API tokens are django-rest-knox's: only a SHA-512 digest is stored, each token expires,
# and a person's tokens are deleted when their password changes, on deactivation and on
# lockout (organizations.auth).
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portevoix API",
    "DESCRIPTION": "Employee advocacy: organisations, people, content, shares, points, analytics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers (problem JSON) of every operation, blankable URLs and HH:MM times:
    # organizations/api_contract.py. tests/config/test_api_conformance.py holds the API to it.
    "PREPROCESSING_HOOKS": ["organizations.api_contract.register_extensions"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "organizations.api_contract.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "NetworkEnum": "content.models.Network.choices",
        # approval chains: ContentDetail and RuleInput share these with Content's input
        "ContentStatusEnum": "content.models.ContentStatus.choices",
        "ContentKindEnum": "content.models.ContentKind.choices",
        "ShareStatusEnum": "advocacy.models.ShareStatus.choices",
        "ShareStatusFilterEnum": ["", "waiting", "scheduled", "published", "failed", "closed"],
        # challenges (campaigns)
        "ChallengeStatusEnum": "challenges.models.campaigns.ChallengeStatus.choices",
        "ChallengeModeEnum": "challenges.models.campaigns.ChallengeMode.choices",
        "ShareModeEnum": "advocacy.models.ShareMode.choices",
        "RedemptionStatusEnum": "challenges.models.rewards.RedemptionStatus.choices",
    },
}

# --- Security ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],
        # Link previews show the page's own image, served by that site.
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The service worker (/sw.js) and the manifest come from this origin only.
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"axes": {"level": "WARNING"}},
}

if ENVIRONMENT == "test":
    # Fast hashing keeps the suite quick; never used outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

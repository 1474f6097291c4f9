"""One settings module, driven by the environment.

DATABASE_URL       default: SQLite file in the data directory
ATIENDE_DATA_DIR   default: ./var (database, attachments, generated admin password)
ATIENDE_CONFIG     default: the bundled reference configuration
ATIENDE_SECRET_KEY default: generated once and kept in the data directory
ATIENDE_DEBUG      "1" for development error pages
ATIENDE_PUBLIC_URL https://... switches on production mode behind a TLS proxy (below and
                   docs/production.md); without it nothing of that applies
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ATIENDE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
ATTACHMENTS_DIR = DATA_DIR / "attachments"
DEFAULT_CONFIG = BASE_DIR / "configuration" / "reference.yaml"
ATIENDE_CONFIG = os.environ.get("ATIENDE_CONFIG", str(DEFAULT_CONFIG))


def write_secret_file(path: Path, text: str) -> None:
    """Create `path` readable by its owner only from the first byte (no window in which
    another user could read it, as a write followed by chmod would leave); an existing
    file is never overwritten."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _secret_key() -> str:
    if key := os.environ.get("ATIENDE_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    # Generated before, or by another process starting at the same time: keep that one.
    with contextlib.suppress(FileExistsError):
        write_secret_file(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} debe ser un número entero, no {value!r}.") from None


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("ATIENDE_DEBUG") == "1"

# -- Production mode: ATIENDE_PUBLIC_URL=https://... means atiende runs behind a proxy that
# terminates TLS. Hosts are then restricted, cookies secure, HTTP redirected, HSTS sent, and
# the proxy's X-Forwarded-* headers believed only from ATIENDE_TRUSTED_PROXIES
# (core/middleware.py). Without a public URL (the embedded default on 127.0.0.1) none of
# this applies.
PUBLIC_URL = os.environ.get("ATIENDE_PUBLIC_URL", "").strip().rstrip("/")
_public = urlsplit(PUBLIC_URL) if PUBLIC_URL else None
if _public is not None and (_public.scheme not in ("http", "https") or not _public.hostname):
    raise ImproperlyConfigured(
        f"ATIENDE_PUBLIC_URL debe ser una URL como https://mesa.example.com, no {PUBLIC_URL!r}."
    )
PRODUCTION = _public is not None and _public.scheme == "https"


def _networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for item in _list(name, default):
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name}: {item!r} no es una dirección IP ni una red (CIDR)."
            ) from exc
    return out


# The proxies whose X-Forwarded-For/-Proto are believed. In production mode the default is
# this machine (a proxy on the same host, the usual set-up); elsewhere no one.
TRUSTED_PROXIES = _networks("ATIENDE_TRUSTED_PROXIES", "127.0.0.1,::1" if PRODUCTION else "")

if _public is not None:
    ALLOWED_HOSTS = [_public.hostname or "", *_list("ATIENDE_ALLOWED_HOSTS")]
    CSRF_TRUSTED_ORIGINS = [
        f"{_public.scheme}://{_public.netloc}",
        # ".example.com" in ALLOWED_HOSTS means its subdomains; CSRF spells that "*.".
        *(
            f"{_public.scheme}://{'*' if h.startswith('.') else ''}{h}"
            for h in _list("ATIENDE_ALLOWED_HOSTS")
            if h != "*"
        ),
        *_list("ATIENDE_CSRF_TRUSTED_ORIGINS"),
    ]
else:
    ALLOWED_HOSTS = _list("ATIENDE_ALLOWED_HOSTS", "*")
    CSRF_TRUSTED_ORIGINS = _list("ATIENDE_CSRF_TRUSTED_ORIGINS")
if PRODUCTION and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ATIENDE_ALLOWED_HOSTS no puede contener * en producción (ATIENDE_PUBLIC_URL=https://…): "
        "nombre los servidores."
    )

if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HSTS: start small and raise it to a year once HTTPS is confirmed (docs/production.md).
    SECURE_HSTS_SECONDS = _int("ATIENDE_HSTS_SECONDS", 3600)
    _confirmed = SECURE_HSTS_SECONDS >= 365 * 24 * 3600  # a year: the rollout's last step
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get(
        "ATIENDE_HSTS_INCLUDE_SUBDOMAINS", "1" if _confirmed else "0"
    ) in ("1", "true", "yes")
    SECURE_HSTS_PRELOAD = os.environ.get("ATIENDE_HSTS_PRELOAD", "0") in ("1", "true", "yes")
    # includeSubDomains and preload bind every other host of the domain, which atiende
    # cannot judge: Django's warnings about them are replaced by atiende's own check, which
    # says at which step of the documented rollout the site is (core/checks.py).
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
    # Balancers probe machines over plain HTTP (answered before the redirect anyway).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

INSTALLED_APPS = [
    "atiende.adminsite.AdminConfig",  # django.contrib.admin without autodiscovery
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "atiende.core",
    "atiende.accounts",
    "atiende.customers",
    "atiende.sla",
    "atiende.directory",
    "atiende.channels",
    "atiende.channels.email",
    "atiende.channels.whatsapp",
    "atiende.channels.phone",
    "atiende.escalations",
    "atiende.notifications",
    "atiende.cases",
    "atiende.search",
    "atiende.configuration",
    "atiende.worker",
    "atiende.api",
    "atiende.portal",
    "atiende.console",
    "atiende.console.canned",
    "atiende.ops",
    "atiende.reports",
]

MIDDLEWARE = [
    "atiende.core.foreground.Middleware",  # requests before background work (see there)
    "atiende.ops.middleware.RequestIdMiddleware",  # before the proxy's headers are rewritten
    # Before anything reads the client's address or the scheme (core/middleware.py).
    "atiende.core.middleware.TrustedProxyMiddleware",
    # /healthz, /readyz, /metrics before the host check and HTTPS redirect (ops/middleware.py)
    "atiende.ops.middleware.OpsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "atiende.core.middleware.SecurityHeadersMiddleware",
    # /webhooks/ answered here: nothing below is for machines (channels/middleware.py)
    "atiende.channels.middleware.WebhookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "atiende.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "atiende.core.dbfaults.Middleware",  # database unreachable: 503, not 500 (see there)
]

ROOT_URLCONF = "atiende.urls"
WSGI_APPLICATION = "atiende.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGOUT_REDIRECT_URL = "accounts:login"
# Every way in (the sign-in page, the admin's login, Client.login) goes through this
# backend, which refuses tries while an account or an address is locked out.
AUTHENTICATION_BACKENDS = ["atiende.accounts.signin.backends.ThrottledBackend"]
# Sign-in throttling (accounts/signin/throttle.py): this many failures within the window
# for one account (or from one address) refuse further tries until the window moves on.
ATIENDE_SIGNIN_WINDOW_SECONDS = _int("ATIENDE_SIGNIN_WINDOW_SECONDS", 900)
ATIENDE_SIGNIN_MAX_FAILURES = _int("ATIENDE_SIGNIN_MAX_FAILURES", 5)
# Higher per address: an office's people may share one address behind its NAT.
ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS = _int("ATIENDE_SIGNIN_MAX_FAILURES_PER_ADDRESS", 20)
# A password-reset link works once and for this long.
PASSWORD_RESET_TIMEOUT = _int("ATIENDE_PASSWORD_RESET_SECONDS", 3600)

# django-ninja is not an installed app, so that only loading the URLconf imports it (issue
# 17: every process would pay ~45 ms for it at django.setup()); its templates and static
# files are found here instead, and the API docs' Swagger UI is served from our static
# files, not a CDN (CSP; api/main.py). find_spec locates the package without importing it.
NINJA_DIR = Path(importlib.util.find_spec("ninja").origin or "").parent

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atiende.console.context.console",
            ],
        },
    },
]


def _database() -> Any:
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'atiende.sqlite3'}"
    # No health check (a `SELECT 1`) before each request reuses a connection: it costs a
    # round trip per request; a connection that broke fails one request and is replaced.
    db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=False)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["ENGINE"] = "atiende.core.sqlite"  # SQLite with a fair writer queue (see there)
        db["CONN_MAX_AGE"] = 0 if url.endswith(":memory:") else 60
        db["OPTIONS"] = {
            # Every write transaction takes the write lock at BEGIN, so two writers never
            # deadlock upgrading a read lock; readers keep going thanks to WAL.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; "
                "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY; "
                # Checkpoints run off the writers' path (atiende/core/sqlite), and the
                # WAL file is cut back to 64 MB after one.
                "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;"
            ),
        }
        # A file, not :memory:, so tests that use several threads share one database.
        db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    elif db["ENGINE"] == "django.db.backends.postgresql":
        db["ENGINE"] = "atiende.core.postgresql"  # with deferred rows (atiende/core/deferred.py)
        # Random reads cost little more than sequential ones on the SSDs and page cache
        # atiende runs on; with PostgreSQL's default (4, for spinning disks) the planner
        # scans every case instead of using the trigram index for a text search `q=`
        # (bench/bench_cases.py: count of a 16% match 40 -> 20 ms). Per connection, so a
        # shared server's other databases keep theirs.
        db.setdefault("OPTIONS", {})["options"] = "-c random_page_cost=1.1"
        # A server that does not answer fails a request in seconds (503), never hangs it.
        db["OPTIONS"].setdefault("connect_timeout", 5)
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL: atiende runs on SQLite or PostgreSQL, not {url.split(':', 1)[0]!r}."
        )
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Used by the sign-in pages (password change and reset) and the first admin's password.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},  # 8
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "es-co"
LANGUAGES = [("es-co", "Español (Colombia)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Bogota"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise looks for it at start-up; collectstatic fills it
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [NINJA_DIR / "static"]  # the Swagger UI's (above)

# Attachments: the upload limit is enforced by the attachment service (a clear 413);
# Django's own limits are raised above it so the service sees the size first.
ATIENDE_MAX_ATTACHMENT_BYTES = int(os.environ.get("ATIENDE_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security headers on every response (core/middleware.py adds the Content-Security-Policy
# and Permissions-Policy). Cookies: HttpOnly and SameSite=Lax; no script reads the CSRF
# cookie (pages that post from script send the token rendered in the page: hx-headers).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "atiende.accounts.signin.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# -- Operation (atiende/ops, docs/deploy.md): health, metrics, logs, object storage.
# /metrics is open to loopback; from elsewhere it needs `Authorization: Bearer <token>`.
ATIENDE_METRICS_TOKEN = os.environ.get("ATIENDE_METRICS_TOKEN", "").strip()
# /readyz fails when no worker finished its heartbeat within this many seconds (0: not
# checked) or when the oldest due job has waited longer than the second.
ATIENDE_READY_WORKER_SECONDS = _int("ATIENDE_READY_WORKER_SECONDS", 120)
ATIENDE_READY_JOB_AGE_SECONDS = _int("ATIENDE_READY_JOB_AGE_SECONDS", 300)

# Attachments on S3-compatible object storage instead of ATTACHMENTS_DIR (cases/storage.py).
ATIENDE_S3_BUCKET = os.environ.get("ATIENDE_S3_BUCKET", "").strip()
if ATIENDE_S3_BUCKET:
    from botocore.config import Config as _S3Config

    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ATIENDE_S3_BUCKET,
            "endpoint_url": os.environ.get("ATIENDE_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": os.environ.get("AWS_DEFAULT_REGION", "").strip() or None,
            "location": os.environ.get("ATIENDE_S3_PREFIX", "attachments").strip("/"),
            # Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the machine's
            # role), read by boto3 itself; never in a setting that could be printed.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": True,  # content-addressed: the same name is the same bytes
            # A store that does not answer fails an upload or download in seconds (503).
            "client_config": _S3Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                # "path" for stores that serve buckets only as paths (some MinIO set-ups).
                s3={"addressing_style": os.environ.get("ATIENDE_S3_ADDRESSING_STYLE") or "auto"},
            ),
        },
    }

LOG_FORMAT = os.environ.get("ATIENDE_LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"ATIENDE_LOG_FORMAT debe ser plain o json, no {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "atiende.ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "atiende.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ATIENDE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

"""One settings module, driven by the environment.

DATABASE_URL       default: SQLite file in the data directory
ATIENDE_DATA_DIR   default: ./var (database, attachments, generated admin password)
ATIENDE_CONFIG     default: the bundled reference configuration
ATIENDE_SECRET_KEY default: generated once and kept in the data directory
ATIENDE_DEBUG      "1" for development error pages
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ATIENDE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
ATTACHMENTS_DIR = DATA_DIR / "attachments"
DEFAULT_CONFIG = BASE_DIR / "configuration" / "reference.yaml"
ATIENDE_CONFIG = os.environ.get("ATIENDE_CONFIG", str(DEFAULT_CONFIG))


def _secret_key() -> str:
    if key := os.environ.get("ATIENDE_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("ATIENDE_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ATIENDE_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("ATIENDE_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "atiende.channels",
    "atiende.channels.email",
    "atiende.channels.whatsapp",
    "atiende.channels.phone",
    "atiende.escalations",
    "atiende.cases",
    "atiende.configuration",
    "atiende.worker",
    "atiende.api",
    "atiende.portal",
    "atiende.console",
]

MIDDLEWARE = [
    "atiende.core.foreground.Middleware",  # requests before background work (see there)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "atiende.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "atiende.urls"
WSGI_APPLICATION = "atiende.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/admin/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
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
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL: atiende runs on SQLite or PostgreSQL, not {url.split(':', 1)[0]!r}."
        )
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Attachments: the upload limit is enforced by the attachment service (a clear 413);
# Django's own limits are raised above it so the service sees the size first.
ATIENDE_MAX_ATTACHMENT_BYTES = int(os.environ.get("ATIENDE_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ATIENDE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

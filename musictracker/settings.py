"""Django settings. Values users change live in config/*.json (see musictracker/config.py)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

from musictracker import config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MUSICTRACKER_DATA_DIR", BASE_DIR / "data"))
DATA_DIR.mkdir(parents=True, exist_ok=True)

try:
    MUSICTRACKER = config.load()
except config.ConfigError as exc:  # stop the start with a message naming the file, line, column
    sys.stderr.write(f"Music Tracker cannot start: {exc}\n")
    raise SystemExit(2) from None

GENERAL = MUSICTRACKER["general"]


def _secret_key() -> str:
    """SECRET_KEY from the environment, or generated once and kept under data/."""
    if os.environ.get("MUSICTRACKER_SECRET_KEY"):
        return os.environ["MUSICTRACKER_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("MUSICTRACKER_DEBUG", "0").lower() in {"1", "true", "yes"}
ALLOWED_HOSTS = list(GENERAL.get("allowed_hosts", [])) + (["*"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = list(GENERAL.get("csrf_trusted_origins", []))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_q",
    "musictracker",
    "collection",
    "tracking",
    "enrichment",
    "playlists",
]

MIDDLEWARE = [
    "musictracker.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "musictracker.middleware.SecurityHeadersMiddleware",
    "musictracker.middleware.FirstRunMiddleware",
    "musictracker.middleware.LoginRequiredMiddleware",
    "musictracker.middleware.UserPreferencesMiddleware",
]

ROOT_URLCONF = "musictracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "musictracker.context_processors.app",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

WSGI_APPLICATION = "musictracker.wsgi.application"

# SQLite by default; DATABASE_URL=postgres://... for PostgreSQL. On SQLite, IMMEDIATE transactions
# plus WAL and a busy timeout let the web server and the worker write at the same time (see
# PERFORMANCE-NOTES: DEFERRED transactions fail at once with "database is locked").
SQLITE_PATH = Path(os.environ.get("MUSICTRACKER_DB_PATH", DATA_DIR / "musique.db"))
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        " PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
    ),
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": SQLITE_OPTIONS,
            # Persistent connections, as PostgreSQL's above: opening one and running the PRAGMAs
            # above cost more than a whole page query on every request (its page cache warm, too).
            # The development server still closes them after each request.
            "CONN_MAX_AGE": 60,
            "TEST": {"NAME": os.environ.get("MUSICTRACKER_TEST_DB_PATH") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# In the database, so that every web worker and the task worker share it (login throttling).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "musictracker_cache",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = GENERAL.get("language", "en")
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = GENERAL.get("time_zone", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and (STATIC_ROOT / "staticfiles.json").exists()
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if os.environ.get("MUSICTRACKER_HTTPS", "0") == "1":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Sections that apps add to the Settings page, in order (see musictracker.views.settings_sections).
SETTINGS_SECTIONS: list[str] = [
    "tracking.views.lastfm_settings_section",
    "collection.views.discogs_settings_section",
    "musictracker.sections.health",
    "musictracker.tokens.section",
    "tracking.import_views.section",
    "enrichment.settings_section.section",
]

WORKER = MUSICTRACKER["worker"]
Q_CLUSTER = {
    "name": "musictracker",
    "orm": "default",
    "workers": int(WORKER.get("workers", 2)),
    "timeout": int(WORKER.get("timeout_seconds", 3600)),
    "retry": int(WORKER.get("timeout_seconds", 3600)) + 120,
    "max_attempts": 2,
    "poll": float(WORKER.get("poll_seconds", 1.5)),
    "save_limit": 200,
    "catch_up": False,
    "ack_failures": True,
    "label": "Background tasks",
}

LOG_DIR = DATA_DIR / "logs"
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "musictracker.logging.RedactSecrets"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line", "filters": ["redact"]},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "musictracker.log"),
            "maxBytes": 5 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "formatter": "line",
            "filters": ["redact"],
            "delay": True,
        },
    },
    "root": {"handlers": ["console", "file"], "level": GENERAL.get("log_level", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pylast": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

if "pytest" in sys.modules:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # django-q2 reads its configuration once at import: tasks run inline in tests.
    Q_CLUSTER["sync"] = True

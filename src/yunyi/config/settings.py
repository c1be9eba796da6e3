"""Django settings: wiring only. Everything a deployment changes comes from `YUNYI_*` variables
(documented in `deploy/env.example`)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from yunyi.config.env import (
    ENVIRONMENTS,
    LOCAL_ENVIRONMENTS,
    env_bool,
    env_int,
    env_list,
    env_str,
    local_secrets,
)

SRC_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("HOME_DIR", str(SRC_DIR.parent.parent))).resolve()
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

YUNYI_ENV = env_str("ENV", "production")
if YUNYI_ENV not in ENVIRONMENTS:
    raise RuntimeError(f"YUNYI_ENV must be one of {', '.join(ENVIRONMENTS)}")
IS_PRODUCTION = YUNYI_ENV == "production"
IS_DEMO = YUNYI_ENV == "demo"

_local = local_secrets(VAR_DIR) if YUNYI_ENV in LOCAL_ENVIRONMENTS else {}

SECRET_KEY = env_str("SECRET_KEY", _local.get("secret_key", ""))
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if IS_PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
BASE_URL = env_str("BASE_URL", "" if IS_PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [BASE_URL] if BASE_URL else [])

# Field encryption (AES-GCM) key ring: "kid:base64key,kid:base64key"; the first encrypts, all
# decrypt, so keys rotate by prepending a new one. The blind-index key makes searchable keyed
# hashes of identifiers (resident ID numbers) for uniqueness checks.
FIELD_KEYS = env_str("FIELD_KEYS", _local.get("field_keys", ""))
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY", _local.get("blind_index_key", ""))

AUDIT_ENABLED = env_bool("AUDIT_ENABLED", True)

INSTALLED_APPS = [
    "yunyi.core.admin_site.YunyiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "channels",
    "ninja",
    "yunyi.core",
    "yunyi.privacy",
    "yunyi.audit",
    "yunyi.accounts",
    "yunyi.identity",
    "yunyi.emr",
    "yunyi.practitioners",
    "yunyi.matching",
    "yunyi.diagnosis",
]

MIDDLEWARE = [
    "yunyi.core.middleware.ProxiedClientMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "yunyi.core.middleware.SecurityHeadersMiddleware",
    "yunyi.core.static_files.StaticFilesMiddleware",
    "yunyi.core.middleware.BearerApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Bearer-token APIs that skip the cookie-session middleware (`yunyi.core.middleware`).
BEARER_API_PREFIXES = ("/fhir/R4",)
ROOT_URLCONF = "yunyi.config.urls"
ASGI_APPLICATION = "yunyi.config.asgi.application"
WSGI_APPLICATION = "yunyi.config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yunyi.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE transactions take the write lock up
    # front so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif env_bool("DB_POOL", True):
    # Under ASGI every request runs on a fresh thread, so persistent per-thread connections are
    # never reused; a process-wide pool keeps PostgreSQL connections warm for HTTP and WebSocket.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": env_int("DB_POOL_MAX", 10), "timeout": 10}
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # The per-request statements (`yunyi.core.compiled_query.prepared_cursor`) are prepared on a
    # connection's second run; YUNYI_DB_PREPARED_STATEMENTS=0 behind a transaction-mode pooler.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["prepare_threshold"] = 1 if env_bool("DB_PREPARED_STATEMENTS", True) else None
    if _options["prepare_threshold"] is not None:
        # A prepared statement is planned once for any values (a generic plan). PostgreSQL
        # otherwise re-plans a search for its values every time, which at a million resources
        # costs more than running it (1.7 ms against 0.7 ms) for the same plan: the search SQL
        # starts from its most selective criterion. Searches whose plan depends on their values
        # (string prefixes) are not prepared (`emr.store.compiled_search`).
        _options["options"] = "-c plan_cache_mode=force_generic_plan"
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # OAuth client secrets only (OAUTH2_PROVIDER's CLIENT_SECRET_HASHER); never first.
    "yunyi.identity.hashers.ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/o/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not IS_PRODUCTION:
    # WhiteNoise expects the collected-static folder; locally the finders serve the files.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The built web app (frontend/ → src/yunyi/static/app), served under /static/app/.
STATICFILES_DIRS = [SRC_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

# Request size limits: bodies above these get 413 before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 1_048_576)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Security. HSTS and secure cookies apply when the site is served over TLS (behind nginx).
_TLS = BASE_URL.startswith("https://")
# Behind nginx, which overwrites X-Forwarded-Proto and X-Real-IP (deploy/nginx): the request's
# scheme and the client's address (`yunyi.core.middleware.ProxiedClientMiddleware`) come from them.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_HSTS_SECONDS = 31_536_000 if _TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = _TLS
CSRF_COOKIE_SECURE = _TLS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_SECONDS", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self' http: https:"
)

# OAuth 2.0 / OpenID Connect provider (django-oauth-toolkit); tuned in yunyi.identity.
OIDC_PRIVATE_KEY = env_str("OIDC_PRIVATE_KEY", _local.get("oidc_private_key", ""))
_oidc_key_file = env_str("OIDC_PRIVATE_KEY_FILE")
if _oidc_key_file:
    OIDC_PRIVATE_KEY = Path(_oidc_key_file).read_text()

from yunyi.identity.provider_settings import oauth2_provider_settings  # noqa: E402

OAUTH2_PROVIDER = oauth2_provider_settings(oidc_private_key=OIDC_PRIVATE_KEY, base_url=BASE_URL)
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# PostgreSQL: seconds a bearer-token lookup is kept per process (never past the token's expiry),
# exact while change notifications are heard (yunyi.identity.token_cache); 0 looks up every time.
# Off by default behind a transaction-mode pooler (prepared statements off), which does not
# deliver LISTEN/NOTIFY.
TOKEN_CACHE_SECONDS = env_int(
    "TOKEN_CACHE_SECONDS", 60 if env_bool("DB_PREPARED_STATEMENTS", True) else 0
)

# Where one-time codes (sign-up confirmation) are delivered: "console" prints them (demo).
ACCOUNTS_CODE_SENDER = env_str("CODE_SENDER", "console" if not IS_PRODUCTION else "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Accounts (yunyi.accounts): sign-up codes, login throttling, TOTP; thresholds a deployment tunes.
ACCOUNTS_SIGNUP_CODE_TTL_SECONDS = env_int("SIGNUP_CODE_TTL_SECONDS", 600)
ACCOUNTS_SIGNUP_CODE_MAX_ATTEMPTS = env_int("SIGNUP_CODE_MAX_ATTEMPTS", 5)
ACCOUNTS_SIGNUP_RESEND_SECONDS = env_int("SIGNUP_RESEND_SECONDS", 60)
ACCOUNTS_SIGNUP_CODES_PER_ADDRESS_PER_HOUR = env_int("SIGNUP_CODES_PER_ADDRESS_PER_HOUR", 5)
ACCOUNTS_SIGNUP_CODES_PER_IP_PER_HOUR = env_int("SIGNUP_CODES_PER_IP_PER_HOUR", 20)
# Failed sign-ins per account: from the 3rd a wait of 1 s doubling up to 60 s, at the 10th a
# 15-minute lock; per source address the same with higher counts (shared NATs).
ACCOUNTS_LOGIN_SLOW_AFTER = env_int("LOGIN_SLOW_AFTER", 3)
ACCOUNTS_LOGIN_LOCK_AFTER = env_int("LOGIN_LOCK_AFTER", 10)
ACCOUNTS_LOGIN_ADDRESS_SLOW_AFTER = env_int("LOGIN_ADDRESS_SLOW_AFTER", 10)
ACCOUNTS_LOGIN_ADDRESS_LOCK_AFTER = env_int("LOGIN_ADDRESS_LOCK_AFTER", 50)
ACCOUNTS_LOGIN_SLOW_BASE_SECONDS = env_int("LOGIN_SLOW_BASE_SECONDS", 1)
ACCOUNTS_LOGIN_SLOW_MAX_SECONDS = env_int("LOGIN_SLOW_MAX_SECONDS", 60)
ACCOUNTS_LOGIN_LOCK_SECONDS = env_int("LOGIN_LOCK_SECONDS", 900)
ACCOUNTS_LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 3600)
# django-otp's own per-device throttle is off: accounts.throttling counts TOTP failures together
# with password failures, per account and address, and answers with a retry time.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = "Yunyi"

# Medical record (yunyi.emr): FHIR search page sizes and the largest batch/transaction Bundle.
EMR_PAGE_SIZE = env_int("FHIR_PAGE_SIZE", 50)
EMR_MAX_PAGE_SIZE = env_int("FHIR_MAX_PAGE_SIZE", 1000)
EMR_MAX_BUNDLE_ENTRIES = env_int("FHIR_MAX_BUNDLE_ENTRIES", 1000)
# How long a search's count may be reused for Bundle.total when the client did not ask for an
# accurate one (yunyi.emr.store.totals); 0 counts every time.
EMR_ESTIMATED_TOTAL_SECONDS = env_int("FHIR_ESTIMATED_TOTAL_SECONDS", 10)

# Doctors (yunyi.practitioners): the furthest a doctor may serve in-person and home visits, and
# the widest "near me" search a patient may ask for.
PRACTITIONERS_MAX_SERVICE_RADIUS_KM = float(env_str("PRACTITIONERS_MAX_SERVICE_RADIUS_KM", "50"))
PRACTITIONERS_MAX_SEARCH_RADIUS_KM = float(env_str("PRACTITIONERS_MAX_SEARCH_RADIUS_KM", "100"))

# Matching (yunyi.matching): ranking weights ("name=value,..." over matching.ranking's
# RankingWeights fields; only ratios matter), search caps, how often each process refreshes its
# doctor index from the database, and the expected wait per patient ahead in an on-demand queue.
MATCHING_WEIGHTS = {
    name.strip(): float(value)
    for name, _sep, value in (item.partition("=") for item in env_list("MATCHING_WEIGHTS", []))
}
MATCHING_MAX_RADIUS_KM = float(env_str("MATCHING_MAX_RADIUS_KM", "50"))
MATCHING_MAX_RESULTS = env_int("MATCHING_MAX_RESULTS", 50)
MATCHING_MAX_WINDOW_DAYS = env_int("MATCHING_MAX_WINDOW_DAYS", 14)
MATCHING_MAX_CANDIDATES = env_int("MATCHING_MAX_CANDIDATES", 1000)
MATCHING_INDEX_REFRESH_SECONDS = float(env_str("MATCHING_INDEX_REFRESH_SECONDS", "10"))
MATCHING_QUEUE_MINUTES_PER_PATIENT = float(env_str("MATCHING_QUEUE_MINUTES_PER_PATIENT", "10"))
# Map tiles under the matching pages' maps: a URL template ("https://.../{z}/{x}/{y}.png") and
# the attribution its provider requires. Empty (the default, and offline): maps draw points and
# regions on a plain longitude/latitude grid. The CSP allows https: images only.
MAP_TILE_URL = env_str("MAP_TILE_URL", "").strip()
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "").strip()

# Diagnosis (yunyi.diagnosis): the model registry directory (model files, cards, plots).
DIAGNOSIS_MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models"))).resolve()
# Whether patients may see the models' suggestions about themselves (off: doctors only).
DIAGNOSIS_PATIENT_VISIBLE = env_bool("DIAGNOSIS_PATIENT_VISIBLE", False)
# Security labels ("system|code") whose resources the record never gives patients, guardians or
# `patient/` tokens (yunyi.emr.policy). Derived from the switch above, so operators have one: the
# label yunyi.diagnosis.fhir puts on its RiskAssessments (SECURITY_LABEL) unless patients may
# see the suggestions.
EMR_PATIENT_HIDDEN_SECURITY_LABELS: list[str] = (
    [] if DIAGNOSIS_PATIENT_VISIBLE else ["urn:yunyi:security-label|clinician-decision-support"]
)

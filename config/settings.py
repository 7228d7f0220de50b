"""
Storefleet settings: one module, every knob read from the environment with a
safe local default (so `make run` works on a fresh machine with no config).
"""

import hashlib
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("STOREFLEET_TESTING", False) or "pytest" in sys.modules

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING or env_bool("STOREFLEET_LOCAL", False)):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

# --- Hosts and tenancy -------------------------------------------------------

PLATFORM_HOST = os.environ.get("PLATFORM_HOST", "localhost").lower()
SHOP_BASE_DOMAIN = os.environ.get("SHOP_BASE_DOMAIN", "localhost").lower()

# Shop hosts are any domain a shop has registered (custom domains included), so
# the host allow-list cannot be enumerated here: the tenancy middleware refuses
# unknown hosts with a 404 problem, and Django still rejects malformed Host
# headers before any lookup.
ALLOWED_HOSTS = ["*"]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.outbox",
    "tenants.idempotency",
    "billing",
    "django.contrib.contenttypes",
    "django.contrib.postgres",
    "django.contrib.auth",
    "django.contrib.admin",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    # Refresh tokens are single-use and revocable (SIMPLE_JWT below); its tables live in public.
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
TENANT_APPS = [
    # In both lists: each shop writes its events and idempotency records in its own schema (a
    # checkout's transaction stays on the shop's node on Citus); public keeps the platform's own.
    "tenants.outbox",
    "tenants.idempotency",
    "tenants.audit",
    "billing.usage",
    "tenants.webhooks",
    "catalog",
    "orders",
    "catalog.storefront",
]
# `tenants` comes before `django_tenants` so that our `migrate_schemas` (which
# also migrates the template and warm-pool schemas) overrides theirs.
INSTALLED_APPS = (
    ["tenants"]
    + [app for app in SHARED_APPS if app != "tenants"]
    + [app for app in TENANT_APPS if app not in SHARED_APPS]
)

TENANT_MODEL = "tenants.Shop"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# django-tenants (4.0.1) forgets the cached search_path on rollback and on
# savepoint rollback, so issuing SET once per tenant switch is safe; the tests in
# tests/tenants/test_isolation.py prove it (django-tenants issue #1262).
TENANT_LIMIT_SET_CALLS = True

# Hostnames no shop may claim as a custom domain (besides PLATFORM_HOST,
# SHOP_BASE_DOMAIN and every name under them).
RESERVED_HOSTNAMES = [
    name.strip().lower()
    for name in os.environ.get("RESERVED_HOSTNAMES", "localhost,storefleet.dev").split(",")
    if name.strip()
]
SHOP_MAX_DOMAINS = env_int("SHOP_MAX_DOMAINS", 10)

# Warm pool of pre-migrated spare schemas that provisioning renames into shops.
WARM_POOL_SIZE = env_int("WARM_POOL_SIZE", 5)

AUTH_USER_MODEL = "tenants.User"

MIDDLEWARE = [
    # First: request id, /metrics on every host, request metrics and JSON log line.
    "tenants.observability.middleware.RequestObservabilityMiddleware",
    "tenants.middleware.HealthCheckMiddleware",
    "tenants.middleware.ShopRoutingMiddleware",
    # Before the storefront cache, so cached answers and preflights carry CORS headers too.
    "tenants.middleware.ShopCorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Admin and Storefront API budgets; counted in the first Redis round trip a request makes.
    "billing.middleware.RateLimitMiddleware",
    # Cached storefront answers leave here, skipping the rest (and DRF).
    "catalog.middleware.StorefrontCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees view exceptions first: problems, not debug pages, with DEBUG on.
    "tenants.conventions.problems.ProblemMiddleware",
]
CSRF_FAILURE_VIEW = "tenants.conventions.problems.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database ----------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/storefleet"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# What django-tenants wraps: Django's PostgreSQL backend, naming the constraints
# of added columns (Citus refuses unnamed ones; tenants/postgresql).
ORIGINAL_BACKEND = "tenants.postgresql"
# A database session caches the catalog of every schema it touches and never
# shrinks: close a connection (at the end of a request or task) once it has run
# queries in more than this many schemas (see tenants/schemas.py; 0 = never).
DB_CONN_MAX_SCHEMAS = env_int("DB_CONN_MAX_SCHEMAS", 200)

# Two checkouts testing at once (a developer and CI, or parallel helpers) must not
# share a test database or Redis keys: both are named after the checkout.
TEST_RUN_ID = "t" + hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]
if TESTING:
    DATABASES["default"]["TEST"] = {"NAME": f"test_storefleet_{TEST_RUN_ID}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker -----------------------------------------

# Tests use a Redis database of their own (15), and only keys named after the
# checkout (TEST_RUN_ID), which they delete when they finish.
REDIS_URL = os.environ.get(
    "REDIS_URL", "redis://127.0.0.1:6379/15" if TESTING else "redis://127.0.0.1:6379/0"
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every cache key starts with the current shop's schema ({schema}:...).
        "KEY_FUNCTION": "tenants.keys.cache_key",
        "KEY_PREFIX": TEST_RUN_ID if TESTING else os.environ.get("CACHE_KEY_PREFIX", ""),
    }
}

# Storefront responses are cached per shop, keyed by a version each change bumps.
STOREFRONT_CACHE_NAMESPACE = f"storefront-{TEST_RUN_ID}" if TESTING else "storefront"
STOREFRONT_CACHE_SECONDS = env_int("STOREFRONT_CACHE_SECONDS", 300)
# What cached storefront answers tell shared caches (a CDN, the docker/ edge): keep an
# answer this long (a change shows within it), and serve it this much longer while
# one request refreshes it.
STOREFRONT_SHARED_MAX_AGE = env_int("STOREFRONT_SHARED_MAX_AGE", 1)
STOREFRONT_STALE_WHILE_REVALIDATE = env_int("STOREFRONT_STALE_WHILE_REVALIDATE", 30)
# Each process's copies of the cached bodies it served last (catalog.cache), in bytes.
STOREFRONT_LOCAL_CACHE_BYTES = env_int("STOREFRONT_LOCAL_CACHE_BYTES", 8 * 1024 * 1024)
# Storefront pages assembled by SQL from the products' pre-rendered JSON (catalog.rendering);
# off: every page through the serializers (the same answers, slower).
STOREFRONT_RENDERED_PAGES = env_bool("STOREFRONT_RENDERED_PAGES", True)
# Billing's Redis counters (API calls per period): `{schema}:{namespace}:api-calls:YYYY-MM`.
BILLING_REDIS_NAMESPACE = f"billing-{TEST_RUN_ID}" if TESTING else "billing"
# What each process keeps of the public schema for the request path (tenants.process_cache):
# a shop's plan limits (read by the rate limiter on every request) and host -> shop answers.
# Changes reach every process at once through HOST_CACHE_CHANNEL, so these lifetimes only
# bound how long a long-tail shop stays in memory; while a process is not subscribed
# (Redis away) it trusts what it keeps for PROCESS_CACHE_UNHEARD_SECONDS only.
BILLING_LIMITS_CACHE_SECONDS = env_int("BILLING_LIMITS_CACHE_SECONDS", 600)
SHOP_HOST_CACHE_SECONDS = env_int("SHOP_HOST_CACHE_SECONDS", 600)
# Entries per process; the long tail of a 10,000-shop database fits.
SHOP_HOST_CACHE_SIZE = env_int("SHOP_HOST_CACHE_SIZE", 16384)
BILLING_LIMITS_CACHE_SIZE = env_int("BILLING_LIMITS_CACHE_SIZE", 16384)
PROCESS_CACHE_UNHEARD_SECONDS = env_int("PROCESS_CACHE_UNHEARD_SECONDS", 5)

# Rate limits (requests a minute) come from each shop's plan: the Admin API's per
# shop, the Storefront API's per client address of a shop. These, when set,
# replace every plan's figure (benchmarks, local load tests). Counters live under
# `{schema}:{RATE_LIMIT_NAMESPACE}:...`.
RATE_LIMIT_ADMIN_PER_MINUTE = env_int("RATE_LIMIT_ADMIN_PER_MINUTE", 0) or None
RATE_LIMIT_STOREFRONT_PER_MINUTE = env_int("RATE_LIMIT_STOREFRONT_PER_MINUTE", 0) or None
# Checkouts a minute per client address and shop: far fewer than its storefront
# requests, as each one reserves stock.
RATE_LIMIT_CHECKOUT_PER_MINUTE = env_int("RATE_LIMIT_CHECKOUT_PER_MINUTE", 10)
RATE_LIMIT_NAMESPACE = f"ratelimit-{TEST_RUN_ID}" if TESTING else "ratelimit"
# Sign-in (auth/token) and sign-up attempts: each spends one of its account's (the
# e-mail's) and one of its client address's, per window, before any password is hashed.
AUTH_ATTEMPTS_PER_ACCOUNT = env_int("AUTH_ATTEMPTS_PER_ACCOUNT", 10)
AUTH_ATTEMPTS_PER_ADDRESS = env_int("AUTH_ATTEMPTS_PER_ADDRESS", 30)
AUTH_ATTEMPT_WINDOW_SECONDS = env_int("AUTH_ATTEMPT_WINDOW_SECONDS", 300)

# Shopper accounts (orders.tokens): sign-in JWT lifetimes, and how long the e-mailed
# links stay good (each works once in any case).
CUSTOMER_ACCESS_MINUTES = env_int("CUSTOMER_ACCESS_MINUTES", 15)
CUSTOMER_REFRESH_DAYS = env_int("CUSTOMER_REFRESH_DAYS", 30)
CUSTOMER_VERIFY_LINK_HOURS = env_int("CUSTOMER_VERIFY_LINK_HOURS", 72)
CUSTOMER_RESET_LINK_HOURS = env_int("CUSTOMER_RESET_LINK_HOURS", 2)
CUSTOMER_EMAIL_CHANGE_LINK_HOURS = env_int("CUSTOMER_EMAIL_CHANGE_LINK_HOURS", 24)

# How many proxies of ours stand in front of the app (docker/compose.yaml's edge: 1).
# Unset or 0: X-Forwarded-For and X-Forwarded-Proto are the client's own words and
# are ignored; the socket's peer is the client (tenants.proxies.client_address).
# Set: the client address is that many X-Forwarded-For hops from the right, and
# X-Forwarded-Proto (which the edge overwrites) says whether the request was https.
# X-Forwarded-Host is never read: the edge passes the Host header on as it came.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
if NUM_PROXIES < 0:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more.")
if NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
# Processes tell each other here to forget what they keep (tenants.process_cache).
HOST_CACHE_CHANNEL = f"host-cache-{TEST_RUN_ID}" if TESTING else "host-cache"
# The outbox's per-shop wake-up flags: `{schema}:{OUTBOX_REDIS_NAMESPACE}:dispatch-pending`.
OUTBOX_REDIS_NAMESPACE = f"outbox-{TEST_RUN_ID}" if TESTING else "outbox"
# A woken dispatcher starts this long after the first commit, so that one task takes
# the events of every order placed meanwhile: at 50 orders/s, a batch of 25 costs a
# third of the CPU per order that batches of one do (e-mails and webhooks leave up
# to this much later). 0 dispatches at once.
OUTBOX_DISPATCH_DELAY_MS = env_int("OUTBOX_DISPATCH_DELAY_MS", 500)
# Live updates (tenants.live, config/live.py): the shop's pub/sub channel is
# `{schema}:{LIVE_REDIS_NAMESPACE}`; an open stream sends a comment this often so
# proxies keep it open and a dead client is noticed.
LIVE_REDIS_NAMESPACE = f"live-{TEST_RUN_ID}" if TESTING else "live"
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15)
# A stream ends at its JWT's expiry, and at the latest after this long, so a revoked API
# key or membership stops hearing the shop within it (the client reconnects and is checked).
LIVE_STREAM_MAX_SECONDS = env_int("LIVE_STREAM_MAX_SECONDS", 3600)
# Product CSV imports (catalog.bulk): the biggest file and the most rows one import takes.
PRODUCT_IMPORT_MAX_BYTES = env_int("PRODUCT_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
PRODUCT_IMPORT_MAX_ROWS = env_int("PRODUCT_IMPORT_MAX_ROWS", 50_000)
# Minutes an order whose card payment did not complete holds its stock before it
# expires (a manual order's time is the shop's own setting, 24 h by default).
ORDER_AUTHORIZATION_EXPIRY_MINUTES = env_int("ORDER_AUTHORIZATION_EXPIRY_MINUTES", 30)
# A card payment whose provider's answer is still unknown this long after checkout (the
# checkout died between its steps, or the provider timed out) is looked up at the
# provider by the expiry sweep, then finished or released (orders.services.payments_recover_due).
PAYMENT_RECOVERY_AFTER_SECONDS = env_int("PAYMENT_RECOVERY_AFTER_SECONDS", 120)
# How long the `test` provider's slow and timing-out test cards keep the checkout waiting.
TEST_PROVIDER_SLOW_SECONDS = float(os.environ.get("TEST_PROVIDER_SLOW_SECONDS", "3"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# kombu's Redis transport with a guard that keeps a worker alive through a Redis restart (config/broker.py).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "config.broker:RedisTransport"
CELERY_RESULT_BACKEND = None
# Queuing a task from a request (waking the outbox after a checkout) must never hang the
# answer on a frozen or unreachable broker: about a second to connect and to read, no retry
# (a retry on a frozen Redis took two seconds more), then the caller logs it and the beat
# relay queues the work once the broker is back. (The worker's own BRPOP is read through
# its event loop, not bound by socket_timeout.)
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "1"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
}
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tests run tasks inline (the worker isolation test starts a real worker instead).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", TESTING)
CELERY_TASK_EAGER_PROPAGATES = TESTING
# Webhook attempts wait on merchants' servers: they have a queue and workers of their
# own (`celery worker -Q webhooks`), so a slow endpoint never delays e-mails or the outbox.
WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE", f"webhooks-{TEST_RUN_ID}" if TESTING else "webhooks")
if TESTING:
    CELERY_TASK_DEFAULT_QUEUE = f"celery-{TEST_RUN_ID}"
CELERY_TASK_ROUTES = {"webhooks.delivery_attempt": {"queue": WEBHOOK_QUEUE}}
# Workers write a heartbeat to Redis this often (`{WORKER_HEARTBEAT_KEY}:<hostname>`, kept
# for three beats); /readyz reports the live ones and the age of the newest beat.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_HEARTBEAT_KEY = f"worker-heartbeat-{TEST_RUN_ID}" if TESTING else "worker-heartbeat"
# A worker that has sent an e-mail or a webhook records it, retrying on fresh
# database sessions, for up to this long before the send may be repeated.
OUTCOME_RECORD_SECONDS = env_int("OUTCOME_RECORD_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {"task": "tenants.outbox.relay", "schedule": 15.0},
    # The relay knows the shops with events from a Redis set; this finds them again after a
    # Redis loss (every shop's outbox is probed, so it runs rarely).
    "sweep-outbox": {"task": "tenants.outbox.sweep", "schedule": 300.0},
    # Shops count their orders in their own schemas; billing's views read this copy.
    "collect-order-counts": {"task": "billing.tasks.order_counts_collect", "schedule": 3600.0},
    "refill-warm-pool": {"task": "tenants.tasks.warm_pool_refill", "schedule": 60.0},
    # Issued and revoked refresh tokens are kept until they expire; then forgotten daily.
    "flush-expired-jwt": {"task": "tenants.tasks.jwt_tokens_flush", "schedule": 86400.0},
    "purge-idempotency-records": {
        "task": "tenants.tasks.idempotency_records_purge",
        "schedule": 3600.0,
    },
    "send-due-webhooks": {"task": "webhooks.deliveries_due", "schedule": 60.0},
    # Order events refresh their shop's report within seconds; this catches what they missed.
    "refresh-sales-aggregates": {"task": "orders.tasks.sales_aggregates_refresh", "schedule": 600.0},
    # Carts unused for 7 days, deleted shop by shop (carts live in each shop's schema).
    "delete-expired-carts": {"task": "orders.tasks.carts_expired_delete", "schedule": 86400.0},
    # Unpaid orders past their time give their stock back (orders.expiry).
    "expire-unpaid-orders": {"task": "orders.tasks.unpaid_orders_expire", "schedule": 60.0},
    # Last month's invoices, soon after the month ends; hourly, since issuing twice issues nothing.
    "issue-invoices": {"task": "billing.tasks.invoices_issue_due", "schedule": 3600.0},
}

# --- Auth and API ------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if TESTING:
    # Hashing strength is not under test; PBKDF2 would cost half a second a user.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["tenants.conventions.parsers.JSONBodyParser"],
    "DEFAULT_METADATA_CLASS": "tenants.conventions.metadata.AllowedMethodsMetadata",
    "DEFAULT_PAGINATION_CLASS": "tenants.conventions.pagination.CursorPage",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "tenants.conventions.problems.exception_handler",
    # Counts the Admin API's budget once a request is authorised (billing.ratelimits).
    # Sign-in and sign-up attempts per account and per address (views with a throttle_scope).
    "DEFAULT_THROTTLE_CLASSES": [
        "billing.api.throttles.ShopBudgetThrottle",
        "billing.api.throttles.SignInThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "tenants.conventions.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # DRF's own reading of X-Forwarded-For agrees with tenants.proxies (only NUM_PROXIES hops).
    "NUM_PROXIES": NUM_PROXIES,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": SECRET_KEY,
    "UPDATE_LAST_LOGIN": False,
    # A refresh answers a new refresh token and spends the old one; auth/logout revokes one.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Storefleet API",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.models.Product.Status",
        "OrderStatusEnum": "orders.models.Order.Status",
        # Imports and exports (catalog.models.ProductImport, CsvExport): the same four states.
        "JobStatusEnum": "catalog.models.CsvExport.Status",
        "ShopStatusEnum": "tenants.models.Shop.Status",
        "MemberRoleEnum": "tenants.models.Membership.Role",
        "Currency": "tenants.money.CURRENCIES",
        "Country": "orders.countries.COUNTRY_CODES",
        # Four models have a `kind`: each its own enum, named for what it sorts.
        "PaymentKindEnum": "orders.models.Payment.Kind",
        "DiscountKindEnum": "orders.models.Discount.Kind",
        "CsvJobKindEnum": "catalog.models.CsvExport.Kind",
        "ContentPageKindEnum": "catalog.storefront.models.ContentPage.Kind",
    },
    # Django's path converters, as the patterns they match (drf-spectacular only gives the type).
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0},
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        "uuid": {"type": "string", "format": "uuid"},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenants.conventions.openapi.add_problem_responses",
        "tenants.conventions.openapi.name_document",
        "tenants.conventions.openapi.finish_document",
    ],
}

# --- The SPA: admin origin (CORS) --------------------------------------------

# The admin SPA is served at /app/ on the platform host and calls the shops' Admin
# APIs on their own hosts; shop hosts allow this origin (comma-separate several),
# and only it. The default is the platform host as `make run` serves it.
_LOCAL_SERVING = DEBUG or TESTING or env_bool("STOREFLEET_LOCAL", False)
ADMIN_ORIGIN = os.environ.get(
    "ADMIN_ORIGIN",
    f"http://{PLATFORM_HOST}:{env_int('PORT', 8000)}" if _LOCAL_SERVING else f"https://{PLATFORM_HOST}",
)
# Links in shoppers' e-mails (order pages, verification, password reset) point at the
# shop's primary domain through this template; `{domain}` is replaced.
STOREFRONT_ORIGIN_TEMPLATE = os.environ.get(
    "STOREFRONT_ORIGIN_TEMPLATE",
    f"http://{{domain}}:{env_int('PORT', 8000)}" if _LOCAL_SERVING else "https://{domain}",
)
# Account e-mails (tenants.accounts) link to these admin SPA pages on the first
# ADMIN_ORIGIN. A password-reset or e-mail-change link works once, for this long;
# an invitation, for INVITATION_DAYS after it was last sent.
ADMIN_APP_URL = f"{ADMIN_ORIGIN.split(',')[0].strip().rstrip('/')}/app"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)
CORS_ALLOWED_ORIGINS = [origin.strip().rstrip("/") for origin in ADMIN_ORIGIN.split(",") if origin.strip()]
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "idempotency-key")
CORS_EXPOSE_HEADERS = ("Idempotent-Replayed", "RateLimit", "RateLimit-Policy", "Retry-After")
CORS_PREFLIGHT_MAX_AGE = 86400

# Largest request body accepted (JSON APIs); bigger ones get a 413 problem.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 1024 * 1024)

# --- Webhooks ----------------------------------------------------------------

# Endpoint URLs that resolve to loopback or private addresses are refused (SSRF),
# unless this is on: by default only for local development (`make run`), so a
# receiver on localhost works. Link-local (cloud metadata) stays refused always.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool(
    "WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG or env_bool("STOREFLEET_LOCAL", False)
)
# One POST may take this long in all (connect, send, answer).
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
# Attempts in flight at once to one endpoint; a slow endpoint holds at most this
# many of the webhook workers' processes, and the rest wait their turn.
WEBHOOK_ENDPOINT_CONCURRENCY = env_int("WEBHOOK_ENDPOINT_CONCURRENCY", 2)
# The circuit breaker: this many failed attempts in a row (errors, timeouts,
# non-2xx answers) pause an endpoint for WEBHOOK_BREAKER_PAUSE_SECONDS, doubled on
# each pause in a row up to WEBHOOK_BREAKER_PAUSE_MAX_SECONDS; then one attempt
# probes it, and a success closes the breaker.
WEBHOOK_BREAKER_FAILURES = env_int("WEBHOOK_BREAKER_FAILURES", 5)
WEBHOOK_BREAKER_PAUSE_SECONDS = env_int("WEBHOOK_BREAKER_PAUSE_SECONDS", 30)
WEBHOOK_BREAKER_PAUSE_MAX_SECONDS = env_int("WEBHOOK_BREAKER_PAUSE_MAX_SECONDS", 3600)
# Seconds to wait before each retry (±10% jitter): 1 min, 4, 16, 64, 256, then 8 h
# twice, so eight attempts over about 22 hours; after the last, the delivery is dead.
WEBHOOK_RETRY_DELAYS = [
    int(seconds)
    for seconds in os.environ.get("WEBHOOK_RETRY_DELAYS", "60,240,960,3840,15360,28800,28800").split(",")
    if seconds.strip()
]
WEBHOOK_MAX_ENDPOINTS = env_int("WEBHOOK_MAX_ENDPOINTS", 20)

# --- Static files ------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG or TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# The built SPA (`npm run build` in frontend/): two HTML entry points, served by
# config/spa.py with no-cache, and content-hashed assets under /static/spa/assets/,
# served by WhiteNoise and cached for a year. SPA_DIST_DIR points elsewhere (a CDN
# deployment still serves the HTML from here; see the README).
SPA_DIST_DIR = Path(os.environ.get("SPA_DIST_DIR", BASE_DIR / "frontend" / "dist"))
STATICFILES_DIRS = [("spa", SPA_DIST_DIR)] if SPA_DIST_DIR.is_dir() else []
_SPA_ASSETS_URL = f"{STATIC_URL}spa/assets/"


def spa_asset_headers(headers: dict[str, str], path: str, url: str) -> None:
    """Cache the SPA's hashed assets for good (Vite names each after its content)."""
    if url.startswith(_SPA_ASSETS_URL):
        headers["Cache-Control"] = "public, max-age=31536000, immutable"


WHITENOISE_ADD_HEADERS_FUNCTION = spa_asset_headers

# --- Object storage: product images, exports ----------------------------------

# `local` keeps objects on disk under MEDIA_ROOT (same keys as S3, served at
# MEDIA_URL by the app, uploads through signed URLs of the app); `s3` uses
# django-storages' S3 backend, configured by its own AWS_* settings below.
STORAGE = os.environ.get("STORAGE", "local").strip().lower()
if STORAGE not in {"local", "s3"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("STORAGE must be `local` or `s3`.")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None  # unset: AWS itself
S3_BUCKET = os.environ.get("S3_BUCKET", "storefleet")
AWS_STORAGE_BUCKET_NAME = S3_BUCKET
AWS_S3_ENDPOINT_URL = S3_ENDPOINT_URL
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or None  # unset: boto3's own credential chain
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME", os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
AWS_S3_SIGNATURE_VERSION = "s3v4"
# S3-compatible servers (MinIO, moto, Ceph) on a custom endpoint rarely resolve bucket subdomains.
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE", "path" if S3_ENDPOINT_URL else "auto")
# Image URLs: presigned GETs by default (the bucket stays private), valid for a
# week (the SigV4 maximum). A public bucket behind a CDN is better for heavy
# traffic: set AWS_S3_CUSTOM_DOMAIN (and AWS_QUERYSTRING_AUTH=0) for plain,
# cacheable URLs.
AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", True)
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 7 * 24 * 3600)
AWS_S3_CUSTOM_DOMAIN = os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None
AWS_S3_FILE_OVERWRITE = True  # keys are chosen by the app and unique
if STORAGE == "s3":
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}

# How long an export's download link stays valid.
EXPORT_LINK_SECONDS = env_int("EXPORT_LINK_SECONDS", 3600)

IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 10 * 1024 * 1024)
IMAGE_CONTENT_TYPES = [
    value.strip().lower()
    for value in os.environ.get("IMAGE_CONTENT_TYPES", "image/jpeg,image/png,image/webp,image/gif").split(",")
    if value.strip()
]
IMAGE_MAX_PER_PRODUCT = env_int("IMAGE_MAX_PER_PRODUCT", 50)
# The product import downloads each `Image Src` (catalog.image_fetch): seconds per image,
# and whether loopback and private addresses may be reached. Off unless set, even under
# `make run` (a CSV names URLs anyone could have written); tests serving images from a
# local server turn it on for themselves.
IMAGE_IMPORT_TIMEOUT_SECONDS = env_int("IMAGE_IMPORT_TIMEOUT_SECONDS", 15)
IMAGE_IMPORT_ALLOW_PRIVATE_URLS = env_bool("IMAGE_IMPORT_ALLOW_PRIVATE_URLS", False)
# How long an upload URL (presigned POST or the app's signed PUT) stays valid.
UPLOAD_URL_SECONDS = env_int("UPLOAD_URL_SECONDS", 900)

# --- E-mail -------------------------------------------------------------------

EMAIL_SCHEMES = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def email_url_settings(url: str) -> dict[str, object]:
    """
    Turn an `EMAIL_URL` into Django's EMAIL_* settings.

    `smtp://user:pass@host:587?tls=1` (STARTTLS; `?ssl=1` for implicit TLS),
    `smtps://user:pass@host` (implicit TLS, port 465), `console://`,
    `file:///absolute/dir` (or `file://relative/dir`, under the checkout),
    `memory://`, `dummy://`; `?timeout=<seconds>` (10 by default) bounds an SMTP
    exchange. User and password are percent-decoded. (dj-email-url reads
    `smtps` as STARTTLS and `file:///x` as a relative path, hence these lines.)
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    from django.core.exceptions import ImproperlyConfigured

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(f"EMAIL_URL: scheme must be one of {', '.join(EMAIL_SCHEMES)}.")
    query = {name: values[-1].strip().lower() for name, values in parse_qs(parts.query).items()}

    def flag(name: str) -> bool:
        return query.get(name, "0") in {"1", "true", "yes", "on"}

    conf: dict[str, object] = {"EMAIL_BACKEND": EMAIL_SCHEMES[scheme]}
    if scheme == "file":
        path = Path(unquote(parts.netloc + parts.path))
        conf["EMAIL_FILE_PATH"] = str(path if path.is_absolute() else BASE_DIR / path)
    elif scheme in {"smtp", "smtps"}:
        use_ssl = scheme == "smtps" or flag("ssl")
        use_tls = flag("tls")
        if use_ssl and use_tls:
            raise ImproperlyConfigured("EMAIL_URL: choose STARTTLS (tls=1) or implicit TLS (smtps, ssl=1).")
        conf |= {
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if use_ssl else 587 if use_tls else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": use_ssl,
            "EMAIL_USE_TLS": use_tls,
            "EMAIL_TIMEOUT": int(query.get("timeout", "10")),
        }
    return conf


# Where mail goes: EMAIL_URL when set (always wins, so a worker started by a test
# can be pointed at a directory); else Django's in-memory outbox under tests,
# files under var/mail for `make run`, and, in production without EMAIL_URL,
# the console with a warning at every start. The console keeps a
# misconfigured deployment taking orders and leaves each mail readable in the
# log to resend, where refusing to start would take every shop down over a side
# channel and a dummy backend would drop the mails unseen.
_email: dict[str, object]
if os.environ.get("EMAIL_URL", "").strip():
    _email = email_url_settings(os.environ["EMAIL_URL"])
elif TESTING:
    _email = {"EMAIL_BACKEND": EMAIL_SCHEMES["memory"]}
elif DEBUG or env_bool("STOREFLEET_LOCAL", False):
    _email = {"EMAIL_BACKEND": EMAIL_SCHEMES["file"], "EMAIL_FILE_PATH": str(BASE_DIR / "var" / "mail")}
else:
    logging.getLogger("config.settings").warning(
        "EMAIL_URL is not set: e-mails are printed to the console, not sent."
    )
    _email = {"EMAIL_BACKEND": EMAIL_SCHEMES["console"]}
# A backend class of its own (django-anymail's, or a test's) replaces the scheme's;
# the other EMAIL_* values (file path, host) still come from EMAIL_URL.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "").strip() or str(_email["EMAIL_BACKEND"])
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH")
EMAIL_HOST = str(_email.get("EMAIL_HOST", "localhost"))
EMAIL_PORT = int(str(_email.get("EMAIL_PORT", 25)))
EMAIL_HOST_USER = str(_email.get("EMAIL_HOST_USER", ""))
EMAIL_HOST_PASSWORD = str(_email.get("EMAIL_HOST_PASSWORD", ""))
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = int(str(_email["EMAIL_TIMEOUT"])) if "EMAIL_TIMEOUT" in _email else None
# Order e-mails come from this address, with the shop's name as the display name.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"orders@{SHOP_BASE_DOMAIN}")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Logging and metrics (tenants/observability) ----------------------------

# One JSON object a line (`json`, the default, also under `make run`), or plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "tenants.observability.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "text" if LOG_FORMAT == "text" else "json"}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Unknown hosts and bad input are answered with problems; they are not
        # server errors worth a stack trace each.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        # storefleet.request logs every answer, 4xx included; Django's own
        # "Not Found: ..." warnings would repeat them. Its 5xx errors stay.
        "django.request": {"level": "ERROR"},
    },
}
# Python warnings go through logging too (as JSON lines, not bare stderr text).
logging.captureWarnings(True)
# Celery keeps the root logger configured above (JSON) instead of its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# /metrics answers scrapers holding the token (Authorization: Bearer ...) or
# connecting from these networks; everyone else gets a 403 problem.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    network.strip()
    for network in os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128").split(",")
    if network.strip()
]
# Label request metrics by shop schema (off: one `all` series for every shop).
METRICS_LABEL_SHOPS = env_bool("METRICS_LABEL_SHOPS", True)
# A Celery worker serves its pool's task metrics on this port (0: not served).
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)
WORKER_METRICS_ADDRESS = os.environ.get("WORKER_METRICS_ADDRESS", "127.0.0.1")
# Traces (tenants/observability/tracing.py): on only where an OTLP/HTTP collector is named
# (e.g. http://tempo:4318); the exporter reads the OTEL_* variables itself. Off, nothing
# is instrumented and nothing of OpenTelemetry is imported.
TRACING = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())

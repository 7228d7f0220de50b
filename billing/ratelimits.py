"""
Rate limits (docs/api.md, "Rate limits"): each shop's Admin API has a budget of requests a
minute from its plan (`api_requests_per_minute`), and its Storefront API a larger
one per client address (`storefront_requests_per_minute`). Checkouts (`POST
checkout`), which reserve stock, spend a budget of their own per client address
instead, far smaller (`RATE_LIMIT_CHECKOUT_PER_MINUTE`).
Counted in Redis in fixed one-minute windows by one Lua script (atomic: INCR,
and EXPIRE on the window's first request), under the shop's schema, so one
shop's traffic never spends another's budget. Announced with the IETF
`RateLimit-Policy` and `RateLimit` headers; over the limit, a 429 problem with
`Retry-After`. If Redis is unreachable the request is served and the outage is
logged (fail open): a limiter must not take the shops down with it.

An Admin API request spends its shop's budget (and counts as a metered API call)
only once it is authorised: DRF's throttle step, after authentication and
permissions, counts it. Requests with no or bogus credentials (401/403), and
unknown Admin paths, spend nothing, so nobody can use up a merchant's budget, or
run up its metered usage, by knowing the shop's hostname.

A request costs one Redis round trip in all: the limiter's count boards the
request's first trip to Redis (tenants.request_trip), made by whatever reads
Redis first (the storefront cache's lookup) or, failing that, by the middleware
just before the view. Every count of this module goes through such a trip.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from billing.metering import API_CALLS_KEY_DAYS, api_calls_key
from billing.periods import period_of
from billing.selectors import shop_plan_limits
from tenants.conventions.problems import problem_response
from tenants.keys import RedisScript, ScriptCall, redis_key
from tenants.models import Shop
from tenants.proxies import client_address, rate_limit_subject
from tenants.request_trip import RequestTrip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
ADMIN_PREFIX = "/api/admin/"
STOREFRONT_PREFIX = "/api/storefront/"
CHECKOUT_PATH = "/api/storefront/v1/checkout"
# How long a metered API-call counter lives after its last count (billing.metering's figure).
USAGE_COUNTER_SECONDS = API_CALLS_KEY_DAYS * 86400
# At most one "limiter unreachable" warning per process this often, not one a request.
OUTAGE_LOG_SECONDS = 10.0

# KEYS[1] the window's counter, KEYS[2] (optional) the period's API-call counter
# (billing.metering's key, as api_call_record keeps it); ARGV: window seconds,
# quota, counter lifetime. Returns the window's count. Only requests within the
# quota are metered as API calls.
_COUNT = RedisScript(
    """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if #KEYS > 1 and count <= tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return count
"""
)


def admin_requests_per_minute(shop: Shop) -> int:
    """The shop's Admin API budget a minute: its plan's `api_requests_per_minute` (or the override)."""
    override = settings.RATE_LIMIT_ADMIN_PER_MINUTE
    return int(override) if override is not None else shop_plan_limits(shop).api_requests_per_minute


def storefront_requests_per_minute(shop: Shop) -> int:
    """The Storefront API budget a minute for one client address: the plan's (or the override)."""
    override = settings.RATE_LIMIT_STOREFRONT_PER_MINUTE
    return int(override) if override is not None else shop_plan_limits(shop).storefront_requests_per_minute


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window: int = WINDOW_SECONDS

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.quota};w={self.window}'


@dataclass(frozen=True)
class Decision:
    policy: Policy
    count: int
    reset: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.policy.quota

    @property
    def remaining(self) -> int:
        return max(0, self.policy.quota - self.count)

    @property
    def header(self) -> str:
        return f'"{self.policy.name}";r={self.remaining};t={self.reset}'


_last_outage_log = -math.inf


def _outage_log(exc: Exception) -> None:
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= OUTAGE_LOG_SECONDS:
        _last_outage_log = now
        logger.warning("Rate limiter unreachable, serving without limits (fail open): %r", exc)


class RequestLimit:
    """One request's place in its budget, counted once, on a trip to Redis (a tenants.request_trip.Rider)."""

    def __init__(
        self,
        policy: Policy,
        *,
        schema: str,
        subject: str | None,
        metered: bool,
        once_authorised: bool = False,
    ) -> None:
        self.policy = policy
        # Counted by billing.api.throttles.ShopBudgetThrottle once DRF has authorised the request,
        # else not at all.
        self.once_authorised = once_authorised
        now = time.time()
        window_start = int(now // policy.window) * policy.window
        self.reset = max(1, math.ceil(window_start + policy.window - now))
        parts: list[object] = [settings.RATE_LIMIT_NAMESPACE, policy.name, window_start]
        if subject is not None:
            parts.append(subject)
        self.keys = [redis_key(*parts, schema=schema)]
        if metered:
            moment = datetime.fromtimestamp(now, tz=UTC)
            self.keys.append(api_calls_key(schema=schema, period=period_of(moment)))
        self.counted = False
        self.decision: Decision | None = None  # None once counted: Redis was unreachable

    def call(self) -> ScriptCall:
        """The script call that rides the request's Redis round trip."""
        return _COUNT, self.keys, [self.policy.window + 1, self.policy.quota, USAGE_COUNTER_SECONDS]

    def receive(self, count: int) -> Decision:
        self.counted = True
        self.decision = Decision(policy=self.policy, count=int(count), reset=self.reset)
        return self.decision

    def fail_open(self, exc: Exception) -> None:
        self.counted = True
        self.decision = None
        _outage_log(exc)

    def refusal(self) -> HttpResponse | None:
        """The 429 problem once counted over budget; None within it, or uncounted."""
        if self.decision is None or self.decision.allowed:
            return None
        return too_many_requests(self.decision)


def request_limit_for(request: HttpRequest) -> RequestLimit | None:
    """The budget a request to a shop's Admin or Storefront API spends; None for anything else."""
    shop = getattr(request, "tenant", None)
    if not isinstance(shop, Shop):
        return None
    path = request.path
    if path.startswith(ADMIN_PREFIX):
        policy = Policy("admin", admin_requests_per_minute(shop))
        return RequestLimit(policy, schema=shop.schema_name, subject=None, metered=True, once_authorised=True)
    if path.startswith(STOREFRONT_PREFIX):
        if path == CHECKOUT_PATH and request.method == "POST":
            policy = Policy("checkout", settings.RATE_LIMIT_CHECKOUT_PER_MINUTE)
        else:
            policy = Policy("storefront", storefront_requests_per_minute(shop))
        client = rate_limit_subject(client_address(request))
        return RequestLimit(policy, schema=shop.schema_name, subject=client, metered=False)
    return None


def request_limit(request: HttpRequest) -> RequestLimit | None:
    """The limit RateLimitMiddleware attached to this request, if any."""
    return getattr(request, "_rate_limit", None)


def refusal_text(decision: Decision) -> str:
    return (
        f"This shop's {decision.policy.name} API allows {decision.policy.quota} requests "
        f"in {decision.policy.window} seconds; retry in {decision.reset} seconds."
    )


def too_many_requests(decision: Decision) -> HttpResponse:
    return problem_response(
        429,
        title="Too many requests",
        detail=refusal_text(decision),
        code="rate_limited",
        headers={"Retry-After": str(decision.reset)},
    )


def headers_add(response: HttpResponse, decision: Decision | None) -> None:
    if decision is not None:
        response["RateLimit-Policy"] = decision.policy.header
        response["RateLimit"] = decision.header


# --- Sign-in and sign-up attempts (Platform API) ------------------------------------
#
# Every password a platform user sends costs a password hash (about a second of CPU
# with Django's PBKDF2, on the workers every shop shares). A view naming one of
# SIGN_IN_SCOPES as its `throttle_scope` spends two budgets per attempt, in one Redis
# round trip, before its serializer runs (so before any hash): one per account
# (the e-mail, normalised, hashed) and one per client address. Over either, a 429
# problem with `Retry-After`; every answer carries RateLimit headers for both.

# Resetting a password, confirming an e-mail change and accepting an invitation spend
# the same kind of budgets: a view may name its account with `throttle_account(request)`
# (the e-mail by default; the account or invitation part of a link's token).
SIGN_IN_SCOPES = frozenset(
    {
        "sign-in",
        "sign-up",
        "password-reset",
        "password-reset-confirm",
        "email-change",
        "email-change-confirm",
        "invitation-accept",
    }
)
# The same budgets for a shop's shoppers (orders' customer accounts), counted in the shop's
# schema: signing in, signing up, asking for a password reset or for an order's link again,
# asking to change the e-mail (it checks the password).
CUSTOMER_SIGN_IN_SCOPES = frozenset(
    {
        "customer-sign-in",
        "customer-sign-up",
        "customer-password-reset",
        "customer-email-change",
        "order-lookup",
    }
)


def _account_subject(email: object) -> str | None:
    """The account's budget key: the e-mail as the login would match it, hashed (no address in Redis)."""
    if not isinstance(email, str) or not email.strip():
        return None
    normalised = unicodedata.normalize("NFKC", email).strip().lower()
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def sign_in_limits(*, scope: str, email: object, client: str, schema: str = "public") -> list[RequestLimit]:
    """The budgets an attempt at `scope` spends: per account (when an e-mail was sent) and per address."""
    window = settings.AUTH_ATTEMPT_WINDOW_SECONDS
    limits = [
        RequestLimit(
            Policy(f"{scope}-address", settings.AUTH_ATTEMPTS_PER_ADDRESS, window),
            schema=schema,
            subject=rate_limit_subject(client),
            metered=False,
        )
    ]
    account = _account_subject(email)
    if account is not None:
        policy = Policy(f"{scope}-account", settings.AUTH_ATTEMPTS_PER_ACCOUNT, window)
        limits.insert(0, RequestLimit(policy, schema=schema, subject=account, metered=False))
    return limits


def sign_in_limits_count(limits: list[RequestLimit]) -> list[Decision]:
    """Count every limit in one Redis round trip; none when Redis is unreachable (fail open)."""
    trip = RequestTrip()
    for limit in limits:
        trip.board(limit)
    if trip.make() is None:
        return []
    return [limit.decision for limit in limits if limit.decision is not None]


def sign_in_headers_add(request: HttpRequest, response: HttpResponse) -> None:
    """Announce the sign-in budgets an attempt spent (both, as lists of the IETF headers)."""
    decisions: list[Decision] = getattr(request, "_sign_in_decisions", [])
    if decisions:
        response["RateLimit-Policy"] = ", ".join(decision.policy.header for decision in decisions)
        response["RateLimit"] = ", ".join(decision.header for decision in decisions)

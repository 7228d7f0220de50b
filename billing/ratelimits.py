"""
Rate limits (SPEC section 2): each shop's Admin API has a budget of requests a
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

A request costs one Redis round trip in all: the limiter's script runs in the
same pipeline as whatever else the request reads from Redis first (the cached
storefront path batches it with its cache lookup), or alone just before the view.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import APIException, Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from billing.metering import API_CALLS_KEY_DAYS, api_calls_key
from billing.periods import period_of
from billing.selectors import shop_plan_limits
from tenants.conventions.problems import problem_response
from tenants.keys import RedisScript, ScriptCall, redis_key, redis_scripts_run
from tenants.models import Shop

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
    """One request's place in its budget, counted once: batched with other Redis reads, or alone."""

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
        # Counted by ShopBudgetThrottle once DRF has authorised the request, else not at all.
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
        """The script call to batch into the request's Redis round trip."""
        return _COUNT, self.keys, [self.policy.window + 1, self.policy.quota, USAGE_COUNTER_SECONDS]

    def receive(self, count: int) -> Decision:
        self.counted = True
        self.decision = Decision(policy=self.policy, count=int(count), reset=self.reset)
        return self.decision

    def fail_open(self, exc: Exception) -> None:
        self.counted = True
        self.decision = None
        _outage_log(exc)

    def count(self) -> Decision | None:
        """Count the request now unless it was counted already; None when Redis is unreachable."""
        if not self.counted:
            try:
                (count,) = redis_scripts_run([self.call()])
            except redis.RedisError as exc:
                self.fail_open(exc)
            else:
                self.receive(count)
        return self.decision


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
        # DRF's client address: REMOTE_ADDR, or X-Forwarded-For with NUM_PROXIES (it reads META only).
        client = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
        return RequestLimit(policy, schema=shop.schema_name, subject=client, metered=False)
    return None


def request_limit(request: HttpRequest) -> RequestLimit | None:
    """The limit RateLimitMiddleware attached to this request, if any."""
    return getattr(request, "_rate_limit", None)


def _refusal(decision: Decision) -> str:
    return (
        f"This shop's {decision.policy.name} API allows {decision.policy.quota} requests "
        f"in {decision.policy.window} seconds; retry in {decision.reset} seconds."
    )


def too_many_requests(decision: Decision) -> HttpResponse:
    return problem_response(
        429,
        title="Too many requests",
        detail=_refusal(decision),
        code="rate_limited",
        headers={"Retry-After": str(decision.reset)},
    )


class BudgetSpent(Throttled):
    """The 429 of too_many_requests(), raised from inside DRF (the problem handler renders it)."""

    def __init__(self, decision: Decision) -> None:
        APIException.__init__(self, detail=_refusal(decision), code="rate_limited")  # not Throttled's wording
        self.wait = decision.reset


class ShopBudgetThrottle(BaseThrottle):
    """
    DRF's throttle step (after authentication and permissions): count a request
    whose budget waits for that (the Admin API's), and refuse it over budget.
    Requests counted before their view (the Storefront API's) pass as they are.
    """

    def allow_request(self, request: Request, view: object) -> bool:
        limit = request_limit(request._request)
        if limit is not None and limit.once_authorised:
            decision = limit.count()
            if decision is not None and not decision.allowed:
                raise BudgetSpent(decision)
        return True


def headers_add(response: HttpResponse, decision: Decision | None) -> None:
    if decision is not None:
        response["RateLimit-Policy"] = decision.policy.header
        response["RateLimit"] = decision.header

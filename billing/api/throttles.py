"""
The rate limiter's two steps inside DRF (DEFAULT_THROTTLE_CLASSES): the Admin API's
budget, counted once authentication and permissions have run, and the sign-in
attempts. What they count and how lives in billing.ratelimits.
"""

from __future__ import annotations

from rest_framework.exceptions import APIException, Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from billing.ratelimits import (
    CUSTOMER_SIGN_IN_SCOPES,
    SIGN_IN_SCOPES,
    Decision,
    refusal_text,
    request_limit,
    sign_in_limits,
    sign_in_limits_count,
)
from tenants.models import Shop
from tenants.proxies import client_address
from tenants.request_trip import request_trip


class BudgetSpent(Throttled):
    """The 429 of too_many_requests(), raised from inside DRF (the problem handler renders it)."""

    def __init__(self, decision: Decision) -> None:
        APIException.__init__(
            self, detail=refusal_text(decision), code="rate_limited"
        )  # not Throttled's wording
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
            if not limit.counted:
                trip = request_trip(request._request)
                trip.board(limit)
                trip.make()
            decision = limit.decision
            if decision is not None and not decision.allowed:
                raise BudgetSpent(decision)
        return True


class AttemptsSpent(Throttled):
    """Too many sign-in or sign-up attempts: the 429 problem, with Retry-After."""

    def __init__(self, decision: Decision) -> None:
        subject = "account" if decision.policy.name.endswith("-account") else "address"
        detail = (
            f"Too many attempts for this {subject}: {decision.policy.quota} are allowed in "
            f"{decision.policy.window} seconds; retry in {decision.reset} seconds."
        )
        APIException.__init__(self, detail=detail, code="rate_limited")
        self.wait = decision.reset


class SignInThrottle(BaseThrottle):
    """DRF's throttle step for views whose `throttle_scope` is one of SIGN_IN_SCOPES."""

    def allow_request(self, request: Request, view: object) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if scope not in SIGN_IN_SCOPES and scope not in CUSTOMER_SIGN_IN_SCOPES:
            return True
        account_of = getattr(view, "throttle_account", None)
        if account_of is not None:
            account = account_of(request)
        else:
            data = request.data
            account = data.get("email") if isinstance(data, dict) else None
        tenant = getattr(request._request, "tenant", None)
        schema = tenant.schema_name if isinstance(tenant, Shop) else "public"
        limits = sign_in_limits(
            scope=str(scope), email=account, client=client_address(request._request), schema=schema
        )
        decisions = sign_in_limits_count(limits)
        request._request._sign_in_decisions = decisions  # type: ignore[attr-defined]
        refused = [decision for decision in decisions if not decision.allowed]
        if refused:
            raise AttemptsSpent(max(refused, key=lambda decision: decision.reset))
        return True

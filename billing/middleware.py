"""Rate limits on every shop's Admin and Storefront APIs (billing.ratelimits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from billing import ratelimits
from tenants.request_trip import request_trip


class RateLimitMiddleware:
    """
    Sits right after host routing and before the storefront cache. It attaches
    the request's limit. A Storefront API request's count boards the request's
    first trip to Redis (tenants.request_trip): made by the storefront cache's
    lookup, or else here just before the view runs (or after, for a request that
    never reached one, such as a 404); over the limit, the view does not run:
    429 with `Retry-After`. An Admin API request is counted by billing.api.throttles.ShopBudgetThrottle
    once DRF has authorised it, and not at all otherwise. Every counted answer
    carries the `RateLimit-Policy` and `RateLimit` headers, and so do sign-in and
    sign-up attempts (counted by SignInThrottle).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = ratelimits.request_limit_for(request)
        if limit is None:
            response = self.get_response(request)
            ratelimits.sign_in_headers_add(request, response)
            return response
        request._rate_limit = limit  # type: ignore[attr-defined]
        if not limit.once_authorised:
            request_trip(request).board(limit)
        response = self.get_response(request)
        request_trip(request).make()  # a request that reached no view is counted now
        ratelimits.headers_add(response, limit.decision)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if ratelimits.request_limit(request) is None:
            return None
        trip = request_trip(request)
        trip.make()
        return trip.refusal()

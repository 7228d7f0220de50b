"""
The first Redis round trip of a request to a shop, one home for whatever rides it.

A request pays Redis one visit up front: its rate limit is counted (billing),
and a cached storefront GET looks its answer up (catalog). Neither knows the
other. Billing boards its count onto the request's trip (`RequestTrip.board`);
whoever goes to Redis first (the storefront cache's lookup, or the rate-limit
middleware just before the view) makes the trip, sending every boarded call
ahead of its own as one combined script (`tenants.keys.redis_scripts_run`). A
rider whose answer stops the request (a spent budget) gives that answer from
`refusal()`; whoever made the trip returns it instead of going on.

Redis unreachable: each rider is told (`fail_open`) and the maker gets None,
so the request goes on without what Redis would have said.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import redis
from django.http import HttpRequest, HttpResponse

from tenants.keys import ScriptCall, redis_scripts_run


class Rider(Protocol):
    """A call that rides the request's next trip to Redis, and hears its own result."""

    def call(self) -> ScriptCall: ...

    def receive(self, result: Any) -> object: ...

    def fail_open(self, exc: Exception) -> None: ...

    def refusal(self) -> HttpResponse | None: ...


class RequestTrip:
    """The riders waiting for a request's next trip to Redis, and those that made one."""

    def __init__(self) -> None:
        self._waiting: list[Rider] = []
        self._done: list[Rider] = []

    def board(self, rider: Rider) -> None:
        """Send `rider`'s call with the next trip anyone makes for this request."""
        self._waiting.append(rider)

    def make(self, calls: Sequence[ScriptCall] = ()) -> list[Any] | None:
        """
        Send the waiting riders' calls, then `calls`, in one round trip (none when
        there is nothing to send); return the results of `calls`, or None when
        Redis is unreachable.
        """
        riders, self._waiting = self._waiting, []
        sent = [rider.call() for rider in riders] + list(calls)
        if not sent:
            return []
        self._done.extend(riders)
        try:
            results = redis_scripts_run(sent)
        except redis.RedisError as exc:
            for rider in riders:
                rider.fail_open(exc)
            return None
        for rider, result in zip(riders, results, strict=False):
            rider.receive(result)
        return results[len(riders) :]

    def refusal(self) -> HttpResponse | None:
        """The answer of the first rider that stops the request, if any has."""
        for rider in self._done:
            refused = rider.refusal()
            if refused is not None:
                return refused
        return None


def request_trip(request: HttpRequest) -> RequestTrip:
    """The request's trip (made on first use)."""
    trip: RequestTrip | None = getattr(request, "_redis_trip", None)
    if trip is None:
        trip = RequestTrip()
        request._redis_trip = trip  # type: ignore[attr-defined]
    return trip

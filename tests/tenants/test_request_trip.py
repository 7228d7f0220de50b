"""
The request's first Redis round trip (tenants.request_trip): riders boarded by one
layer (the rate limiter) go with the calls of whoever makes the trip (the storefront
cache), in one round trip, each hearing its own result; Redis away, each fails open.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.http import HttpResponse
from django.test import RequestFactory

from tenants import request_trip
from tenants.keys import RedisScript, ScriptCall
from tenants.request_trip import RequestTrip

ECHO = RedisScript("return ARGV[1]")


class Echo:
    """A rider whose call answers its own word; it refuses the request when told to."""

    def __init__(self, word: str, *, refuses: bool = False) -> None:
        self.word = word
        self.refuses = refuses
        self.heard: Any = None
        self.failed: Exception | None = None

    def call(self) -> ScriptCall:
        return ECHO, [], [self.word]

    def receive(self, result: Any) -> object:
        self.heard = result
        return result

    def fail_open(self, exc: Exception) -> None:
        self.failed = exc

    def refusal(self) -> HttpResponse | None:
        return HttpResponse(status=429) if self.refuses and self.heard is not None else None


@pytest.fixture
def trips(monkeypatch) -> list[list[ScriptCall]]:
    sent: list[list[ScriptCall]] = []
    run = request_trip.redis_scripts_run

    def recording(calls):
        sent.append(list(calls))
        return run(calls)

    monkeypatch.setattr(request_trip, "redis_scripts_run", recording)
    return sent


def test_riders_go_ahead_of_the_makers_calls_in_one_round_trip(trips) -> None:
    trip = RequestTrip()
    first, second = Echo("limit"), Echo("other")
    trip.board(first)
    trip.board(second)
    assert trip.make([(ECHO, [], ["lookup"])]) == [b"lookup"]
    assert (first.heard, second.heard) == (b"limit", b"other")
    assert len(trips) == 1 and [call[2] for call in trips[0]] == [["limit"], ["other"], ["lookup"]]
    # Each rider rides once: the next trip carries only what boarded since.
    assert trip.make([(ECHO, [], ["again"])]) == [b"again"]
    assert [call[2] for call in trips[1]] == [["again"]]


def test_nothing_to_send_makes_no_trip(trips) -> None:
    trip = RequestTrip()
    assert trip.make() == [] and trip.refusal() is None
    assert trips == []


def test_a_riders_refusal_stops_the_request(trips) -> None:
    trip = RequestTrip()
    trip.board(Echo("fine"))
    trip.board(Echo("spent", refuses=True))
    assert trip.refusal() is None  # nothing heard yet
    trip.make()
    refused = trip.refusal()
    assert refused is not None and refused.status_code == 429


def test_redis_away_fails_every_rider_open(monkeypatch) -> None:
    def away(calls):
        raise redis.ConnectionError("away")

    monkeypatch.setattr(request_trip, "redis_scripts_run", away)
    trip = RequestTrip()
    rider = Echo("limit", refuses=True)
    trip.board(rider)
    assert trip.make([(ECHO, [], ["lookup"])]) is None
    assert isinstance(rider.failed, redis.ConnectionError) and rider.heard is None
    assert trip.refusal() is None


def test_one_trip_per_request() -> None:
    request = RequestFactory().get("/")
    assert request_trip.request_trip(request) is request_trip.request_trip(request)
    assert request_trip.request_trip(RequestFactory().get("/")) is not request_trip.request_trip(request)

"""
Sign-in and sign-up attempts are throttled per account and per client address
before any password is hashed (billing.api.throttles.SignInThrottle); unknown
accounts and wrong passwords answer alike; refresh tokens are single-use and
revocable (auth/logout).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from billing import ratelimits
from tests.conftest import PASSWORD, PLATFORM, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db

SIGNUP = "/api/platform/v1/auth/signup"
TOKEN = "/api/platform/v1/auth/token"
REFRESH = "/api/platform/v1/auth/token/refresh"
LOGOUT = "/api/platform/v1/auth/logout"
ME = "/api/platform/v1/me"


class HeldClock:
    """The limiter's clock, held in the middle of a window (a test must not straddle two)."""

    def __init__(self, window: int) -> None:
        self.now = time.time() // window * window + window / 2

    def time(self) -> float:
        return self.now

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


@pytest.fixture(autouse=True)
def attempts(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.AUTH_ATTEMPTS_PER_ACCOUNT = 4
    settings.AUTH_ATTEMPTS_PER_ADDRESS = 6
    settings.AUTH_ATTEMPT_WINDOW_SECONDS = 300
    monkeypatch.setattr(ratelimits, "time", HeldClock(300))


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash computed (the test hasher's encode: set_password and check_password call it)."""
    computed: list[str] = []
    encode = MD5PasswordHasher.encode

    def counting(self: MD5PasswordHasher, password: str, salt: str) -> str:
        computed.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    yield computed


def sign_in(api: Any, email: str, password: str, address: str = "198.51.100.1") -> Any:
    return api.post(
        TOKEN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address, **PLATFORM
    )


def test_wrong_passwords_for_one_account_are_refused_before_the_hash(api: Any, hashes: list[str]) -> None:
    make_user("ada@example.com")
    hashes.clear()
    # Before: every attempt got its 401 (and cost a password hash), however many.
    for index in range(4):
        wrong = sign_in(api, "ada@example.com", f"guess-{index}", address=f"198.51.100.{index + 1}")
        assert_problem(wrong, 401)
        assert wrong["RateLimit-Policy"] == '"sign-in-account";q=4;w=300, "sign-in-address";q=6;w=300'
        assert re.fullmatch(
            rf'"sign-in-account";r={3 - index};t=\d+, "sign-in-address";r=5;t=\d+', wrong["RateLimit"]
        )
    assert len(hashes) == 4
    # From new addresses, in other spellings of the same e-mail: the account's budget is spent.
    full_width = "\uff41\uff44\uff41@example.com"  # NFKC folds it to ada@example.com
    for spelling in ("ada@example.com", " ADA@Example.COM ", full_width):
        refused = sign_in(api, spelling, PASSWORD, address="203.0.113.50")
        body = assert_problem(refused, 429)
        assert body["code"] == "rate_limited" and "this account" in body["detail"]
        assert 1 <= int(refused["Retry-After"]) <= 300
        assert refused["RateLimit"].startswith('"sign-in-account";r=0;')
    assert len(hashes) == 4  # refused before any hash, even with the right password
    # Another account from the same address still signs in.
    make_user("bo@example.com")
    assert sign_in(api, "bo@example.com", PASSWORD, address="203.0.113.50").status_code == 200


def test_one_address_cannot_try_many_accounts(api: Any, hashes: list[str]) -> None:
    for index in range(6):
        assert_problem(sign_in(api, f"user{index}@example.com", "guess"), 401)
    body = assert_problem(sign_in(api, "user99@example.com", "guess"), 429)
    assert "this address" in body["detail"]
    # A forged X-Forwarded-For is no new address (tenants.proxies).
    forged = api.post(
        TOKEN,
        {"email": "user98@example.com", "password": "guess"},
        format="json",
        REMOTE_ADDR="198.51.100.1",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
        **PLATFORM,
    )
    assert_problem(forged, 429)
    assert sign_in(api, "user97@example.com", "guess", address="198.51.100.2").status_code == 401


def test_unknown_account_and_wrong_password_answer_alike(api: Any, hashes: list[str]) -> None:
    make_user("cy@example.com")
    hashes.clear()
    unknown = sign_in(api, "nobody@example.com", "whatever-1", address="198.51.100.3")
    wrong = sign_in(api, "cy@example.com", "whatever-1", address="198.51.100.4")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown["Content-Type"] == wrong["Content-Type"]
    # One password hash each: an unknown e-mail costs what a wrong password does.
    assert hashes == ["whatever-1", "whatever-1"]


def test_sign_up_is_throttled_per_address_and_per_email(api: Any, hashes: list[str]) -> None:
    def sign_up(email: str, address: str) -> Any:
        return api.post(
            SIGNUP, {"email": email, "password": PASSWORD}, format="json", REMOTE_ADDR=address, **PLATFORM
        )

    for index in range(6):
        created = sign_up(f"new{index}@example.com", "198.51.100.9")
        assert created.status_code == 201, created.content
        assert created["RateLimit-Policy"].startswith(
            '"sign-up-account";q=4;w=300, "sign-up-address";q=6;w=300'
        )
    refused = sign_up("new6@example.com", "198.51.100.9")
    assert_problem(refused, 429)
    assert "Retry-After" in refused
    from tenants.models import User

    assert not User.objects.filter(email="new6@example.com").exists()
    # One e-mail tried from many addresses (probing whether it is taken) runs out too.
    for index in range(3):  # the fourth attempt for this e-mail, the first was its sign-up
        assert_problem(sign_up("new0@example.com", f"203.0.113.{index + 1}"), 409)
    assert_problem(sign_up("new0@example.com", "203.0.113.99"), 429)


def test_malformed_sign_in_bodies_are_problems(api: Any) -> None:
    for body in (
        {"email": 7, "password": "x"},
        {"email": "a\x00b@example.com", "password": "x"},
        ["list"],
        {},
    ):
        answer = api.post(TOKEN, body, format="json", **PLATFORM)
        assert answer.status_code in (400, 401), answer.content
        assert answer["Content-Type"] == "application/problem+json"
    lone = api.post(
        TOKEN,
        b'{"email": "\\ud800@example.com", "password": "x"}',
        content_type="application/json",
        **PLATFORM,
    )
    assert lone.status_code in (400, 401) and lone["Content-Type"] == "application/problem+json"
    options = api.options(LOGOUT, **PLATFORM)
    assert options.status_code in (200, 405)


# --- Refresh tokens: rotated on use, revoked on logout -------------------------------------


def pair_for(api: Any, email: str) -> dict[str, str]:
    make_user(email)
    answer = sign_in(api, email, PASSWORD)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_refresh_token_works_once(api: Any) -> None:
    pair = pair_for(api, "dee@example.com")
    first = api.post(REFRESH, {"refresh": pair["refresh"]}, format="json", **PLATFORM)
    assert first.status_code == 200
    rotated = first.json()
    # Before: the same refresh token worked again and again for 14 days, and no new one came back.
    assert rotated["refresh"] != pair["refresh"]
    assert api.get(ME, **PLATFORM, **bearer(rotated["access"])).status_code == 200
    body = assert_problem(api.post(REFRESH, {"refresh": pair["refresh"]}, format="json", **PLATFORM), 401)
    assert "blacklisted" in str(body["detail"])
    assert api.post(REFRESH, {"refresh": rotated["refresh"]}, format="json", **PLATFORM).status_code == 200


def test_logout_revokes_the_refresh_token(api: Any) -> None:
    pair = pair_for(api, "eve@example.com")
    # Before: there was no auth/logout (404), so a leaked refresh token stayed good for 14 days.
    out = api.post(LOGOUT, {"refresh": pair["refresh"]}, format="json", **PLATFORM)
    assert out.status_code == 204, out.content
    assert_problem(api.post(REFRESH, {"refresh": pair["refresh"]}, format="json", **PLATFORM), 401)
    assert_problem(api.post(LOGOUT, {"refresh": pair["refresh"]}, format="json", **PLATFORM), 401)
    assert_problem(api.post(LOGOUT, {"refresh": "garbage"}, format="json", **PLATFORM), 401)
    assert_problem(api.post(LOGOUT, {"refresh": pair["access"]}, format="json", **PLATFORM), 401)
    assert_problem(api.post(LOGOUT, {}, format="json", **PLATFORM), 400)
    for bad in ('{"refresh": "a\\u0000b"}', '{"refresh": "\\ud800"}', '{"refresh": 1' + "0" * 400 + "}"):
        answer = api.post(LOGOUT, bad, content_type="application/json", **PLATFORM)
        assert answer.status_code in (400, 401) and answer["Content-Type"] == "application/problem+json"
    assert_problem(api.get(LOGOUT, **PLATFORM), 405)


def test_expired_refresh_tokens_are_flushed_by_the_beat_task(api: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from tenants import tasks

    pair = pair_for(api, "fay@example.com")
    api.post(LOGOUT, {"refresh": pair["refresh"]}, format="json", **PLATFORM)
    OutstandingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    tasks.jwt_tokens_flush.apply()
    assert not OutstandingToken.objects.exists()

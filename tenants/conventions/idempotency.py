"""
`Idempotency-Key` on POST, with Stripe's semantics (SPEC section 2).

The first request with a key claims it in its own committed row, so a racing
request sees it in flight (409). The handler then runs in one transaction with
the write that stores its response, so a stored response always matches work
that was committed. The same key with the same body within 24 h replays the
stored status and body with `Idempotent-Replayed: true`; with another body
(or another endpoint) it gets 422. A handler that raises or answers 5xx
releases its key, so the client may retry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tenants.errors import DomainError
from tenants.keys import current_schema
from tenants.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
# How long a claimed key blocks others before it is presumed abandoned (its
# worker died mid-request) and may be taken over.
IN_FLIGHT_LOCK = timedelta(seconds=60)
# Headers worth replaying besides the body.
STORED_HEADERS = ("Location",)


class IdempotencyKeyRequired(DomainError):
    status = 428
    code = "idempotency_key_required"
    title = "Idempotency-Key required"


class IdempotencyKeyInvalid(DomainError):
    status = 400
    code = "idempotency_key_invalid"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with another request"


class IdempotencyRequestInFlight(DomainError):
    status = 409
    code = "idempotency_request_in_flight"
    title = "A request with this Idempotency-Key is in progress"


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord


def request_principal(request: Request) -> str:
    """Return who sent the request, so two callers never share a key space."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    user = request.user
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"


def request_fingerprint(request: Request) -> str:
    """Hash the method, path and JSON body (key order and whitespace ignored)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def key_claim(*, request: Request, key: str) -> Claim | Response:
    """Claim `key` for this request, or return the stored response to replay."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyInvalid(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.")
    scope = {"schema_name": current_schema(), "principal": request_principal(request), "key": key}
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    **scope,
                    method=request.method or "POST",
                    path=request.path[:2000],
                    fingerprint=fingerprint,
                    locked_until=now + IN_FLIGHT_LOCK,
                )
            return Claim(record)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(**scope).first()
        if existing is None:
            continue  # released between our insert and our read: try again
        if existing.created_at < now - RETENTION:
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This {HEADER} was used with a different request; send a new key for a new request."
            )
        if existing.status_code is not None:
            return _replay(existing)
        taken_over = IdempotencyRecord.objects.filter(
            pk=existing.pk, status_code__isnull=True, locked_until__lt=now
        ).update(locked_until=now + IN_FLIGHT_LOCK)
        if taken_over:
            existing.refresh_from_db()
            return Claim(existing)
        raise IdempotencyRequestInFlight(
            f"A request with this {HEADER} is still being processed; retry after it finishes."
        )
    raise IdempotencyRequestInFlight(f"This {HEADER} is contended; retry shortly.")


def _replay(record: IdempotencyRecord) -> Response:
    data = json.loads(bytes(record.response_body)) if record.response_body else None
    headers = {**record.response_headers, REPLAYED_HEADER: "true"}
    response = Response(data, status=record.status_code, headers=headers)
    if record.response_content_type:
        response.content_type = record.response_content_type
    return response


def _store(record: IdempotencyRecord, response: Response) -> None:
    record.status_code = response.status_code
    record.response_body = json.dumps(response.data, cls=JSONEncoder).encode()
    record.response_content_type = response.get("Content-Type", "") if response.content_type else ""
    record.response_headers = {name: response[name] for name in STORED_HEADERS if name in response}
    record.save(update_fields=["status_code", "response_body", "response_content_type", "response_headers"])


def idempotent(*, required: bool = False) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Make a DRF `post` handler honour `Idempotency-Key` (and demand it if `required`)."""

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise IdempotencyKeyRequired(f"Send an {HEADER} header with this request.")
                return handler(view, request, *args, **kwargs)
            outcome = key_claim(request=request, key=key)
            if isinstance(outcome, Response):
                return outcome
            record = outcome.record
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
                    if response.status_code >= 500:
                        raise _ServerErrorResponse(response)
                    _store(record, response)
            except _ServerErrorResponse as failed:
                record.delete()
                return failed.response
            except BaseException:
                record.delete()
                raise
            return response

        wrapper.idempotent = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


class _ServerErrorResponse(Exception):
    """Carry a 5xx response out of the transaction so its writes roll back."""

    def __init__(self, response: Response) -> None:
        self.response = response


def records_purge() -> int:
    """Delete records older than the 24 h replay window; return how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - RETENTION).delete()
    return deleted

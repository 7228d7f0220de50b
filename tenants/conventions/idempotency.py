"""
`Idempotency-Key` on POST, with Stripe's semantics (docs/api.md, "Idempotency").

The handler runs in one transaction that first takes the key and ends by
storing the response, so a stored response always matches work that was
committed, and a request that fails (raises, or answers 5xx) leaves nothing
behind: the client may retry with the same key.

Taking the key is one statement: a transaction-scoped advisory lock on the
(shop, caller, key) and the look-up of a stored response. A request racing one
in flight does not get the lock and answers 409; a lock dies with its
transaction, so a worker killed mid-request leaves no stale claim. The same key
with the same body within 24 h replays the stored status and body with
`Idempotent-Replayed: true`; with another body (or another endpoint) it gets
422. (A request that commits between a racer's look-up and its lock makes the
racer's INSERT of its response conflict: the racer rolls back and replays.)

Whose key it is: an API key's, a user's, or, for anonymous callers, what the
endpoint names (`principal=`): the storefront's checkout scopes keys to the cart,
a secret only its shopper holds, so two shoppers never share a key space. A
response holding a secret is stored without it (`stored_body=`) and the secret
is put back for a replay (`replayed_body=`), from what the replaying request
itself carries: nothing secret is kept in clear, and only a caller in the same
scope sending the same body gets it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tenants.errors import DomainError
from tenants.idempotency.models import IdempotencyRecord
from tenants.keys import current_schema
from tenants.models import ApiKey
from tenants.schemas import shop_schemas_with_table

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Visible ASCII, no spaces: what a header carries unchanged through every proxy. The
# OpenAPI documents publish this pattern.
KEY_PATTERN_TEXT = f"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
KEY_PATTERN = re.compile(KEY_PATTERN_TEXT)
RETENTION = timedelta(hours=24)
# Headers worth replaying besides the body.
STORED_HEADERS = ("Location",)
ANONYMOUS = "anonymous"


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
class Scope:
    """Whose key it is: two shops, or two callers of one shop, may use the same key."""

    schema_name: str
    principal: str
    key: str

    def lock_id(self) -> int:
        """The advisory lock's 64-bit id for this scope."""
        digest = hashlib.sha256(f"{self.schema_name}\n{self.principal}\n{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True)
class Stored:
    """A response stored under a key."""

    id: int
    fingerprint: str
    status_code: int
    body: bytes | None
    content_type: str
    headers: dict[str, str]
    created_at: datetime


def request_principal(request: Request) -> str:
    """Return who sent the request, so two callers never share a key space."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    user = request.user
    if user is not None and getattr(user, "is_authenticated", False):
        # A shop's signed-in customers (orders.models.Customer) are another kind of caller
        # than platform users, with ids of their own: each kind keeps its own key space.
        return f"{getattr(user, 'principal_kind', 'user')}:{user.pk}"
    return ANONYMOUS


class _FingerprintEncoder(JSONEncoder):
    """JSON, with an uploaded file (a multipart body, e.g. a CSV import) standing as its content's hash."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, UploadedFile):
            digest = hashlib.sha256()
            for chunk in obj.chunks():
                digest.update(chunk)
            obj.seek(0)
            return f"file:{obj.name}:{obj.size}:{digest.hexdigest()}"
        return super().default(obj)


def request_fingerprint(request: Request) -> str:
    """Hash the method, path and body (JSON: key order and whitespace ignored; files: their content)."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), cls=_FingerprintEncoder)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


TABLE = IdempotencyRecord._meta.db_table
STORED_COLUMNS = (
    "id",
    "fingerprint",
    "status_code",
    "response_body",
    "response_content_type",
    "response_headers",
    "created_at",
)
_SELECTED = ", ".join(f"r.{column}" for column in STORED_COLUMNS)


def _key_take(scope: Scope) -> tuple[bool, Stored | None]:
    """In the current transaction: (whether this request now holds the key, the response stored under it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT pg_try_advisory_xact_lock(%s), {_SELECTED}
                FROM (SELECT 1) AS one
                LEFT JOIN {TABLE} AS r ON r.schema_name = %s AND r.principal = %s AND r.key = %s""",
            [scope.lock_id(), scope.schema_name, scope.principal, scope.key],
        )
        locked, *stored = cursor.fetchone()
    return locked, _stored(stored)


def _stored_read(scope: Scope) -> Stored | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SELECTED} FROM {TABLE} AS r "
            "WHERE r.schema_name = %s AND r.principal = %s AND r.key = %s",
            [scope.schema_name, scope.principal, scope.key],
        )
        return _stored(cursor.fetchone())


def _stored(row: Any) -> Stored | None:
    if row is None or row[0] is None:
        return None
    record_id, fingerprint, status_code, body, content_type, headers, created_at = row
    if isinstance(headers, str):
        headers = json.loads(headers)
    body = bytes(body) if body is not None else None
    return Stored(record_id, fingerprint, status_code, body, content_type, headers, created_at)


BodyFilter = Callable[[Request, Any], Any]


def _stored_response(
    stored: Stored, fingerprint: str, request: Request, replayed_body: BodyFilter | None
) -> Response:
    """Replay what is stored under the key, or refuse a different request under the same key."""
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This {HEADER} was used with a different request; send a new key for a new request."
        )
    data = json.loads(stored.body) if stored.body else None
    if replayed_body is not None:
        data = replayed_body(request, data)
    response = Response(data, status=stored.status_code, headers={**stored.headers, REPLAYED_HEADER: "true"})
    if stored.content_type:
        response.content_type = stored.content_type
    return response


def _store(
    scope: Scope, fingerprint: str, request: Request, response: Response, stored_body: BodyFilter | None
) -> bool:
    """Store the response under the key, in the handler's transaction; False if another request did first."""
    data = response.data if stored_body is None else stored_body(request, response.data)
    content_type = response.get("Content-Type", "") if response.content_type else ""
    headers = {name: response[name] for name in STORED_HEADERS if name in response}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {TABLE} (schema_name, principal, key, method, path, fingerprint, status_code,
                    response_body, response_content_type, response_headers, created_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, now())
                ON CONFLICT (schema_name, principal, key) DO NOTHING RETURNING id""",
            [
                scope.schema_name,
                scope.principal,
                scope.key,
                request.method or "POST",
                request.path[:2000],
                fingerprint,
                response.status_code,
                json.dumps(data, cls=JSONEncoder).encode(),
                content_type,
                json.dumps(headers),
            ],
        )
        return cursor.fetchone() is not None


def _key_check(key: str) -> None:
    if not KEY_PATTERN.fullmatch(key):
        raise IdempotencyKeyInvalid(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID is a good key)."
        )


class _Replay(Exception):
    """Leave the handler with the response stored under the key."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass
class KeyHold:
    """An Idempotency-Key held by a handler that runs in several transactions (`steps=True`)."""

    scope: Scope | None  # None: the request carries no key, and nothing is stored
    fingerprint: str
    request: Request
    stored_body: BodyFilter | None
    replayed_body: BodyFilter | None

    @contextlib.contextmanager
    def taken(self) -> Iterator[None]:
        """The handler's first transaction, which first takes the key (or replays, or refuses a racer)."""
        with transaction.atomic():
            if self.scope is not None:
                stored = _key_claim(self.scope)
                if stored is not None:
                    replay = _stored_response(stored, self.fingerprint, self.request, self.replayed_body)
                    raise _Replay(replay)
            yield

    def store(self, response: Response) -> None:
        """In the handler's last transaction: store its response under the key (5xx answers are not)."""
        if self.scope is None or response.status_code >= 500:
            return
        if not _store(self.scope, self.fingerprint, self.request, response, self.stored_body):
            raise _Raced


def _key_claim(scope: Scope) -> Stored | None:
    """In the current transaction: take the key; the response stored under it, if any; 409 if in flight."""
    locked, stored = _key_take(scope)
    if stored is not None and stored.created_at < timezone.now() - RETENTION:
        IdempotencyRecord.objects.filter(pk=stored.id).delete()  # expired: the key is free
        stored = None
    if stored is None and not locked:
        raise IdempotencyRequestInFlight(
            f"A request with this {HEADER} is still being processed; retry after it finishes."
        )
    return stored


def idempotent(
    *,
    required: bool = False,
    steps: bool = False,
    principal: Callable[[Request], str] | None = None,
    stored_body: BodyFilter | None = None,
    replayed_body: BodyFilter | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """
    Make a DRF `post` handler honour `Idempotency-Key` (and demand it if
    `required`). `principal` names an anonymous caller's key space (an
    authenticated caller's is always their own); `stored_body` takes the secrets
    out of a response before it is stored, and `replayed_body` puts them back
    for a replay. With `steps`, the handler runs its own transactions with a
    `KeyHold` (see the module).
    """

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    raise IdempotencyKeyRequired(f"Send an {HEADER} header with this request.")
                if steps:
                    setattr(request, "idempotency", KeyHold(None, "", request, stored_body, replayed_body))  # noqa: B010
                return handler(view, request, *args, **kwargs)
            _key_check(key)
            caller = request_principal(request)
            if caller == ANONYMOUS and principal is not None:
                caller = principal(request)
            scope = Scope(current_schema(), caller, key)
            fingerprint = request_fingerprint(request)
            if steps:
                hold = KeyHold(scope, fingerprint, request, stored_body, replayed_body)
                setattr(request, "idempotency", hold)  # noqa: B010
            try:
                if steps:
                    return handler(view, request, *args, **kwargs)
                with transaction.atomic():
                    stored = _key_claim(scope)
                    if stored is not None:
                        return _stored_response(stored, fingerprint, request, replayed_body)
                    response = handler(view, request, *args, **kwargs)
                    if response.status_code >= 500:
                        raise _ServerErrorResponse(response)
                    if not _store(scope, fingerprint, request, response, stored_body):
                        raise _Raced
            except _ServerErrorResponse as failed:
                return failed.response
            except _Replay as replay:
                return replay.response
            except _Raced:
                # Another request with this key committed as this one took it: its work stands,
                # this one's rolled back.
                stored = _stored_read(scope)
                if stored is None:
                    raise IdempotencyRequestInFlight(f"This {HEADER} is contended; retry shortly.") from None
                return _stored_response(stored, fingerprint, request, replayed_body)
            return response

        wrapper.idempotent = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


class _Raced(Exception):
    """The key was stored by another request while this one ran."""


class _ServerErrorResponse(Exception):
    """Carry a 5xx response out of the transaction so its writes roll back."""

    def __init__(self, response: Response) -> None:
        self.response = response


def records_purge() -> int:
    """Delete records older than the 24 h replay window, in public and in every shop; return how many."""
    cutoff = timezone.now() - RETENTION
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    quote = connection.ops.quote_name
    table = quote(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        for schema in shop_schemas_with_table(IdempotencyRecord._meta.db_table):
            # One short statement per shop (the index on created_at), each its own commit.
            cursor.execute(f"DELETE FROM {quote(schema)}.{table} WHERE created_at < %s", [cutoff])
            deleted += cursor.rowcount
    return deleted

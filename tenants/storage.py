"""
Object storage: the one module that talks to S3 or to the local disk.

Every key is a shop's (`tenants/{schema}/...`, from `tenants.keys.storage_key`)
and both backends keep the same key layout, so moving a shop's files between
them is a copy. With `STORAGE=s3` the objects live in the bucket of
django-storages' S3 backend (`default_storage`), whose boto3 client also signs
the browser's direct uploads (a presigned POST whose policy pins the content
type and bounds the size). With `STORAGE=local` they live under MEDIA_ROOT,
and the app plays S3's part: it hands out signed PUT URLs on the shop's host
(`/api/uploads?token=...`, received by `upload_receive`) and serves the files at
MEDIA_URL, so clients follow the same flow in both.

Direct uploads land under `uploads/` + the key they are meant for
(`upload_key_for`), never on a key that is served: confirming checks the object
and moves it to its key (`object_move`). An upload URL that is used again, in
the minutes it stays valid, can then only write a file that nothing serves or
counts; the bucket keeps `uploads/` private and expires it (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import urlencode

from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from tenants.errors import DomainError
from tenants.keys import storage_key

logger = logging.getLogger(__name__)

# [uploads/]tenants/{schema}/segment/...: every segment starts with a letter or digit,
# so no `.`, `..` or empty segment can walk out of a shop's folder.
_KEY_RE = re.compile(r"^(?:uploads/)?tenants/[a-z0-9_]+(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,199})+$")
UPLOADS_PREFIX = "uploads/"
_UPLOAD_SALT = "storefleet.storage.upload"
_DOWNLOAD_SALT = "storefleet.storage.download"
_SHOP_PREFIX_RE = re.compile(r"^tenants/[a-z0-9_]+$")
_CHUNK = 64 * 1024


def key_check(key: str) -> str:
    """Return `key` if it is a well-formed shop object key; raise ValueError otherwise."""
    if len(key) > 1000 or not _KEY_RE.fullmatch(key):
        raise ValueError(f"Not an object key: {key[:100]!r}")
    return key


def _in_current_shop(key: str) -> bool:
    return key.startswith(storage_key() + "/")


def upload_key_for(key: str) -> str:
    """Where a direct upload meant for `key` lands until it is confirmed: `uploads/{key}`."""
    return UPLOADS_PREFIX + key_check(key)


# --- Upload refusals (the local upload endpoint answers with these) --------------


class UploadUrlInvalid(DomainError):
    status = 403
    code = "upload_url_invalid"
    title = "Upload URL invalid"


class UploadUrlExpired(DomainError):
    status = 403
    code = "upload_url_expired"
    title = "Upload URL expired"


class DownloadUrlInvalid(DomainError):
    status = 403
    code = "download_url_invalid"
    title = "Download URL invalid"


class DownloadUrlExpired(DomainError):
    status = 403
    code = "download_url_expired"
    title = "Download URL expired"


class UploadUrlUsed(DomainError):
    status = 403
    code = "upload_url_used"
    title = "Upload URL already used"


class ObjectChanged(DomainError):
    status = 409
    code = "upload_changed"
    title = "Upload changed"


class UploadLengthRequired(DomainError):
    status = 411
    code = "upload_length_required"
    title = "Content-Length required"


class UploadEmpty(DomainError):
    status = 400
    code = "upload_empty"
    title = "Empty upload"


class UploadTooLarge(DomainError):
    status = 413
    code = "upload_too_large"
    title = "Upload too large"


class UploadContentTypeMismatch(DomainError):
    status = 415
    code = "upload_content_type_mismatch"
    title = "Content-Type does not match the upload URL"


# --- What callers get --------------------------------------------------------------


@dataclass(frozen=True)
class UploadForm:
    """How a client sends the bytes: S3's presigned POST form, or a PUT with headers."""

    method: str  # "POST" (multipart form: `fields`, then the file as `file`) or "PUT" (body, `headers`)
    url: str  # absolute for S3; a path on the shop's own host for local storage
    expires_at: datetime
    headers: dict[str, str] | None = None
    fields: dict[str, str] | None = None


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    etag: str = ""  # S3's ETag: a later copy or read of this very version can insist on it


@dataclass(frozen=True)
class UploadGrant:
    """What a local upload token allows: one key, one content type, at most `max_bytes`."""

    key: str
    content_type: str
    max_bytes: int
    expires_at: int  # unix time


class Readable(Protocol):
    def read(self, n: int | None = -1, /) -> bytes: ...


class _Backend(Protocol):
    def upload_prepare(self, key: str, content_type: str, max_bytes: int, expires_at: int) -> UploadForm: ...
    def stat(self, key: str) -> StoredObject | None: ...
    def read(self, key: str, max_bytes: int) -> bytes: ...
    def read_start(self, key: str, length: int, etag: str) -> bytes: ...
    def move(self, source: str, target: str, etag: str, size: int) -> None: ...
    def write(self, key: str, data: bytes, content_type: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...
    def download_url(self, key: str, filename: str, expires_at: int) -> str: ...
    def keys_under(self, prefix: str) -> Iterator[str]: ...


class _S3:
    """django-storages' S3Storage, and its boto3 client for what the Storage API lacks."""

    @property
    def _storage(self) -> Any:
        return cast(Any, default_storage)

    @property
    def _client(self) -> Any:
        return self._storage.connection.meta.client

    @property
    def _bucket(self) -> str:
        return str(self._storage.bucket_name)

    def upload_prepare(self, key: str, content_type: str, max_bytes: int, expires_at: int) -> UploadForm:
        post = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=max(1, expires_at - int(time.time())),
        )
        return UploadForm(
            method="POST",
            url=post["url"],
            fields=dict(post["fields"]),
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
        )

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return StoredObject(
            size=int(head["ContentLength"]),
            content_type=str(head.get("ContentType", "")),
            etag=str(head.get("ETag", "")),
        )

    def read_start(self, key: str, length: int, etag: str) -> bytes:
        try:
            body = self._client.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{length - 1}", IfMatch=etag
            )["Body"]
        except ClientError as exc:
            raise self._changed(exc) from None
        try:
            return bytes(body.read(length))
        finally:
            body.close()

    def move(self, source: str, target: str, etag: str, size: int) -> None:
        # Copy only the version that was checked: S3 fails the copy if a re-upload replaced it.
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=target,
                CopySource={"Bucket": self._bucket, "Key": source},
                CopySourceIfMatch=etag,
                MetadataDirective="COPY",
            )
        except ClientError as exc:
            raise self._changed(exc) from None
        # Some S3-compatible servers (moto among them) ignore the condition: at least the
        # size that was counted must be the size that is served.
        copied = self.stat(target)
        if copied is None or copied.size != size:
            self.delete(target)
            raise ObjectChanged("The upload changed while it was checked; upload it again.")
        self._client.delete_object(Bucket=self._bucket, Key=source)

    @staticmethod
    def _changed(exc: ClientError) -> Exception:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (404, 412):
            return ObjectChanged("The upload changed or vanished while it was checked; upload it again.")
        return exc

    def read(self, key: str, max_bytes: int) -> bytes:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from None
            raise
        try:
            return bytes(body.read(max_bytes + 1))
        finally:
            body.close()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def delete(self, key: str) -> None:
        self._storage.delete(key)  # a missing object is not an error

    def url(self, key: str) -> str:
        # Presigned GET (AWS_QUERYSTRING_EXPIRE) or, with AWS_S3_CUSTOM_DOMAIN, a plain CDN URL.
        return str(self._storage.url(key))

    def download_url(self, key: str, filename: str, expires_at: int) -> str:
        # Always presigned, even behind a public CDN domain: downloads are private.
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=max(1, expires_at - int(time.time())),
            )
        )

    def keys_under(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix + "/"):
            for item in page.get("Contents", []):
                yield str(item["Key"])


class _Local:
    """Files under MEDIA_ROOT (Django's FileSystemStorage), with the same keys as S3."""

    def path(self, key: str) -> Path:
        return Path(default_storage.path(key_check(key)))

    def upload_prepare(self, key: str, content_type: str, max_bytes: int, expires_at: int) -> UploadForm:
        token = signing.dumps(
            {"k": key, "t": content_type, "m": max_bytes, "e": expires_at}, salt=_UPLOAD_SALT
        )
        # The token rides in the query, which neither the request log nor the edge's log records.
        url = f"{reverse('storage-upload', urlconf=settings.ROOT_URLCONF)}?{urlencode({'token': token})}"
        return UploadForm(
            method="PUT",
            url=url,
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
        )

    def stat(self, key: str) -> StoredObject | None:
        try:
            size = self.path(key).stat().st_size
        except FileNotFoundError:
            return None
        # The upload endpoint only accepts the content type that the key's extension was derived from.
        return StoredObject(
            size=size, content_type=mimetypes.guess_type(key)[0] or "application/octet-stream"
        )

    def read(self, key: str, max_bytes: int) -> bytes:
        with self.path(key).open("rb") as file:
            return file.read(max_bytes + 1)

    def read_start(self, key: str, length: int, etag: str) -> bytes:
        # A local upload cannot change once written (upload_receive never overwrites).
        try:
            with self.path(key).open("rb") as file:
                return file.read(length)
        except FileNotFoundError:
            raise ObjectChanged("The upload vanished while it was checked; upload it again.") from None

    def move(self, source: str, target: str, etag: str, size: int) -> None:
        destination = self.path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self.path(source), destination)
        except FileNotFoundError:
            raise ObjectChanged("The upload vanished while it was checked; upload it again.") from None

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._write_atomically(self.path(key), [data])

    def receive(self, key: str, stream: Readable, length: int) -> None:
        """Write exactly `length` bytes from `stream` to a new file (nothing if short, or if one is there)."""

        def chunks() -> Iterable[bytes]:
            remaining = length
            while remaining > 0:
                chunk = stream.read(min(_CHUNK, remaining))
                if not chunk:
                    raise UploadEmpty("The body ended before Content-Length bytes arrived.")
                remaining -= len(chunk)
                yield chunk

        self._write_atomically(self.path(key), chunks(), replace=False)

    @staticmethod
    def _write_atomically(target: Path, chunks: Iterable[bytes], *, replace: bool = True) -> None:
        # A reader never sees half a file: write beside the target, then rename over it, or
        # (replace=False) link it there, which fails if a file is there already.
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
            os.chmod(temporary, 0o644)
            if replace:
                os.replace(temporary, target)
            else:
                try:
                    os.link(temporary, target)
                except FileExistsError:
                    raise UploadUrlUsed("This upload URL has been used; ask for a new one.") from None
                Path(temporary).unlink()
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return str(default_storage.url(key))

    def download_url(self, key: str, filename: str, expires_at: int) -> str:
        token = signing.dumps({"k": key, "f": filename, "e": expires_at}, salt=_DOWNLOAD_SALT)
        path = reverse("storage-download", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        return f"{path}?{urlencode({'token': token})}"  # in the query: kept out of the logs

    def keys_under(self, prefix: str) -> Iterator[str]:
        root = Path(default_storage.path(prefix))
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.name.startswith(".upload-"):
                    yield f"{prefix}/{path.relative_to(root).as_posix()}"

    def prune(self, prefix: str) -> None:
        """Remove the folders left empty under `prefix`, and `prefix` itself if it is empty."""
        root = Path(default_storage.path(prefix))
        if not root.is_dir():
            return
        for folder in sorted(
            (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        ):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            root.rmdir()


def _backend() -> _Backend:
    return _S3() if settings.STORAGE == "s3" else _Local()


# --- The API -------------------------------------------------------------------------


def upload_prepare(*, key: str, content_type: str, max_bytes: int) -> UploadForm:
    """Return how a client uploads `key` directly (not through the API), valid for UPLOAD_URL_SECONDS."""
    expires_at = int(time.time()) + settings.UPLOAD_URL_SECONDS
    return _backend().upload_prepare(key_check(key), content_type, max_bytes, expires_at)


def object_stat(key: str) -> StoredObject | None:
    """Return the object's size and content type, or None if nothing is stored under `key`."""
    return _backend().stat(key_check(key))


def object_read_start(key: str, *, length: int, etag: str) -> bytes:
    """Return the first `length` bytes of the object version `object_stat` saw (ObjectChanged if replaced)."""
    return _backend().read_start(key_check(key), length, etag)


def object_move(source: str, target: str, *, stored: StoredObject) -> None:
    """Move the version `object_stat` saw (`stored`) from `source` to `target` (ObjectChanged if replaced)."""
    _backend().move(key_check(source), key_check(target), stored.etag, stored.size)


def object_read(key: str, *, max_bytes: int) -> bytes:
    """
    Return the object's bytes, at most `max_bytes` + 1 of them (so a caller can
    tell it is too big); raise FileNotFoundError if there is no such object.
    """
    return _backend().read(key_check(key), max_bytes)


def object_write(key: str, data: bytes, *, content_type: str) -> None:
    _backend().write(key_check(key), data, content_type)


def object_url(key: str) -> str:
    """Return where a client fetches the object (see the AWS_QUERYSTRING_* settings for S3)."""
    return _backend().url(key_check(key))


def object_download_url(key: str, *, filename: str, seconds: int) -> str:
    """
    Return a private link that downloads the object as `filename` for `seconds`:
    a presigned GET with S3; with local storage, a signed URL on the platform host.
    """
    return _backend().download_url(key_check(key), filename, int(time.time()) + seconds)


def objects_delete_under(prefix: str, *, keep: Iterable[str] = ()) -> int:
    """Delete every object under a shop's folder (`tenants/{schema}`) but those in `keep`; return how many."""
    if not _SHOP_PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"Not a shop's folder: {prefix[:100]!r}")
    backend = _backend()
    kept = set(keep)
    deleted = 0
    for folder in (prefix, UPLOADS_PREFIX + prefix):  # its files, and uploads never confirmed
        for key in list(backend.keys_under(folder)):
            if key not in kept:
                backend.delete(key)
                deleted += 1
        if isinstance(backend, _Local):
            backend.prune(folder)
    return deleted


def download_grant_read(token: str) -> tuple[Path, str]:
    """Return the file and download name a local download token grants; refuse forged or expired ones."""
    try:
        claims = signing.loads(token, salt=_DOWNLOAD_SALT)
        key, filename, expires_at = key_check(str(claims["k"])), str(claims["f"]), int(claims["e"])
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise DownloadUrlInvalid("This download URL is not valid.") from None
    if expires_at < time.time():
        raise DownloadUrlExpired("This download URL has expired; ask for a new one.")
    path = _Local().path(key)
    if not path.is_file():
        raise FileNotFoundError(key)
    return path, filename


def objects_delete(keys: Iterable[str]) -> None:
    """Delete objects; a missing one is not an error, and a failure is logged, not raised."""
    backend = _backend()
    for key in keys:
        if not key:
            continue
        try:
            backend.delete(key_check(key))
        except Exception:
            # Called after commit: the rows are gone and an orphan object costs only space.
            logger.warning("Could not delete object %s", key, exc_info=True)


def objects_delete_on_commit(keys: Iterable[str]) -> None:
    """Delete objects once the current transaction commits (never if it rolls back)."""
    pending = [key for key in keys if key]
    if pending:
        transaction.on_commit(lambda: objects_delete(pending))


# --- Local storage: the app's own upload endpoint and media files ---------------------


def upload_grant_read(token: str) -> UploadGrant:
    """Return what a local upload token grants in the current shop; refuse forged, foreign or expired ones."""
    try:
        claims = signing.loads(token, salt=_UPLOAD_SALT)
        grant = UploadGrant(
            key=key_check(str(claims["k"])),
            content_type=str(claims["t"]),
            max_bytes=int(claims["m"]),
            expires_at=int(claims["e"]),
        )
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise UploadUrlInvalid("This upload URL is not valid.") from None
    if not grant.key.startswith(UPLOADS_PREFIX) or not _in_current_shop(
        grant.key.removeprefix(UPLOADS_PREFIX)
    ):
        raise UploadUrlInvalid("This upload URL belongs to another host.")
    if grant.expires_at < time.time():
        raise UploadUrlExpired("This upload URL has expired; ask for a new one.")
    return grant


def upload_receive(
    *, grant: UploadGrant, content_type: str, content_length: str | None, stream: Readable
) -> None:
    """
    Store a PUT to a local upload URL, checked as S3 checks a presigned upload's
    policy; once a file is there, the URL is spent (UploadUrlUsed), whatever the
    caller checked before.
    """
    if content_type.split(";")[0].strip().lower() != grant.content_type:
        raise UploadContentTypeMismatch(f"This URL accepts Content-Type {grant.content_type} only.")
    if not content_length or not content_length.isdigit():
        raise UploadLengthRequired("Send the body with a Content-Length header.")
    length = int(content_length)
    if length == 0:
        raise UploadEmpty("The body is empty.")
    if length > grant.max_bytes:
        raise UploadTooLarge(f"This URL accepts at most {grant.max_bytes} bytes.")
    _Local().receive(grant.key, stream, length)


def local_media_path(key: str) -> Path | None:
    """Return the file behind a media URL of the current shop, or None (wrong shop, bad key, no file)."""
    try:
        path = _Local().path(key)
    except (ValueError, SuspiciousFileOperation):
        return None
    if not _in_current_shop(key) or not path.is_file():
        return None
    return path

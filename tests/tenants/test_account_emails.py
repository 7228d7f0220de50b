"""
The account e-mails end to end: a request commits an outbox event in the public
schema, a real Celery worker dispatches it and writes the e-mail as a file under
var/mail, and the link read from that file does what it says.
"""

from __future__ import annotations

import email
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tenants.models import Invitation, PlatformEmail, User
from tenants.outbox.models import OutboxEvent
from tests.conftest import PASSWORD, PLATFORM, ShopContext, bearer, make_user

V1 = "/api/platform/v1"
NEW_PASSWORD = "another-long-passphrase-42"


@pytest.fixture
def mail_dir(settings: Any) -> Iterator[Path]:
    """The worker writes e-mails as files under var/mail (a directory of this test's own)."""
    directory = Path(settings.BASE_DIR) / "var" / "mail" / f"test-{uuid.uuid4().hex[:12]}"
    directory.mkdir(parents=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(directory)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def wait_for_link(directory: Path, to: str, page: str, seen: set[Path], timeout: float = 30.0) -> str:
    """The token of the first new e-mail to `to` linking to `page`, read from the files the worker wrote."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(directory.glob("*.log")):
            if path in seen:
                continue
            for raw in re.split(rb"\n-{79}\n", path.read_bytes()):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw)
                if message["To"] != to:
                    continue
                text = next(
                    part.get_payload(decode=True).decode()
                    for part in message.walk()
                    if part.get_content_type() == "text/plain"
                )
                match = re.search(r"https?://\S+/app/" + page + r"\?token=\S+", text)
                if match:
                    seen.add(path)
                    return parse_qs(urlparse(match.group(0)).query)["token"][0]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {to} linking to {page} in {timeout} s")


def test_reset_and_invitation_links_work_through_a_real_worker(
    api: Any, committed_shop: ShopContext, mail_dir: Path, worker: Any, django_db_blocker: Any
) -> None:
    seen: set[Path] = set()
    with django_db_blocker.unblock():
        ada = make_user("ada-e2e@example.com")
        try:
            # Password reset: the request commits its event; the worker sends the link.
            response = api.post(f"{V1}/auth/password-reset", {"email": ada.email}, format="json", **PLATFORM)
            assert response.status_code == 202
            token = wait_for_link(mail_dir, ada.email, "reset-password", seen)
            confirm = {"token": token, "password": NEW_PASSWORD}
            assert (
                api.post(f"{V1}/auth/password-reset/confirm", confirm, format="json", **PLATFORM).status_code
                == 204
            )
            signed_in = api.post(
                f"{V1}/auth/token", {"email": ada.email, "password": NEW_PASSWORD}, format="json", **PLATFORM
            )
            assert signed_in.status_code == 200

            # An invitation to someone without an account, resent once: only the newest link works.
            slug = committed_shop.shop.slug
            owner = bearer(committed_shop.token())
            invited = api.post(
                f"{V1}/shops/{slug}/invitations",
                {"email": "grace-e2e@example.com", "role": "staff"},
                format="json",
                **PLATFORM,
                **owner,
            )
            assert invited.status_code == 201, invited.content
            first = wait_for_link(mail_dir, "grace-e2e@example.com", "accept-invitation", seen)
            resend = f"{V1}/shops/{slug}/invitations/{invited.json()['id']}/resend"
            assert api.post(resend, **PLATFORM, **owner).status_code == 200
            second = wait_for_link(mail_dir, "grace-e2e@example.com", "accept-invitation", seen)
            stale = api.post(
                f"{V1}/invitations/accept", {"token": first, "password": PASSWORD}, format="json", **PLATFORM
            )
            assert stale.status_code == 400
            accepted = api.post(
                f"{V1}/invitations/accept",
                {"token": second, "name": "Grace", "password": PASSWORD},
                format="json",
                **PLATFORM,
            )
            assert accepted.status_code == 200, accepted.content
            assert accepted.json()["account_created"] is True
            grace = User.objects.get(email="grace-e2e@example.com")
            assert committed_shop.shop.memberships.filter(user=grace, role="staff").exists()
            # One e-mail per event and recipient, all recorded in public.
            assert (
                PlatformEmail.objects.filter(recipient="grace-e2e@example.com", kind="invitation").count()
                == 2
            )
        finally:
            events = OutboxEvent.objects.filter(schema_name="public")
            PlatformEmail.objects.filter(event_id__in=events.values("id")).delete()
            events.delete()
            Invitation.objects.filter(shop=committed_shop.shop).delete()
            User.objects.filter(email__in=[ada.email, "grace-e2e@example.com"]).delete()

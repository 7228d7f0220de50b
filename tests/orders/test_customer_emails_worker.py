"""
The shopper's e-mailed links end to end: requests commit their events, a real
Celery worker (in a thread, on the test Redis) dispatches them and writes the
e-mails to `var/mail` (Django's file backend, as `make run` sends them), and the
links read back from those files do what they say.
"""

from __future__ import annotations

import email
import re
import threading
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.orders.helpers import cart_with, checkout, sellable_product, storefront

SHOPPER = "ada@example.com"
NEW_EMAIL = "ada.lovelace@example.com"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def mail_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "var" / "mail"
    folder.mkdir(parents=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    return folder


def _messages(folder: Path) -> list[Message]:
    """Every message the file backend wrote (it separates messages in a file with a line of dashes)."""
    found = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                found.append(email.message_from_string(chunk))
    return found


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def _wait_for_message(folder: Path, *, to: str, subject: str) -> Message:
    """The e-mail to `to` whose subject has `subject`, once the worker has written it."""
    waited = threading.Event()
    for _ in range(200):
        for message in _messages(folder):
            if message["To"] == to and subject in str(message["Subject"]):
                return message
        waited.wait(0.1)
    raise AssertionError(f"no e-mail {subject!r} to {to} in {[m['Subject'] for m in _messages(folder)]}")


def _wait_for_link(folder: Path, *, to: str, subject: str, path: str) -> str:
    """The token of the link to `path` in the e-mail to `to` whose subject has `subject`, once written."""
    text = _text(_wait_for_message(folder, to=to, subject=subject))
    match = re.search(rf"https?://[^/\s]+{re.escape(path)}\?token=(\S+)", text)
    assert match, text
    return unquote(match.group(1))


def test_account_and_order_links_arrive_through_a_real_worker_and_work(
    test_database, committed_shop: ShopContext, django_db_blocker, worker, mail_dir: Path, api
) -> None:
    ctx = committed_shop
    with django_db_blocker.unblock():
        signed_up = storefront(
            api, ctx, "post", "customer/signup", {"email": SHOPPER, "password": PASSWORD, "name": "Ada"}
        )
        assert signed_up.status_code == 201, signed_up.content
        verify = _wait_for_link(mail_dir, to=SHOPPER, subject="Confirm your e-mail", path="/account/verify")
        verified = storefront(api, ctx, "post", "customer/verify-email", {"token": verify})
        assert verified.status_code == 200 and verified.json()["email_verified"] is True

        assert storefront(api, ctx, "post", "customer/password-reset", {"email": SHOPPER}).status_code == 202
        assert (
            storefront(api, ctx, "post", "customer/password-reset", {"email": "x@example.com"}).status_code
            == 202
        )
        reset = _wait_for_link(mail_dir, to=SHOPPER, subject="Reset your password", path="/account/reset")
        new_password = "a brand new passphrase"
        confirmed = storefront(
            api, ctx, "post", "customer/password-reset/confirm", {"token": reset, "password": new_password}
        )
        assert confirmed.status_code == 200, confirmed.content
        signed_in = storefront(
            api, ctx, "post", "customer/token", {"email": SHOPPER, "password": new_password}
        )
        assert signed_in.status_code == 200
        access = signed_in.json()["access"]

        # An order placed signed in: its confirmation links to the order page, as "find my order" does.
        variant = sellable_product(AdminClient(api, ctx), stock=5)["variants"][0]["id"]
        placed = checkout(
            api,
            ctx,
            cart_with(api, ctx, variant),
            email=SHOPPER,
            headers={"HTTP_AUTHORIZATION": f"Bearer {access}"},
        )
        assert placed.status_code == 201, placed.content
        number = placed.json()["number"]
        confirmation = _wait_for_link(
            mail_dir, to=SHOPPER, subject=f"Your order #{number} at", path=f"/orders/{number}"
        )
        assert storefront(api, ctx, "get", f"orders/{number}?token={confirmation}").status_code == 200

        looked_up = storefront(api, ctx, "post", "orders/lookup", {"email": SHOPPER, "number": number})
        assert looked_up.status_code == 202
        again = _wait_for_link(
            mail_dir, to=SHOPPER, subject=f"The link to your order #{number}", path=f"/orders/{number}"
        )
        assert storefront(api, ctx, "get", f"orders/{number}?token={again}").json()["number"] == number
        history = storefront(api, ctx, "get", "customer/orders", HTTP_AUTHORIZATION=f"Bearer {access}")
        assert [order["number"] for order in history.json()["results"]] == [number]
        # Nobody else got anything: the unknown e-mail's reset and no stray copies.
        recipients = {message["To"] for message in _messages(mail_dir)}
        assert recipients <= {SHOPPER, ctx.owner.email}, recipients

        # The e-mail moves by a link sent to the new address; the old one is told.
        asked = storefront(
            api,
            ctx,
            "post",
            "customer/email-change",
            {"email": NEW_EMAIL, "password": new_password},
            HTTP_AUTHORIZATION=f"Bearer {access}",
        )
        assert asked.status_code == 202, asked.content
        change = _wait_for_link(
            mail_dir, to=NEW_EMAIL, subject="Confirm your new e-mail", path="/account/email"
        )
        moved = storefront(api, ctx, "post", "customer/email-change/confirm", {"token": change})
        assert moved.status_code == 200 and moved.json()["email"] == NEW_EMAIL
        notice = _wait_for_message(mail_dir, to=SHOPPER, subject="was changed")
        assert NEW_EMAIL in _text(notice)
        again = storefront(api, ctx, "post", "customer/email-change/confirm", {"token": change})
        assert again.status_code == 400  # the link worked once

"""
Order e-mails: the shopper's confirmation, the notice to owners and admins, the
shipping notice; each sent once per event however often the event is dispatched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from smtplib import SMTPException
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from config.settings import email_url_settings
from orders.models import SentEmail
from tenants.models import Membership
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import events_dispatch, events_relay, events_sweep
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, make_user
from tests.orders.helpers import DECLINED, MANUAL, cart_with, checkout, manual_payment_on, sellable_product

SHOPPER = "ada@example.com"


def _add_member(ctx: ShopContext, email: str, role: str) -> None:
    Membership.objects.create(user=make_user(email), shop=ctx.shop, role=role)


def _place_order(api, ctx: ShopContext, capture, **checkout_overrides: Any) -> int:
    admin = AdminClient(api, ctx)
    variant = sellable_product(admin, stock=5, price="18.50", title="Mugs & Cups")["variants"][0]["id"]
    cart_id = cart_with(api, ctx, variant, 2)
    with capture(execute=True):
        response = checkout(api, ctx, cart_id, **checkout_overrides)
    assert response.status_code == 201, response.content
    return int(response.json()["number"])


def _sent(outbox: list[EmailMultiAlternatives], subject_start: str) -> dict[str, EmailMultiAlternatives]:
    found = [message for message in outbox if message.subject.startswith(subject_start)]
    by_recipient = {message.to[0]: message for message in found}
    assert all(len(message.to) == 1 for message in found) and len(by_recipient) == len(found), found
    return by_recipient


def _html(message: EmailMultiAlternatives) -> str:
    ((content, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return str(content)


def _redispatch_all(ctx: ShopContext) -> None:
    """Dispatch every event of the shop once more, as a relay after a lost acknowledgement would."""
    use_public()
    events = OutboxEvent.objects.filter(schema_name=ctx.shop.schema_name)
    count = events.update(dispatched_at=None, claimed_at=None)
    use_shop(ctx.shop)
    assert events_dispatch() == count
    use_public()


@pytest.mark.django_db
def test_an_order_sends_the_confirmation_the_staff_notices_and_on_fulfilment_the_shipping_notice(
    api, shop_a: ShopContext, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    _add_member(shop_a, "admin@alpha.example", Membership.Role.ADMIN)
    _add_member(shop_a, "clerk@alpha.example", Membership.Role.STAFF)

    number = _place_order(api, shop_a, django_capture_on_commit_callbacks)

    confirmations = _sent(mailoutbox, "Your order")
    assert list(confirmations) == [SHOPPER]
    confirmation = confirmations[SHOPPER]
    assert confirmation.subject == f"Your order #{number} at Alpha"
    assert confirmation.from_email == "Alpha <orders@localhost>"
    assert confirmation.reply_to == ["owner@alpha.example"]  # the shopper's replies reach the merchant
    assert f"Order #{number}" in confirmation.body
    assert "2 x Mugs & Cups" in confirmation.body  # plain text is not HTML-escaped
    assert "18.50 EUR each  = 37.00 EUR" in confirmation.body
    assert "Total: 37.00 EUR" in confirmation.body
    assert "Ada Lovelace" in confirmation.body and "N1 7AA London" in confirmation.body
    html = _html(confirmation)
    assert f"<strong>#{number}</strong>" in html and "Mugs &amp; Cups" in html and "37.00 EUR" in html

    notices = _sent(mailoutbox, "New order")
    assert sorted(notices) == ["admin@alpha.example", "owner@alpha.example"]  # not the staff member
    notice = notices["owner@alpha.example"]
    assert notice.subject == f"New order #{number}: 37.00 EUR"
    assert notice.from_email == "Alpha <orders@localhost>" and not notice.reply_to
    assert SHOPPER in notice.body and "2 x Mugs & Cups" in notice.body
    assert "New order #" in _html(notice)
    assert len(mailoutbox) == 3

    with django_capture_on_commit_callbacks(execute=True):
        fulfilled = AdminClient(api, shop_a).post(f"orders/{number}/fulfill")
    assert fulfilled.status_code == 200, fulfilled.content
    shipped = _sent(mailoutbox, f"Your order #{number} from Alpha has shipped")
    assert list(shipped) == [SHOPPER]
    assert "is on its way" in shipped[SHOPPER].body and "has shipped" in _html(shipped[SHOPPER])
    assert len(mailoutbox) == 4

    # At-least-once delivery: every event handled again sends nothing more.
    _redispatch_all(shop_a)
    assert len(mailoutbox) == 4
    use_shop(shop_a.shop)
    assert sorted(SentEmail.objects.values_list("kind", "recipient")) == [
        ("new_order_notice", "admin@alpha.example"),
        ("new_order_notice", "owner@alpha.example"),
        ("order_confirmation", SHOPPER),
        ("shipping_notice", SHOPPER),
    ]


@pytest.mark.django_db
def test_a_pending_order_says_so(api, shop_a: ShopContext, mailoutbox, django_capture_on_commit_callbacks):
    manual_payment_on(AdminClient(api, shop_a))
    _place_order(api, shop_a, django_capture_on_commit_callbacks, payment=MANUAL)
    assert "once your payment has arrived" in _sent(mailoutbox, "Your order")[SHOPPER].body
    assert "(awaiting payment)" in _sent(mailoutbox, "New order")["owner@alpha.example"].body


@pytest.mark.django_db
def test_a_shops_notices_reach_only_its_own_owners_and_admins(
    api, shop_a: ShopContext, shop_b: ShopContext, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    _add_member(shop_b, "admin@bravo.example", Membership.Role.ADMIN)
    _place_order(api, shop_a, django_capture_on_commit_callbacks)
    assert sorted(_sent(mailoutbox, "New order")) == ["owner@alpha.example"]
    assert all(message.from_email == "Alpha <orders@localhost>" for message in mailoutbox)

    mailoutbox.clear()
    _place_order(api, shop_b, django_capture_on_commit_callbacks)
    assert sorted(_sent(mailoutbox, "New order")) == ["admin@bravo.example", "owner@bravo.example"]
    assert "37.00 USD" in _sent(mailoutbox, "Your order")[SHOPPER].body


@pytest.mark.django_db
def test_a_send_that_fails_is_not_recorded_and_the_retry_sends_it_once(
    api, shop_a: ShopContext, mailoutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Placed without running the on-commit dispatch: the events wait for a worker.
    admin = AdminClient(api, shop_a)
    variant = sellable_product(admin)["variants"][0]["id"]
    assert checkout(api, shop_a, cart_with(api, shop_a, variant)).status_code == 201
    created = OutboxEvent.objects.get(schema_name=shop_a.shop.schema_name, type="order.created")

    real_send = LocmemBackend.send_messages
    calls = {"n": 0}

    def send_then_fail(self: LocmemBackend, messages: list[Any]) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # the confirmation goes out; the owner's notice meets a broken SMTP server
            raise SMTPException("451 try again later")
        return real_send(self, messages)

    monkeypatch.setattr(LocmemBackend, "send_messages", send_then_fail)
    use_shop(shop_a.shop)
    with pytest.raises(SMTPException):
        events_dispatch()
    assert list(SentEmail.objects.values_list("kind", flat=True)) == ["order_confirmation"]
    assert [message.to for message in mailoutbox] == [[SHOPPER]]
    # Only the failed handler's event waits; the relay hands it over again (eager here, in its shop).
    assert list(OutboxEvent.objects.filter(dispatched_at=None).values_list("type", flat=True)) == [
        "order.created"
    ]
    use_public()
    # The test's transaction never commits, so no commit put the shop in the relay's set: the
    # sweep (beat, every few minutes) does.
    assert events_sweep() == 1
    assert events_relay(older_than=timedelta(0)) == 1
    use_shop(shop_a.shop)
    assert sorted(message.to[0] for message in mailoutbox) == [SHOPPER, "owner@alpha.example"]
    assert SentEmail.objects.count() == 2
    created.refresh_from_db()
    assert created.dispatched_at is not None and created.attempts == 2
    use_public()


@pytest.mark.django_db
def test_a_batch_of_orders_is_mailed_over_one_connection(
    api, shop_a: ShopContext, mailoutbox, monkeypatch
) -> None:
    from orders import emails

    opened: list[object] = []
    real_get_connection = emails.get_connection

    def counting_get_connection(*args: Any, **kwargs: Any) -> Any:
        opened.append(real_get_connection(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(emails, "get_connection", counting_get_connection)
    _add_member(shop_a, "admin@alpha.example", Membership.Role.ADMIN)
    admin = AdminClient(api, shop_a)
    variant = sellable_product(admin, stock=9)["variants"][0]["id"]
    # Placed without running the on-commit wake-up: the events wait for one dispatch.
    numbers = [checkout(api, shop_a, cart_with(api, shop_a, variant)).json()["number"] for _ in range(3)]
    use_shop(shop_a.shop)
    # product.created and its variant's variant.price_changed, then order.created and order.paid of each order
    assert events_dispatch() == 8
    assert len(opened) == 1
    confirmations = [message.subject for message in mailoutbox if message.subject.startswith("Your order")]
    assert confirmations == [f"Your order #{number} at Alpha" for number in numbers]
    notices = [
        (message.to[0], message.subject) for message in mailoutbox if message.subject.startswith("New")
    ]
    assert sorted(notices) == sorted(
        (recipient, f"New order #{number}: 20.00 EUR")
        for number in numbers
        for recipient in ("admin@alpha.example", "owner@alpha.example")
    )
    assert SentEmail.objects.count() == 9


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mailer%40shop:p%40ss@mail.example.com:587?tls=1",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "mail.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "mailer@shop",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
                "EMAIL_TIMEOUT": 10,
            },
        ),
        (
            "smtps://user:secret@smtp.example.com?timeout=5",
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "smtp.example.com",
                "EMAIL_PORT": 465,
                "EMAIL_HOST_USER": "user",
                "EMAIL_HOST_PASSWORD": "secret",
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": True,
                "EMAIL_TIMEOUT": 5,
            },
        ),
        ("smtp://relay", {"EMAIL_HOST": "relay", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False}),
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("memory://", {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}),
        ("file:///tmp/storefleet-mail", {"EMAIL_FILE_PATH": "/tmp/storefleet-mail"}),
        ("file://var/mail", {"EMAIL_FILE_PATH": str(settings.BASE_DIR / "var" / "mail")}),
    ],
)
def test_email_url_becomes_django_settings(url: str, expected: dict[str, object]) -> None:
    conf = email_url_settings(url)
    assert {name: conf.get(name) for name in expected} == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtps://host?tls=1", "smtp://host?timeout=x"])
def test_a_bad_email_url_is_refused(url: str) -> None:
    with pytest.raises((ImproperlyConfigured, ValueError), match=r"EMAIL_URL|invalid literal"):
        email_url_settings(url)


def _settings_in_a_fresh_process(**env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "EMAIL_BACKEND", "DEBUG"}}
    base.pop("STOREFLEET_TESTING", None)
    base.pop("STOREFLEET_LOCAL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings as s; print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)",
        ],
        env=base | {"SECRET_KEY": "x"} | env,
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    )
    return [*result.stdout.split(), result.stderr]


def test_where_mail_goes_without_email_url() -> None:
    local = _settings_in_a_fresh_process(STOREFLEET_LOCAL="1")
    assert local[:2] == [
        "django.core.mail.backends.filebased.EmailBackend",
        str(settings.BASE_DIR / "var/mail"),
    ]
    testing = _settings_in_a_fresh_process(STOREFLEET_TESTING="1")
    assert testing[0] == "django.core.mail.backends.locmem.EmailBackend"
    production = _settings_in_a_fresh_process()
    assert production[0] == "django.core.mail.backends.console.EmailBackend"
    assert "EMAIL_URL is not set" in production[-1]
    chosen = _settings_in_a_fresh_process(STOREFLEET_LOCAL="1", EMAIL_URL="smtp://mail.example.com")
    assert chosen[0] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.django_db
def test_a_refused_card_sends_no_confirmation_and_no_notice(
    api, shop_a: ShopContext, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """The order was written before the provider refused it: its order.created says nothing to anyone."""
    admin = AdminClient(api, shop_a)
    variant = sellable_product(admin, stock=5)["variants"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        refused = checkout(api, shop_a, cart_with(api, shop_a, variant), payment=DECLINED)
    assert refused.status_code == 402
    use_shop(shop_a.shop)
    assert OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name, type="order.created").exists()
    use_public()
    assert not _sent(mailoutbox, "Your order") and not _sent(mailoutbox, "New order")


def test_the_confirmation_shows_the_breakdown_as_the_order_has_it(
    api, shop_a: ShopContext, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """Discount, shipping and tax by rate, to the cent as the API computed them (orders.pricing)."""
    admin = AdminClient(api, shop_a)
    taxes = {"prices_include_tax": False, "shipping_taxable": True, "default_rate": "0",
             "rates": [{"country": "GB", "rate": "20", "name": "VAT"}], "category_overrides": []}  # fmt: skip
    assert admin.put("taxes", taxes).status_code == 200
    zone = admin.post(
        "shipping-zones",
        {"name": "UK", "countries": ["GB"], "methods": [{"name": "Royal Mail", "price": "3.00"}]},
    )
    assert admin.post("discounts", {"code": "TEN", "kind": "percentage", "value": "10"}).status_code == 201
    variant = sellable_product(admin, stock=5, price="18.50", title="Mugs & Cups")["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant, 2)
    assert checkout_code(api, shop_a, cart_id, "TEN") == 201
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(api, shop_a, cart_id, shipping_method=zone.json()["methods"][0]["id"])
    assert response.status_code == 201, response.content
    # 37.00 - 3.70 = 33.30; VAT 6.66 + 0.60 on shipping = 7.26; 33.30 + 3.00 + 7.26 = 43.56
    assert response.json()["total"]["amount"] == "43.56"
    confirmation = _sent(mailoutbox, "Your order")[SHOPPER]
    for line in ("Subtotal: 37.00 EUR", "Discount TEN: -3.70 EUR", "Shipping (Royal Mail): 3.00 EUR",
                 "VAT 20%: 7.26 EUR", "Total: 43.56 EUR"):  # fmt: skip
        assert line in confirmation.body, confirmation.body
    assert "Discount TEN" in _html(confirmation) and "43.56 EUR" in _html(confirmation)


def checkout_code(api, ctx: ShopContext, cart_id: str, code: str) -> int:
    from tests.orders.helpers import storefront

    return int(storefront(api, ctx, "post", f"carts/{cart_id}/discount-codes", {"code": code}).status_code)


@pytest.mark.django_db
def test_the_confirmation_shows_the_addresss_region(
    api, shop_a: ShopContext, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    """The region (state, province) the shopper gave, which picked the regional tax rate, is on the e-mail."""
    address = {"name": "Ada", "line1": "1 Market St", "city": "San Francisco", "postal_code": "94103",
               "country": "US", "region": "CA"}  # fmt: skip
    _place_order(api, shop_a, django_capture_on_commit_callbacks, shipping_address=address)
    confirmation = _sent(mailoutbox, "Your order")[SHOPPER]
    assert "94103 San Francisco, CA\n" in confirmation.body, confirmation.body
    assert "94103 San Francisco, CA<br>" in _html(confirmation)
    mailoutbox.clear()
    _place_order(api, shop_a, django_capture_on_commit_callbacks)  # no region: no stray comma
    assert "N1 7AA London\n" in _sent(mailoutbox, "Your order")[SHOPPER].body

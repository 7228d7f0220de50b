"""
Payment providers behind one interface. Each payment is known to its provider
by an idempotency key (the order's id, `payment_key`): asking again with the
same key never takes the money twice, and `status` answers what the provider
did with it, so a checkout that died between its steps can be finished
(orders.services.payments_recover_due).

`manual` leaves the order pending until the merchant marks it paid. `test`
simulates a card provider with the well-known test cards: 4242 4242 4242 4242
pays, 4000 0000 0000 0002 declines, 4000 0027 6000 3184 requires the shopper
to confirm (3-D Secure: `action_url`, then `confirm`), 4000 0000 0000 0077
answers slowly (after TEST_PROVIDER_SLOW_SECONDS, then pays) and
4000 0000 0000 0119 takes the money but its answer times out. What the `test`
provider did is kept in its own table (TestProviderPayment), written outside the
shop's transactions, as a remote provider keeps it on its side. A real provider
plugs in as another class.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.utils.crypto import salted_hmac

from orders.models import Payment, PaymentSettings, TestProviderPayment
from tenants.money import Money
from tenants.schemas import current_schema

TEST_CARD_PAYS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"
TEST_CARD_REQUIRES_ACTION = "4000002760003184"
TEST_CARD_SLOW = "4000000000000077"
TEST_CARD_TIMES_OUT = "4000000000000119"

PaymentState = Payment.Status


@dataclass(frozen=True)
class ProviderAnswer:
    """What the provider says of a payment: its state, its reference, and why it failed or what to do."""

    status: str  # a Payment.Status; PENDING when the provider has no such payment (yet)
    reference: str = ""
    action_url: str = ""
    message: str = ""


class ProviderUnavailable(Exception):
    """The provider did not answer (a timeout, a network error): what it did is unknown until asked."""


class PaymentProvider(Protocol):
    code: str
    # True when the checkout asks the provider for the money (a card); False when the
    # order waits for it (manual), counted against the plan once it is paid.
    pays_at_checkout: bool

    def authorize(self, *, key: str, amount: Money, details: dict[str, Any], capture: bool) -> ProviderAnswer:
        """Ask for the money under `key` (captured at once with `capture`); the same key, the same payment."""
        ...

    def confirm(self, *, key: str, details: dict[str, Any]) -> ProviderAnswer:
        """The shopper came back from the provider's action (3-D Secure): the payment's state now."""
        ...

    def capture(self, *, key: str, amount: Money) -> ProviderAnswer:
        """Take the money of an authorized payment."""
        ...

    def void(self, *, key: str) -> ProviderAnswer:
        """Drop an authorization or a payment awaiting action; nothing is taken."""
        ...

    def refund(self, *, key: str, amount: Money, refund_key: str) -> str:
        """Give money back from the payment `key` (once per `refund_key`); return the refund's reference."""
        ...

    def status(self, *, key: str) -> ProviderAnswer:
        """What became of the payment `key` (PENDING if the provider never got it)."""
        ...


class ManualProvider:
    """Bank transfer, cash on delivery: the merchant marks the order paid when the money arrives."""

    code = "manual"
    pays_at_checkout = False

    def authorize(self, *, key: str, amount: Money, details: dict[str, Any], capture: bool) -> ProviderAnswer:
        return ProviderAnswer(status=PaymentState.PENDING)

    def confirm(self, *, key: str, details: dict[str, Any]) -> ProviderAnswer:
        return ProviderAnswer(status=PaymentState.PENDING)

    def capture(self, *, key: str, amount: Money) -> ProviderAnswer:
        return ProviderAnswer(status=PaymentState.SUCCEEDED, reference="marked paid")

    def void(self, *, key: str) -> ProviderAnswer:
        return ProviderAnswer(status=PaymentState.VOIDED)

    def refund(self, *, key: str, amount: Money, refund_key: str) -> str:
        return f"manual_refund_{secrets.token_hex(6)}"

    def status(self, *, key: str) -> ProviderAnswer:
        return ProviderAnswer(status=PaymentState.PENDING)


class TestProvider:
    """A card provider for tests and demos, with the well-known test card numbers (see the module)."""

    code = "test"
    pays_at_checkout = True

    @staticmethod
    def _read(key: str) -> TestProviderPayment | None:
        return TestProviderPayment.objects.filter(key=key).first()

    @staticmethod
    def _record(payment: TestProviderPayment) -> bool:
        """Write a new payment unless its key is known (one statement); whether it was new."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {TestProviderPayment._meta.db_table}
                        (key, kind, status, reference, amount, currency, capture, action_url, message,
                         updated_at)
                    VALUES (%s, 'charge', %s, %s, %s, %s, %s, %s, %s, now())
                    ON CONFLICT (key) DO NOTHING""",
                [
                    payment.key,
                    payment.status,
                    payment.reference,
                    payment.amount,
                    payment.currency,
                    payment.capture,
                    payment.action_url,
                    payment.message,
                ],
            )
            return cursor.rowcount == 1

    @staticmethod
    def _answer(payment: TestProviderPayment) -> ProviderAnswer:
        return ProviderAnswer(
            status=payment.status,
            reference=payment.reference,
            action_url=payment.action_url,
            message=payment.message,
        )

    def authorize(self, *, key: str, amount: Money, details: dict[str, Any], capture: bool) -> ProviderAnswer:
        card = str(details.get("card_number", "")).replace(" ", "")
        if card == TEST_CARD_SLOW:
            time.sleep(settings.TEST_PROVIDER_SLOW_SECONDS)
        payment = TestProviderPayment(
            key=key,
            reference=f"test_pi_{secrets.token_hex(8)}",
            amount=amount.amount,
            currency=amount.currency,
            capture=capture,
        )
        if card in (TEST_CARD_PAYS, TEST_CARD_SLOW, TEST_CARD_TIMES_OUT):
            payment.status = PaymentState.SUCCEEDED if capture else PaymentState.AUTHORIZED
        elif card == TEST_CARD_REQUIRES_ACTION:
            payment.status = PaymentState.REQUIRES_ACTION
            payment.action_url = "/checkout/authenticate?" + urlencode({"payment": key})
        elif card == TEST_CARD_DECLINED:
            payment.status, payment.message = PaymentState.FAILED, "The card was declined."
        else:
            payment.status = PaymentState.FAILED
            payment.message = f"The test provider accepts only its test cards ({TEST_CARD_PAYS} pays)."
        if not self._record(payment):
            # The same key again: the same payment, never a second charge.
            return self._answer(self._read(key))  # type: ignore[arg-type]
        if card == TEST_CARD_TIMES_OUT:
            # The money is taken, but the answer never arrives in time.
            time.sleep(settings.TEST_PROVIDER_SLOW_SECONDS)
            raise ProviderUnavailable("The test provider did not answer in time.")
        return self._answer(payment)

    def confirm(self, *, key: str, details: dict[str, Any]) -> ProviderAnswer:
        """The test's 3-D Secure page: `{"authentication": "approve"}` pays, anything else fails."""
        payment = self._read(key)
        if payment is None:
            return ProviderAnswer(status=PaymentState.PENDING)
        if payment.status == PaymentState.REQUIRES_ACTION:
            if details.get("authentication") == "approve":
                payment.status = PaymentState.SUCCEEDED if payment.capture else PaymentState.AUTHORIZED
            else:
                payment.status, payment.message = PaymentState.FAILED, "3-D Secure authentication failed."
            payment.action_url = ""
            payment.save(update_fields=["status", "message", "action_url", "updated_at"])
        return self._answer(payment)

    def capture(self, *, key: str, amount: Money) -> ProviderAnswer:
        payment = self._read(key)
        if payment is None:
            return ProviderAnswer(status=PaymentState.FAILED, message="No such payment.")
        if payment.status == PaymentState.AUTHORIZED:
            if amount.amount > payment.amount:
                return ProviderAnswer(status=PaymentState.FAILED, message="More than was authorized.")
            # What was taken; the rest of the authorization is released.
            payment.status, payment.amount = PaymentState.SUCCEEDED, amount.amount
            payment.save(update_fields=["status", "amount", "updated_at"])
        return self._answer(payment)

    def void(self, *, key: str) -> ProviderAnswer:
        payment = self._read(key)
        if payment is None:
            # Nothing arrived under this key: remember the void, so a late request is refused too.
            payment, _ = TestProviderPayment.objects.get_or_create(
                key=key,
                defaults={"status": PaymentState.VOIDED, "reference": "", "amount": 0, "currency": ""},
            )
        elif payment.status in (PaymentState.AUTHORIZED, PaymentState.REQUIRES_ACTION):
            payment.status, payment.action_url = PaymentState.VOIDED, ""
            payment.save(update_fields=["status", "action_url", "updated_at"])
        return self._answer(payment)

    def refund(self, *, key: str, amount: Money, refund_key: str) -> str:
        refund, _ = TestProviderPayment.objects.get_or_create(
            key=refund_key,
            defaults={
                "kind": "refund",
                "status": PaymentState.SUCCEEDED,
                "reference": f"test_re_{secrets.token_hex(8)}",
                "amount": amount.amount,
                "currency": amount.currency,
            },
        )
        return refund.reference  # asked again under its key: the first refund's reference

    def status(self, *, key: str) -> ProviderAnswer:
        payment = self._read(key)
        return self._answer(payment) if payment else ProviderAnswer(status=PaymentState.PENDING)


PROVIDERS: dict[str, PaymentProvider] = {
    provider.code: provider for provider in (ManualProvider(), TestProvider())
}


def provider_for(code: str) -> PaymentProvider:
    return PROVIDERS[code]


def payment_key(order_id: int) -> str:
    """The key a provider knows the order's payment by: the order's id, with its shop (ids are per shop)."""
    return f"{current_schema()}-order-{order_id}"


def provider_webhook_secret(provider: str) -> str:
    """
    The secret this shop's provider signs its webhooks with (as `Storefleet-Signature`
    signs ours), derived from SECRET_KEY, the shop and the provider: nothing to store,
    different for every shop.
    """
    digest = salted_hmac(
        "orders.provider_webhook", f"{current_schema()}\n{provider}", algorithm="sha256"
    ).hexdigest()
    return f"whsec_{digest}"


def payment_settings() -> PaymentSettings:
    """The shop's payment settings: its saved row, or the defaults (manual off) until it has one."""
    saved = PaymentSettings.objects.filter(pk=PaymentSettings.SINGLETON_ID).first()
    return saved or PaymentSettings(pk=PaymentSettings.SINGLETON_ID)


def providers_accepted() -> list[str]:
    """The providers this shop takes payments with, for shoppers to choose from."""
    manual_on = payment_settings().manual_enabled
    return [code for code in PROVIDERS if code != ManualProvider.code or manual_on]

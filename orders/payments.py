"""
Payment providers behind one interface. `manual` leaves the order pending until
the merchant marks it paid; `test` pays at once with 4242 4242 4242 4242 and
declines 4000 0000 0000 0002. A real provider plugs in as another class.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from orders.errors import PaymentDeclined
from orders.models import PaymentSettings
from tenants.conventions.money import Money

TEST_CARD_PAYS = "4242424242424242"
TEST_CARD_DECLINED = "4000000000000002"


@dataclass(frozen=True)
class Charge:
    paid: bool
    reference: str


class PaymentProvider(Protocol):
    code: str
    # True when a successful charge pays the order at checkout (a card); False when the
    # order waits for the money (manual), counted against the plan once it is paid.
    pays_at_checkout: bool

    def charge(self, *, amount: Money, details: dict[str, Any]) -> Charge:
        """Take the money (or register the intent to); raise PaymentDeclined if refused."""
        ...

    def refund(self, *, amount: Money, charge_reference: str) -> str:
        """Give money back; return the provider's reference for the refund."""
        ...


class ManualProvider:
    """Bank transfer, cash on delivery: the merchant marks the order paid when the money arrives."""

    code = "manual"
    pays_at_checkout = False

    def charge(self, *, amount: Money, details: dict[str, Any]) -> Charge:
        return Charge(paid=False, reference="")

    def refund(self, *, amount: Money, charge_reference: str) -> str:
        return f"manual_refund_{secrets.token_hex(6)}"


class TestProvider:
    """A card provider for tests and demos, with the well-known test card numbers."""

    code = "test"
    pays_at_checkout = True

    def charge(self, *, amount: Money, details: dict[str, Any]) -> Charge:
        card = str(details.get("card_number", "")).replace(" ", "")
        if card == TEST_CARD_PAYS:
            return Charge(paid=True, reference=f"test_ch_{secrets.token_hex(8)}")
        if card == TEST_CARD_DECLINED:
            raise PaymentDeclined(
                "The card was declined.", errors={"payment_method.card_number": ["Declined."]}
            )
        raise PaymentDeclined(
            "The test provider accepts only its test cards.",
            errors={
                "payment_method.card_number": [
                    f"Use {TEST_CARD_PAYS} (pays) or {TEST_CARD_DECLINED} (declines)."
                ]
            },
        )

    def refund(self, *, amount: Money, charge_reference: str) -> str:
        return f"test_re_{secrets.token_hex(8)}"


PROVIDERS: dict[str, PaymentProvider] = {
    provider.code: provider for provider in (ManualProvider(), TestProvider())
}


def provider_for(code: str) -> PaymentProvider:
    return PROVIDERS[code]


def payment_settings() -> PaymentSettings:
    """The shop's payment settings: its saved row, or the defaults (manual off) until it has one."""
    saved = PaymentSettings.objects.filter(pk=PaymentSettings.SINGLETON_ID).first()
    return saved or PaymentSettings(pk=PaymentSettings.SINGLETON_ID)


def providers_accepted() -> list[str]:
    """The providers this shop takes payments with, for shoppers to choose from."""
    manual_on = payment_settings().manual_enabled
    return [code for code in PROVIDERS if code != ManualProvider.code or manual_on]

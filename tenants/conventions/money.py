"""
The one money type: a Decimal amount in a currency, written to JSON as
`{"amount": "19.99", "currency": "EUR"}` and never as a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# ISO 4217 codes we sell in, with their minor-unit exponent.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ["AED", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EGP", "EUR", "GBP"]
        + ["HKD", "HUF", "IDR", "ILS", "INR", "MAD", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN"]
        + ["RON", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "ZAR"],
        2,
    ),
    **dict.fromkeys(["CLP", "ISK", "JPY", "KRW", "VND"], 0),
    **dict.fromkeys(["BHD", "JOD", "KWD", "OMR", "TND"], 3),
}
CURRENCIES = sorted(CURRENCY_EXPONENTS)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in CURRENCY_EXPONENTS:
            raise ValueError(f"Unknown currency {self.currency!r}.")
        quantum = Decimal(1).scaleb(-CURRENCY_EXPONENTS[self.currency])
        object.__setattr__(self, "amount", Decimal(self.amount).quantize(quantum, rounding=ROUND_HALF_EVEN))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}.")

    def as_json(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}


def parse_amount(value: Any, currency: str) -> Decimal:
    """Parse a client's decimal string into an amount valid for `currency`, or raise ValueError."""
    if not isinstance(value, str):  # a JSON number would be a float somewhere along the way
        raise ValueError('Send amounts as decimal strings, e.g. "19.99".')
    text = str(value)
    if len(text) > 40:
        raise ValueError("Not a plausible amount.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Not a decimal number.") from None
    if not amount.is_finite():
        raise ValueError("Not a finite number.")
    exponent = CURRENCY_EXPONENTS[currency]
    try:
        exact = amount == amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # more digits than Decimal's context holds
        raise ValueError("Not a plausible amount.") from None
    if not exact:
        raise ValueError(f"{currency} amounts have at most {exponent} decimal places.")
    return amount


MONEY_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["19.99"]},
        "currency": {"type": "string", "enum": CURRENCIES},
    },
    "required": ["amount", "currency"],
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(serializers.Field):
    """Serialize a `Money` as `{"amount": "19.99", "currency": "EUR"}` (read-only)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Money) -> dict[str, str]:
        return value.as_json()


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["19.99"]})
class AmountInputField(serializers.Field):
    """
    A price in input: a decimal string in the shop's currency (`"19.99"`), never a
    JSON number. The currency comes from the serializer context (`currency`).
    """

    default_error_messages = {
        "invalid": "{message}",
        "negative": "Must not be negative.",
        "too_large": "Too large.",
    }
    MAX_AMOUNT = Decimal("999999999")

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            amount = parse_amount(data, self.context.get("currency", "USD"))
        except ValueError as exc:
            self.fail("invalid", message=str(exc))
        if amount < 0:
            self.fail("negative")
        if amount > self.MAX_AMOUNT:
            self.fail("too_large")
        return amount

    def to_representation(self, value: Decimal) -> str:
        return str(value)


@extend_schema_field(MONEY_SCHEMA)
class ShopMoneyField(serializers.Field):
    """Serialize a stored Decimal as money in the shop's currency (taken from the context)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Decimal) -> dict[str, str]:
        return Money(value, self.context["currency"]).as_json()


@extend_schema_field(MONEY_SCHEMA)
class RecordMoneyField(serializers.Field):
    """
    Serialize a stored Decimal in the currency its record carries (an order, its
    lines and payments keep the currency they were placed in), never the shop's
    current one: a shop that changes currency must not relabel its old orders.
    `currency_source` is the dotted path from the record to that currency.
    """

    def __init__(self, *, currency_source: str = "currency", **kwargs: Any) -> None:
        kwargs["read_only"] = True
        self.currency_path = currency_source.split(".")
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Money:
        currency = instance
        for name in self.currency_path:
            currency = getattr(currency, name)
        amount: Decimal = super().get_attribute(instance)  # type: ignore[assignment]  # a stored amount
        return Money(amount, str(currency))

    def to_representation(self, value: Money) -> dict[str, str]:
        return value.as_json()

"""
The API's money fields: a `Money` (tenants/money.py) written to JSON as
`{"amount": "19.99", "currency": "EUR"}` and never as a float, and amounts read
from decimal strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenants.money import CURRENCIES, MAX_AMOUNT, Money, parse_amount

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

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            amount = parse_amount(data, self.context.get("currency", "USD"))
        except ValueError as exc:
            self.fail("invalid", message=str(exc))
        if amount < 0:
            self.fail("negative")
        if amount > MAX_AMOUNT:
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

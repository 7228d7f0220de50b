"""
The one money type: a Decimal amount in a currency, quantized to the currency's
minor unit, and the parser of a client's decimal string. The API writes it to
JSON as `{"amount": "19.99", "currency": "EUR"}` (tenants/conventions/money.py),
never as a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

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
# The largest price a shop may set: prices are stored as DecimalField(12, 3).
MAX_AMOUNT = Decimal("999999999")


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

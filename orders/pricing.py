"""
The one place a cart, a quote and an order are priced: `quote()` takes the
lines, the address, the shipping method, the tax provider and the discounts
and returns a `Quote` with the breakdown

    subtotal - discount + shipping (+ tax, unless prices include it) = total

Pure: no database, no clock (the caller passes `now`). The rules, also in
docs/pricing.md:

- Every amount is a Decimal rounded to the currency's minor unit, half-even,
  once per line: a line's amount, its share of each discount, its tax. Totals
  are sums of rounded lines, so the parts always add up to the total.
- Discounts apply before tax. Each is computed on the lines' undiscounted amounts
  (they do not compound) and a line never gets more off than it costs. A fixed
  amount is shared across the lines it applies to in proportion to their amounts
  (largest remainder, so the shares add up to it exactly). Free shipping takes the
  shipping price off. Stacking: every automatic promotion that applies, plus one
  code; automatic ones first, in the order they were created.
- A method's `free_over` compares with the subtotal after discounts.
- Tax is computed on each line's discounted amount at the rate the tax provider
  gives for it (and on the discounted shipping when the shop taxes shipping):
  added on top, or, with `prices_include_tax`, extracted from the price
  (amount x rate / (100 + rate)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from orders.errors import (
    DiscountExhausted,
    DiscountExpired,
    DiscountMinSubtotal,
    DiscountNotApplicable,
    ShippingMethodUnavailable,
)
from tenants.errors import DomainError
from tenants.money import CURRENCY_EXPONENTS

ZERO = Decimal(0)
HUNDRED = Decimal(100)

PERCENTAGE, FIXED, FREE_SHIPPING = "percentage", "fixed", "free_shipping"
FLAT, WEIGHT = "flat", "weight"


def rounder(currency: str):
    """The one rounding rule: half-even to the currency's minor unit."""
    quantum = Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
    return lambda amount: Decimal(amount).quantize(quantum, rounding=ROUND_HALF_EVEN)


def rate_text(rate: Decimal) -> str:
    """A rate in percent as its shortest decimal string: 19.0000 -> "19", 5.50 -> "5.5"."""
    return str(rate.normalize() + 0)


# --- What is priced ------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedItem:
    """A cart or order line as pricing sees it."""

    key: int  # the variant id
    product_id: int
    category_id: int | None
    unit_price: Decimal
    quantity: int
    weight_grams: int = 0


@dataclass(frozen=True)
class Address:
    country: str
    region: str = ""
    postal_code: str = ""


# --- Shipping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightBand:
    up_to_grams: int
    price: Decimal


@dataclass(frozen=True)
class MethodRule:
    """A shipping method, with the zone it serves."""

    id: int
    name: str
    rate_type: str = FLAT
    price: Decimal = ZERO
    free_over: Decimal | None = None
    weight_bands: tuple[WeightBand, ...] = ()
    min_days: int | None = None
    max_days: int | None = None
    pickup: bool = False
    countries: frozenset[str] = frozenset()
    postal_code_prefixes: tuple[str, ...] = ()

    def serves(self, address: Address | None) -> bool:
        """Whether its zone covers the address (country, and postal-code prefix when the zone has any)."""
        if address is None or address.country not in self.countries:
            return False
        if not self.postal_code_prefixes:
            return True
        postal = postal_normal(address.postal_code)
        return any(postal.startswith(prefix) for prefix in self.postal_code_prefixes)

    def price_for(self, *, subtotal: Decimal, weight_grams: int) -> Decimal | None:
        """The price for goods worth `subtotal` (after discounts) weighing `weight_grams`; None: too heavy."""
        if self.rate_type == WEIGHT:
            bands = sorted(self.weight_bands, key=lambda b: b.up_to_grams)
            band = next((b for b in bands if weight_grams <= b.up_to_grams), None)
            if band is None:
                return None
            price = band.price
        else:
            price = self.price
        if self.free_over is not None and subtotal >= self.free_over:
            return ZERO
        return price


def postal_normal(postal_code: str) -> str:
    """Postal codes and prefixes compared upper-case without spaces or dashes ("n1 7aa" ~ "N1")."""
    return "".join(ch for ch in postal_code.upper() if ch.isalnum())


# --- Taxes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxRate:
    name: str
    rate: Decimal  # percent


NO_TAX = TaxRate("Tax", ZERO)


class TaxProvider(Protocol):
    """
    Where rates come from. The built-in `TaxTable` reads the shop's own table; an
    external service (Avalara, TaxJar, Stripe Tax) plugs in as another class that
    answers the same two questions. Rounding stays here, in `quote()`.
    """

    @property
    def code(self) -> str: ...

    @property
    def prices_include_tax(self) -> bool: ...

    @property
    def shipping_taxable(self) -> bool: ...

    def line_rate(self, item: PricedItem, address: Address | None) -> TaxRate: ...

    def shipping_rate(self, address: Address | None) -> TaxRate: ...


@dataclass(frozen=True)
class CountryRate:
    country: str
    rate: Decimal
    name: str
    region: str = ""


@dataclass(frozen=True)
class CategoryRate:
    category: int
    country: str
    rate: Decimal
    name: str


@dataclass(frozen=True)
class TaxTable:
    """The shop's table: a category override, else the region's rate, else the country's, else the default."""

    code = "table"
    prices_include_tax: bool = False
    shipping_taxable: bool = True
    default_rate: Decimal = ZERO
    rates: tuple[CountryRate, ...] = ()
    category_overrides: tuple[CategoryRate, ...] = ()

    def _place_rate(self, address: Address | None) -> TaxRate:
        if address is not None:
            regional = [r for r in self.rates if r.country == address.country and r.region]
            for rate in regional:
                if rate.region == address.region:
                    return TaxRate(rate.name, rate.rate)
            for rate in self.rates:
                if rate.country == address.country and not rate.region:
                    return TaxRate(rate.name, rate.rate)
        return TaxRate("Tax", self.default_rate)

    def line_rate(self, item: PricedItem, address: Address | None) -> TaxRate:
        if address is not None and item.category_id is not None:
            for override in self.category_overrides:
                if override.category == item.category_id and override.country == address.country:
                    return TaxRate(override.name, override.rate)
        return self._place_rate(address)

    def shipping_rate(self, address: Address | None) -> TaxRate:
        return self._place_rate(address)


# --- Discounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscountRule:
    id: int
    kind: str
    value: Decimal = ZERO
    code: str | None = None
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    min_subtotal: Decimal | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    usage_limit: int | None = None
    times_used: int = 0
    usage_limit_per_customer: int | None = None
    active: bool = True

    def covers(self, item: PricedItem) -> bool:
        """Whether it applies to this line: every line, or those of its products or categories."""
        if not self.product_ids and not self.category_ids:
            return True
        return item.product_id in self.product_ids or (
            item.category_id is not None and item.category_id in self.category_ids
        )


def discount_refusal(
    rule: DiscountRule, *, items: Sequence[PricedItem], subtotal: Decimal, now: dt.datetime
) -> DomainError | None:
    """Why the discount does not apply to these lines now (the error to answer), or None when it does."""
    if not rule.active or (rule.starts_at and now < rule.starts_at) or (rule.ends_at and now >= rule.ends_at):
        return DiscountExpired("This discount is not valid now.")
    if rule.usage_limit is not None and rule.times_used >= rule.usage_limit:
        return DiscountExhausted("This discount has been used up.")
    if rule.min_subtotal is not None and subtotal < rule.min_subtotal:
        return DiscountMinSubtotal(f"This discount needs a subtotal of at least {rule.min_subtotal}.")
    if rule.kind != FREE_SHIPPING and not any(rule.covers(item) for item in items):
        return DiscountNotApplicable("This discount does not apply to anything in the cart.")
    return None


# --- The quote -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotedLine:
    key: int
    amount: Decimal  # unit price x quantity
    discount: Decimal
    tax: Decimal
    tax_rate: TaxRate


@dataclass(frozen=True)
class AppliedDiscount:
    id: int
    code: str | None
    kind: str
    value: Decimal
    amount: Decimal

    def as_json(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "kind": self.kind,
            # Percent for a percentage, the amount (in the currency's form) for a fixed discount.
            "value": rate_text(self.value) if self.kind != FIXED else str(rounder(currency)(self.value)),
            "amount": {"amount": str(self.amount), "currency": currency},
        }


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate: Decimal
    amount: Decimal

    def as_json(self, currency: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "rate": rate_text(self.rate),
            "amount": {"amount": str(self.amount), "currency": currency},
        }


@dataclass(frozen=True)
class Quote:
    currency: str
    prices_include_tax: bool
    lines: tuple[QuotedLine, ...]
    subtotal: Decimal
    shipping: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    tax_lines: tuple[TaxLine, ...] = ()
    discounts: tuple[AppliedDiscount, ...] = ()
    method: MethodRule | None = None
    shipping_tax_rate: TaxRate = field(default=NO_TAX)

    def totals_json(self) -> dict[str, dict[str, str]]:
        def money(amount: Decimal) -> dict[str, str]:
            return {"amount": str(amount), "currency": self.currency}

        return {
            "subtotal": money(self.subtotal),
            "shipping": money(self.shipping),
            "discount": money(self.discount),
            "tax": money(self.tax),
            "total": money(self.total),
        }

    def line(self, key: int) -> QuotedLine:
        return next(line for line in self.lines if line.key == key)


def _shares(total: Decimal, weights: list[Decimal], exponent: int) -> list[Decimal]:
    """Split `total` in proportion to `weights` in minor units, largest remainder first, summing exactly."""
    unit = Decimal(1).scaleb(-exponent)
    whole = sum(weights, ZERO)
    if whole <= 0:
        return [ZERO for _ in weights]
    minor_total = int((total / unit).to_integral_value(rounding=ROUND_HALF_EVEN))
    exact = [Decimal(minor_total) * weight / whole for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    left = minor_total - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [Decimal(minor) * unit for minor in floors]


def quote(
    *,
    items: Sequence[PricedItem],
    currency: str,
    taxes: TaxProvider,
    now: dt.datetime,
    address: Address | None = None,
    method: MethodRule | None = None,
    discounts: Iterable[DiscountRule] = (),
) -> Quote:
    """
    Price the lines. `discounts` are the ones on offer (automatic and the cart's
    code): those that do not apply now are left out. A method that does not serve
    the address, or not this weight, raises ShippingMethodUnavailable.
    """
    r = rounder(currency)
    exponent = CURRENCY_EXPONENTS[currency]
    amounts = [r(item.unit_price * item.quantity) for item in items]
    subtotal = sum(amounts, ZERO)
    taken = [ZERO for _ in items]  # each line's discount so far

    offered = sorted(discounts, key=lambda d: (d.code is not None, d.id))
    applying = [d for d in offered if discount_refusal(d, items=items, subtotal=subtotal, now=now) is None]
    line_discounts: list[tuple[DiscountRule, Decimal]] = []
    free_shipping: DiscountRule | None = None
    for rule in applying:
        covered = [i for i, item in enumerate(items) if rule.covers(item)]
        if rule.kind == FREE_SHIPPING:
            free_shipping = free_shipping or rule
            continue
        if rule.kind == PERCENTAGE:
            percent = min(rule.value, HUNDRED)
            wanted = {i: r(amounts[i] * percent / HUNDRED) for i in covered}
        else:
            room = sum((amounts[i] - taken[i] for i in covered), ZERO)
            split = _shares(min(rule.value, room), [amounts[i] for i in covered], exponent)
            wanted = dict(zip(covered, split, strict=True))
        off = ZERO
        for i, share in wanted.items():
            share = min(share, amounts[i] - taken[i])
            taken[i] += share
            off += share
        line_discounts.append((rule, off))

    discounted_subtotal = subtotal - sum(taken, ZERO)
    shipping = ZERO
    if method is not None:
        if not method.serves(address):
            raise ShippingMethodUnavailable(f"{method.name} does not ship to this address.")
        weight = sum(item.weight_grams * item.quantity for item in items)
        price = method.price_for(subtotal=discounted_subtotal, weight_grams=weight)
        if price is None:
            raise ShippingMethodUnavailable(f"{method.name} does not take parcels of {weight} g.")
        shipping = r(price)
    shipping_off = shipping if free_shipping is not None else ZERO

    def tax_on(amount: Decimal, rate: Decimal) -> Decimal:
        if rate <= 0 or amount <= 0:
            return ZERO
        if taxes.prices_include_tax:
            return r(amount * rate / (HUNDRED + rate))
        return r(amount * rate / HUNDRED)

    lines = []
    by_rate: dict[tuple[str, Decimal], Decimal] = {}
    for i, item in enumerate(items):
        rate = taxes.line_rate(item, address)
        tax = tax_on(amounts[i] - taken[i], rate.rate)
        lines.append(QuotedLine(item.key, amounts[i], taken[i], tax, rate))
        if rate.rate > 0:
            by_rate[rate.name, rate.rate] = by_rate.get((rate.name, rate.rate), ZERO) + tax
    shipping_rate = taxes.shipping_rate(address) if taxes.shipping_taxable else NO_TAX
    shipping_tax = tax_on(shipping - shipping_off, shipping_rate.rate) if method is not None else ZERO
    if shipping_tax:
        key = (shipping_rate.name, shipping_rate.rate)
        by_rate[key] = by_rate.get(key, ZERO) + shipping_tax

    applied = [
        AppliedDiscount(rule.id, rule.code, rule.kind, rule.value, off) for rule, off in line_discounts
    ]
    if free_shipping is not None:
        applied.append(
            AppliedDiscount(free_shipping.id, free_shipping.code, FREE_SHIPPING, ZERO, shipping_off)
        )
        applied.sort(key=lambda d: (d.code is not None, d.id))
    discount = sum(taken, ZERO) + shipping_off
    tax = sum((line.tax for line in lines), ZERO) + shipping_tax
    total = subtotal - discount + shipping + (ZERO if taxes.prices_include_tax else tax)
    return Quote(
        currency=currency,
        prices_include_tax=taxes.prices_include_tax,
        lines=tuple(lines),
        # Sums of rounded amounts are exact; r() only gives zeros and sums the currency's form.
        subtotal=r(subtotal),
        shipping=r(shipping),
        discount=r(discount),
        tax=r(tax),
        total=r(total),
        tax_lines=tuple(TaxLine(name, rate, amount) for (name, rate), amount in by_rate.items()),
        discounts=tuple(applied),
        method=method,
        shipping_tax_rate=shipping_rate,
    )

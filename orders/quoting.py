"""
Pricing a cart and a checkout: everything `pricing.quote()` needs of the
shop's settings (its tax table, the chosen shipping method with its zone, the
automatic promotions and the cart's code) is read in ONE statement, so a cart
request and a checkout cost one query more than without shipping, taxes and
discounts; then the pure `quote()` does the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from catalog.inventory import ReservedLine
from orders import pricing
from orders.carts import CartChoices, CartView
from orders.discounts import discount_rule, discounts_take
from orders.errors import (
    DiscountUnknown,
    ShippingAddressRequired,
    ShippingMethodRequired,
    ShippingMethodUnavailable,
)
from orders.models import Discount, ShippingMethod, ShippingZone, TaxSettings
from orders.pricing import Address, DiscountRule, MethodRule, PricedItem, Quote
from orders.shipping import method_rule
from orders.taxes import tax_table

_CONTEXT_SQL = f"""
SELECT
  (SELECT row_to_json(t)::text FROM {TaxSettings._meta.db_table} AS t
     WHERE t.id = {TaxSettings.SINGLETON_ID}),
  EXISTS (SELECT 1 FROM {ShippingZone._meta.db_table}),
  (SELECT json_build_object('method', row_to_json(m), 'countries', z.countries,
                            'prefixes', z.postal_code_prefixes)::text
     FROM {ShippingMethod._meta.db_table} AS m JOIN {ShippingZone._meta.db_table} AS z ON z.id = m.zone_id
     WHERE m.id = %s),
  (SELECT coalesce(json_agg(d ORDER BY d.id), '[]')::text FROM {Discount._meta.db_table} AS d
     WHERE (d.code IS NULL AND d.active) OR d.code = %s)
"""


def _json(text: str | None) -> Any:
    """JSON from PostgreSQL with its numbers as Decimal, never float."""
    return None if text is None else json.loads(text, parse_float=Decimal)


@dataclass(frozen=True)
class PricingContext:
    taxes: pricing.TaxTable
    ships: bool  # the shop has shipping zones, so goods need a method
    method: MethodRule | None  # the method asked for, if it exists
    automatic: tuple[DiscountRule, ...]
    code: DiscountRule | None  # the code asked for, if it exists

    @property
    def discounts(self) -> list[DiscountRule]:
        return [*self.automatic, *([self.code] if self.code else [])]


def pricing_context(*, method_id: int | None, code: str | None) -> PricingContext:
    """The shop's pricing settings for a cart with this method and code, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_CONTEXT_SQL, [method_id, code])
        taxes_row, ships, method_row, discount_rows = cursor.fetchone()
    method = _json(method_row)
    rules = [discount_rule(row) for row in _json(discount_rows)]
    return PricingContext(
        taxes=tax_table(_json(taxes_row)),
        ships=bool(ships),
        method=method_rule(method["method"], countries=method["countries"], prefixes=method["prefixes"] or ())
        if method
        else None,
        automatic=tuple(rule for rule in rules if rule.code is None),
        code=next((rule for rule in rules if rule.code is not None and rule.code == code), None),
    )


def address_of(address: dict[str, Any] | None) -> Address | None:
    if not address:
        return None
    return Address(
        country=str(address.get("country", "")),
        region=str(address.get("region") or ""),
        postal_code=str(address.get("postal_code", "")),
    )


def cart_items(view: CartView) -> list[PricedItem]:
    """The cart's lines that can be bought, as pricing sees them."""
    return [
        PricedItem(
            key=line.item_id,
            product_id=line.variant.product_id,
            category_id=line.variant.category_id,
            unit_price=line.unit_price.amount,
            quantity=line.quantity,
            weight_grams=line.variant.weight_grams,
        )
        for line in view.lines
        if line.available
    ]


@dataclass(frozen=True)
class CartQuote:
    quote: Quote
    context: PricingContext


def cart_quote(view: CartView, *, currency: str, now: dt.datetime | None = None) -> CartQuote:
    """
    The cart's breakdown with its choices as far as they still hold: a method that
    no longer serves its address or weight is left out (shown as none, required
    again at checkout), as is a code that no longer applies (it stays entered).
    """
    now = now or timezone.now()
    choices = view.choices
    context = pricing_context(method_id=choices.shipping_method_id, code=choices.discount_code)
    items = cart_items(view)
    address = address_of(choices.shipping_address)
    method = context.method
    try:
        quote = pricing.quote(
            items=items,
            currency=currency,
            taxes=context.taxes,
            now=now,
            address=address,
            method=method,
            discounts=context.discounts,
        )
    except ShippingMethodUnavailable:
        quote = pricing.quote(
            items=items, currency=currency, taxes=context.taxes, now=now, address=address,
            discounts=context.discounts,
        )  # fmt: skip
    return CartQuote(quote, context)


def method_check(*, method: MethodRule | None, address: Address | None, items: Sequence[PricedItem]) -> None:
    """Refuse a method for a cart it cannot serve (no address yet, another country, too heavy)."""
    if method is None:
        raise ShippingMethodUnavailable(
            "No such shipping method in this shop.", errors={"method": ["Unknown."]}
        )
    if address is None:
        raise ShippingAddressRequired("Give the cart a shipping address first.")
    if not method.serves(address):
        raise ShippingMethodUnavailable(
            f"{method.name} does not ship to this address.", errors={"method": ["Not for this address."]}
        )
    weight = sum(item.weight_grams * item.quantity for item in items)
    if method.price_for(subtotal=Decimal(0), weight_grams=weight) is None:
        raise ShippingMethodUnavailable(
            f"{method.name} does not take parcels of {weight} g.", errors={"method": ["Too heavy."]}
        )


def checkout_quote(
    *,
    reserved: Sequence[ReservedLine],
    choices: CartChoices,
    shipping_address: dict[str, Any],
    shipping_method_id: int | None,
    currency: str,
    email: str,
) -> Quote:
    """
    In the checkout's transaction, after the stock is reserved: price the order
    from current settings (the cart's quote is only a preview), refuse what no
    longer holds (no method for goods to ship, a method or code that stopped
    applying), and count the discounts' uses (race-safe, see discounts_take).
    """
    context = pricing_context(method_id=shipping_method_id, code=choices.discount_code)
    items = [
        PricedItem(
            key=line.variant_id,
            product_id=line.product_id,
            category_id=line.category_id,
            unit_price=line.unit_price,
            quantity=line.quantity,
            weight_grams=line.weight_grams,
        )
        for line in reserved
    ]
    address = address_of(shipping_address)
    if shipping_method_id is not None:
        method_check(method=context.method, address=address, items=items)
    elif context.ships:
        raise ShippingMethodRequired(
            "Choose a shipping method (carts/{id}/shipping-methods lists them).",
            errors={"shipping_method": ["Required: this shop charges for shipping."]},
        )
    now = timezone.now()
    if choices.discount_code:
        if context.code is None:
            raise DiscountUnknown(
                f"No discount has the code {choices.discount_code}; remove it from the cart."
            )
        subtotal = sum((pricing.rounder(currency)(i.unit_price * i.quantity) for i in items), Decimal(0))
        refusal = pricing.discount_refusal(context.code, items=items, subtotal=subtotal, now=now)
        if refusal is not None:
            raise refusal
    quote = pricing.quote(
        items=items,
        currency=currency,
        taxes=context.taxes,
        now=now,
        address=address,
        method=context.method,
        discounts=context.discounts,
    )
    discounts_take(quote=quote, rules=context.discounts, email=email)
    return quote


def quoted_method(quote: Quote) -> dict[str, Any] | None:
    """The quote's shipping method as carts and orders show it, priced; None without one."""
    method = quote.method
    if method is None:
        return None
    return {
        "id": method.id,
        "name": method.name,
        "price": {"amount": str(quote.shipping), "currency": quote.currency},
        "min_days": method.min_days,
        "max_days": method.max_days,
        "pickup": method.pickup,
    }


def order_pricing(quote: Quote) -> dict[str, Any]:
    """The order's columns that snapshot the quote (Order(**order_pricing(quote)))."""
    method = quoted_method(quote)
    currency = quote.currency
    return {
        "subtotal": quote.subtotal,
        "shipping": quote.shipping,
        "discount": quote.discount,
        "tax": quote.tax,
        "total": quote.total,
        "prices_include_tax": quote.prices_include_tax,
        "tax_lines": [line.as_json(currency) for line in quote.tax_lines],
        "discounts": [applied.as_json(currency) for applied in quote.discounts],
        # With the rate its price was taxed at: orders snapshot every rate applied.
        "shipping_method": None
        if method is None
        else {
            **method,
            "tax_rate": pricing.rate_text(quote.shipping_tax_rate.rate),
            "tax_name": quote.shipping_tax_rate.name,
        },
    }


def line_pricing(quote: Quote, variant_id: int) -> dict[str, Any]:
    """An order line's columns that snapshot its discount and tax (OrderLine(**line_pricing(...)))."""
    line = quote.line(variant_id)
    return {
        "discount": line.discount,
        "tax": line.tax,
        "tax_rate": line.tax_rate.rate,
        "tax_name": line.tax_rate.name,
    }

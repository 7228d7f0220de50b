"""Order reads; every query runs in the current shop's schema."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from orders.errors import CustomerAddressNotFound, OrderNotFound
from orders.models import (
    ORDER_NUMBER_OFFSET,
    Customer,
    CustomerAddress,
    Fulfillment,
    FulfillmentLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)
from orders.services import token_hash
from orders.tokens import order_link_matches

ORDER_PREFETCH = (
    Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
    Prefetch("payments", queryset=Payment.objects.order_by("id")),
    Prefetch(
        "fulfillments",
        queryset=Fulfillment.objects.order_by("id").prefetch_related(
            Prefetch("lines", queryset=FulfillmentLine.objects.order_by("id"))
        ),
    ),
)


def _pk_for_number(number: int) -> int:
    return number - ORDER_NUMBER_OFFSET


def access_order_by_number(*, number: int) -> Order:
    order = Order.objects.prefetch_related(*ORDER_PREFETCH).filter(pk=_pk_for_number(number)).first()
    if order is None:
        raise OrderNotFound(f"No order #{number} in this shop.")
    return order


def orders_with_lines(*, numbers: Iterable[int]) -> dict[int, Order]:
    """{number: order} for those of `numbers` this shop has, each with its lines loaded (two queries)."""
    orders = Order.objects.prefetch_related(ORDER_PREFETCH[0]).filter(
        pk__in=[_pk_for_number(number) for number in set(numbers)]
    )
    return {order.number: order for order in orders}


def access_order_by_number_and_token(*, number: int, token: str) -> Order:
    """
    The shopper's view: the order only with its secret token, the checkout's or
    the e-mailed link's (404 either way, so numbers leak nothing).
    """
    order = Order.objects.prefetch_related(*ORDER_PREFETCH).filter(pk=_pk_for_number(number)).first()
    if order is None or not (
        hmac.compare_digest(order.token_hash, token_hash(token)) or order_link_matches(order, token)
    ):
        raise OrderNotFound("No such order, or the token does not match.")
    return order


def customer_orders(*, customer: Customer) -> QuerySet[Order]:
    """
    A signed-in customer's orders, newest first: those placed signed in, and,
    once the account's e-mail is verified, those placed as a guest with it.
    """
    orders = Order.objects.prefetch_related(*ORDER_PREFETCH).filter(customer=customer)
    if customer.email_verified_at is None:
        orders = orders.filter(placed_signed_in=True)
    return orders.order_by("-id")


def access_customer_order_by_number(*, customer: Customer, number: int) -> Order:
    order = customer_orders(customer=customer).filter(pk=_pk_for_number(number)).first()
    if order is None:
        raise OrderNotFound(f"No order #{number} in your account.")
    return order


def order_for_link(*, number: int, email: str) -> Order | None:
    """The order with this number if it was placed with this e-mail (the "find my order" match)."""
    order = Order.objects.filter(pk=_pk_for_number(number)).first()
    matches = order is not None and hmac.compare_digest(order.email.encode(), email.encode())
    return order if matches else None


def customer_addresses(*, customer: Customer) -> QuerySet[CustomerAddress]:
    return CustomerAddress.objects.filter(customer=customer).order_by("id")


def access_customer_address_by_id(*, customer: Customer, address_id: int) -> CustomerAddress:
    """One of the customer's own addresses (another customer's is "not found", as is any other id)."""
    address = CustomerAddress.objects.filter(Q(customer=customer) & Q(pk=address_id)).first()
    if address is None:
        raise CustomerAddressNotFound("No such address in your account.")
    return address


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _order_search(orders: QuerySet[Order], q: str) -> QuerySet[Order]:
    """
    `q`: an order number (with or without `#`), or part of the e-mail, or part of
    the customer's or the shipping address's name, case-insensitive.
    """
    text = q.strip()
    if not text:
        return orders
    number = text.removeprefix("#")
    if number.isascii() and number.isdigit():
        # Digits are the order number; a number beyond any order id finds nothing.
        pk = int(number) - ORDER_NUMBER_OFFSET if len(number) <= 18 else 0
        return orders.filter(pk=pk) if pk > 0 else orders.none()
    if "@" in text:
        return orders.filter(email__icontains=text.lower())
    return orders.filter(
        Q(customer__name__icontains=text)
        | Q(shipping_address__name__icontains=text)
        | Q(email__icontains=text)
    )


# What `?ordering=` may name on the admin's order list, and the column each sorts by.
ORDER_ORDERINGS = {"number": "id", "created_at": "placed_at", "total": "total", "status": "status"}


def orders_for_admin(
    *,
    ordering: str = "-number",
    status: str | None = None,
    payment_status: str | None = None,
    fulfillment_status: str | None = None,
    email: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
    placed_on_from: date | None = None,
    placed_on_to: date | None = None,
    q: str | None = None,
    total_min: Decimal | None = None,
    total_max: Decimal | None = None,
) -> QuerySet[Order]:
    """
    The admin's order list in `ordering` (an ORDER_ORDERINGS name, `-` first for
    descending; newest first by default). `placed_on_from`/`placed_on_to` are
    whole UTC days, both included; `total_min`/`total_max` bound the total (in
    the currency each order was placed in).
    """
    orders = Order.objects.prefetch_related(*ORDER_PREFETCH)
    if status:
        orders = orders.filter(status=status)
    if payment_status:
        orders = orders.filter(payment_status=payment_status)
    if fulfillment_status:
        orders = orders.filter(fulfillment_status=fulfillment_status)
    if email:
        orders = orders.filter(email=email.strip().lower())
    if placed_from:
        orders = orders.filter(placed_at__gte=placed_from)
    if placed_to:
        orders = orders.filter(placed_at__lt=placed_to)
    if placed_on_from:
        orders = orders.filter(placed_at__gte=_day_start(placed_on_from))
    if placed_on_to and placed_on_to < date.max:
        orders = orders.filter(placed_at__lt=_day_start(placed_on_to + timedelta(days=1)))
    if total_min is not None:
        orders = orders.filter(total__gte=total_min)
    if total_max is not None:
        orders = orders.filter(total__lte=total_max)
    if q:
        orders = _order_search(orders, q)
    sign = "-" if ordering.startswith("-") else ""
    column = ORDER_ORDERINGS[ordering.lstrip("-")]
    # Ties (many orders share a status or a total) follow the id, for the cursor.
    return orders.order_by(f"{sign}{column}", f"{sign}id")


def customers_for_admin(*, email: str | None = None) -> QuerySet[Customer]:
    customers = Customer.objects.all()
    if email:
        customers = customers.filter(email__icontains=email.strip().lower())
    return customers.order_by("-id")


def access_customer_by_id(*, customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise OrderNotFound("No customer with that id in this shop.")
    return customer


def order_timeline(*, number: int) -> QuerySet[OrderEvent]:
    """The timeline entries (events and internal notes) of order `number`; the API pages them newest first."""
    return OrderEvent.objects.filter(order_id=_pk_for_number(number))


def customer_order_history(*, customer: Customer, limit: int = 100) -> list[Order]:
    """For the merchant: the customer's orders, newest first, on their record or placed with their e-mail."""
    orders = Order.objects.prefetch_related(*ORDER_PREFETCH).filter(
        Q(customer=customer) | Q(email=customer.email)
    )
    return list(orders.order_by("-id")[:limit])


def customer_total_spent(*, customer: Customer) -> list[tuple[str, Decimal]]:
    """(currency, amount) of what their paid orders came to less refunds, per currency, in one query."""
    rows = (
        Order.objects.filter(Q(customer=customer) | Q(email=customer.email))
        .filter(paid_at__isnull=False)
        .values("currency")
        .annotate(paid=Sum("total"), refunded=Sum("refunded_amount"))
        .order_by("currency")
    )
    return [(row["currency"], row["paid"] - row["refunded"]) for row in rows]


def order_addresses(orders: list[Order]) -> list[dict[str, Any]]:
    """The distinct shipping addresses of these orders, in their order."""
    seen: set[tuple[tuple[str, Any], ...]] = set()
    addresses = []
    for order in orders:
        address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
        key = tuple(sorted((name, str(value).strip().lower()) for name, value in address.items()))
        if address and key not in seen:
            seen.add(key)
            addresses.append(address)
    return addresses

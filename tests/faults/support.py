"""
The shop side of the fault tests: a shop with a webhook endpoint, checkouts
through the Storefront API, and the checks every fault ends with: each order has
its e-mails and its webhook delivery, each exactly once, and how long they took.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rest_framework.test import APIClient

from orders.models import Order
from tenants.audit.services import Actor
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services as webhooks
from tenants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext
from tests.faults.conftest import SmtpSink, percentile
from tests.orders.helpers import cart_with, checkout, sellable_product
from tests.webhooks.helpers import Receiver

SHOPPER = "ada@example.com"  # what checkout() sends, as the shop stores it
SUBJECT_NUMBER = re.compile(r"#(\d+)")


def endpoint_add(
    ctx: ShopContext, receiver: Receiver, events: tuple[str, ...] = ("order.created",)
) -> WebhookEndpoint:
    use_shop(ctx.shop)
    endpoint = webhooks.endpoint_create(actor=Actor.system(), url=receiver.url, events=list(events))
    use_public()
    return endpoint


@dataclass
class Shopper:
    """Checkouts through one shop's Storefront API (in this process), of one variant with plenty of stock."""

    api: APIClient
    ctx: ShopContext
    variant: int = 0

    def stock(self, count: int = 1000) -> None:
        self.variant = sellable_product(AdminClient(self.api, self.ctx), stock=count)["variants"][0]["id"]
        use_public()

    def order(self) -> int:
        response = checkout(self.api, self.ctx, cart_with(self.api, self.ctx, self.variant, 1))
        use_public()
        assert response.status_code == 201, response.content
        return int(response.json()["number"])


@dataclass
class Outcome:
    orders: list[int]
    confirmations: Counter[int]
    notices: Counter[int]
    webhooks: Counter[int]
    email_seconds: list[float]
    webhook_seconds: list[float]

    def assert_exactly_once(self) -> None:
        """Every order has its confirmation, its notice and its webhook, each once; nothing else came."""
        expected = Counter(self.orders)
        assert self.confirmations == expected, (
            "confirmations",
            self.confirmations - expected,
            expected - self.confirmations,
        )
        assert self.notices == expected, ("notices", self.notices - expected, expected - self.notices)
        assert self.webhooks == expected, ("webhooks", self.webhooks - expected, expected - self.webhooks)

    def figures(self) -> dict[str, Any]:
        return {
            "orders": len(self.orders),
            "email_p50_s": percentile(self.email_seconds, 0.5),
            "email_p95_s": percentile(self.email_seconds, 0.95),
            "email_max_s": max(self.email_seconds, default=float("nan")),
            "webhook_p50_s": percentile(self.webhook_seconds, 0.5),
            "webhook_p95_s": percentile(self.webhook_seconds, 0.95),
            "webhook_max_s": max(self.webhook_seconds, default=float("nan")),
        }


def outcome(ctx: ShopContext, sink: SmtpSink, receiver: Receiver) -> Outcome:
    """What the shop's orders got: mails and POSTs per order number, and the seconds from order to each."""
    use_shop(ctx.shop)
    placed = {order.number: order.placed_at for order in Order.objects.only("id", "placed_at")}
    use_public()
    confirmations: Counter[int] = Counter()
    notices: Counter[int] = Counter()
    email_seconds = []
    for mail in list(sink.received):
        number = int(SUBJECT_NUMBER.search(mail.subject).group(1))
        if number not in placed:
            continue  # another test's shop
        if mail.to == SHOPPER and mail.subject.endswith(f" at {ctx.shop.name}"):
            confirmations[number] += 1
            email_seconds.append(mail.at - placed[number].timestamp())
        elif mail.to == ctx.owner.email:
            notices[number] += 1
    posts: Counter[int] = Counter()
    webhook_seconds = []
    for request in list(receiver.received):
        body = json.loads(request.body)
        number = int(body["data"]["number"])
        if body["type"] == "order.created" and number in placed:
            posts[number] += 1
            webhook_seconds.append(request.at - placed[number].timestamp())
    return Outcome(sorted(placed), confirmations, notices, posts, email_seconds, webhook_seconds)


def all_delivered(ctx: ShopContext) -> bool:
    """The shop's events are dispatched and its deliveries have succeeded."""
    use_shop(ctx.shop)  # its outbox is in its schema
    try:
        if OutboxEvent.objects.filter(schema_name=ctx.shop.schema_name, dispatched_at=None).exists():
            return False
        open_deliveries = WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists()
        return not open_deliveries
    finally:
        use_public()


def leases_lapse(ctx: ShopContext, now: datetime) -> int:
    """Make every open delivery of the shop due now, as if its lease had run out: the sweep re-sends it."""
    use_shop(ctx.shop)
    try:
        return WebhookDelivery.objects.filter(status__in=["pending", "failed"]).update(next_attempt_at=now)
    finally:
        use_public()


def delivery_state(ctx: ShopContext) -> str:
    """The shop's undispatched events and unfinished deliveries, for a failure message."""
    use_shop(ctx.shop)  # its outbox is in its schema
    events = list(
        OutboxEvent.objects.filter(schema_name=ctx.shop.schema_name, dispatched_at=None).values_list(
            "type", "attempts", "claimed_at", "created_at"
        )
    )
    try:
        deliveries = list(
            WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).values_list(
                "id", "status", "attempts", "next_attempt_at"
            )
        )
        attempts = [
            (a.delivery_id, a.number, a.started_at, a.duration_ms, a.error[:80])
            for a in WebhookAttempt.objects.filter(delivery_id__in=[d[0] for d in deliveries])
        ]
    finally:
        use_public()
    return f"pending events: {events}\nopen deliveries: {deliveries}\ntheir attempts: {attempts}"

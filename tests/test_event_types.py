"""
One list of event types (tenants/outbox/events.py): every emitter, handler,
webhook subscription and the OpenAPI `webhooks` section name its members, and no
module spells an event type by hand.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from tenants.outbox import services as outbox
from tenants.outbox.events import WEBHOOK_EVENTS, EventType
from tenants.webhooks.api.serializers import EndpointInput
from tenants.webhooks.models import WEBHOOK_EVENT_CHOICES, WebhookEndpoint

APPS = ("tenants", "billing", "catalog", "orders", "config")


def test_webhook_subscriptions_offer_exactly_the_webhook_events() -> None:
    values = [event.value for event in WEBHOOK_EVENTS]
    assert [value for value, _label in WEBHOOK_EVENT_CHOICES] == values
    column = WebhookEndpoint._meta.get_field("events").base_field
    assert [value for value, _label in column.choices] == values
    field = EndpointInput().fields["events"].child
    assert list(field.choices) == values
    assert set(WEBHOOK_EVENTS) <= set(EventType)


def test_every_handler_listens_to_a_known_event_and_every_event_has_one() -> None:
    registered = {event_type for event_type, handlers in outbox._handlers.items() if handlers}
    assert registered <= set(EventType.values), sorted(registered - set(EventType.values))
    assert set(EventType.values) <= registered, sorted(set(EventType.values) - registered)


def _hand_spelled_event_types(source: str) -> list[tuple[int, str]]:
    """Event types written as string literals, except as an audit entry's action (its own vocabulary)."""
    tree = ast.parse(source)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "action":
            allowed.add(id(node.value))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AuditChange" and node.args:
            allowed.add(id(node.args[0]))
    prefixes = {value.split(".")[0] + "." for value in EventType.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, ast.Constant) and node.value in EventType.values:
            found.append((node.lineno, node.value))
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and str(head.value) in prefixes:
                found.append((node.lineno, f"f{str(head.value)!r}..."))
    return sorted(found)


def test_no_module_spells_an_event_type_by_hand() -> None:
    root = Path(settings.BASE_DIR)
    events_module = root / "tenants" / "outbox" / "events.py"
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if path == events_module or "migrations" in path.parts:
                continue
            for line, text in _hand_spelled_event_types(path.read_text()):
                found.append(f"{path.relative_to(root)}:{line}: {text}")
    assert not found, "use tenants.outbox.events.EventType:\n" + "\n".join(found)


def test_the_check_finds_a_hand_spelled_event_type() -> None:
    source = (
        'event_record(type="order.paid", payload={})\n'
        'events_record(events=[(f"product.{action}", {})])\n'
        'audit_record(action="order.paid")\n'
    )
    assert _hand_spelled_event_types(source) == [(1, "order.paid"), (2, "f'product.'...")]

"""What the catalog does with its own events, in a worker, after they commit."""

from datetime import date

from catalog.price_history import price_days_refresh
from catalog.search import search_documents_refresh
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler


@event_handler(EventType.PRODUCT_CREATED, EventType.PRODUCT_UPDATED, EventType.PRODUCT_DELETED)
def refresh_search_documents(events: list[OutboxEvent]) -> None:
    """Rebuild the products' search documents (idempotent: they are recomputed from the rows)."""
    search_documents_refresh(sorted({int(event.payload["product_id"]) for event in events}))


@event_handler(EventType.VARIANT_PRICE_CHANGED)
def refresh_price_days(events: list[OutboxEvent]) -> None:
    """Recompute the days the prices changed on (idempotent: each day is recomputed from its changes)."""
    price_days_refresh(
        days={
            (int(variant), date.fromisoformat(str(day))) for e in events for variant, day in e.payload["days"]
        }
    )

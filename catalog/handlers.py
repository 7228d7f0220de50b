"""What the catalog does with its own events, in a worker, after they commit."""

from catalog.search import search_documents_refresh
from tenants.outbox.events import EventType
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_handler


@event_handler(EventType.PRODUCT_CREATED, EventType.PRODUCT_UPDATED, EventType.PRODUCT_DELETED)
def refresh_search_documents(events: list[OutboxEvent]) -> None:
    """Rebuild the products' search documents (idempotent: they are recomputed from the rows)."""
    search_documents_refresh(sorted({int(event.payload["product_id"]) for event in events}))

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet

from tenants.audit.models import AuditEntry


def audit_entries(
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    on_from: date | None = None,
    on_to: date | None = None,
) -> QuerySet[AuditEntry]:
    """
    Entries newest first. `actor`: part of the actor's label (an e-mail, a key's
    name, `system`); `action`: an exact action (`product.created`) or, ending in
    a dot, a family (`product.`); `on_from`/`on_to`: whole UTC days, both included.
    """
    entries = AuditEntry.objects.all()
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id is not None:
        entries = entries.filter(object_id=object_id)
    if actor:
        entries = entries.filter(actor_label__icontains=actor.strip())
    if action:
        entries = (
            entries.filter(action__startswith=action)
            if action.endswith(".")
            else entries.filter(action=action)
        )
    if on_from:
        entries = entries.filter(created_at__gte=datetime.combine(on_from, time.min, tzinfo=UTC))
    if on_to and on_to < date.max:
        entries = entries.filter(
            created_at__lt=datetime.combine(on_to + timedelta(days=1), time.min, tzinfo=UTC)
        )
    return entries.order_by("-id")


def audit_actions() -> list[str]:
    """The distinct actions in the shop's log, for the screen's filter."""
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()[:500])

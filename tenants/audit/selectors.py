from django.db.models import QuerySet

from tenants.audit.models import AuditEntry


def audit_entries(*, object_type: str | None = None, object_id: int | None = None) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id is not None:
        entries = entries.filter(object_id=object_id)
    return entries.order_by("-id")

"""Record audit entries; called by every service that changes a shop's data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenants.audit.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting: a platform user, an API key, or the system (workers, commands)."""

    type: str
    id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type=AuditEntry.ActorType.SYSTEM, id=None, label=label)


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry (inside the caller's transaction)."""
    return AuditEntry.objects.create(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:255],
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
    )

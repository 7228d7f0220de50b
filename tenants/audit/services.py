"""Record audit entries; called by every service that changes a shop's data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tenants.audit.models import AuditEntry
from tenants.inserts import rows_insert


@dataclass(frozen=True)
class Actor:
    """Who is acting: a platform user, an API key, or the system (workers, commands)."""

    type: str
    id: int | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type=AuditEntry.ActorType.SYSTEM, id=None, label=label)


@dataclass(frozen=True)
class AuditChange:
    """One change to record: what was done to which object, with its state before and after."""

    action: str
    object_type: str
    object_id: int | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


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
    (entry,) = audit_records(
        actor=actor, changes=[AuditChange(action, object_type, object_id, before=before, after=after)]
    )
    return entry


def audit_records(*, actor: Actor, changes: Sequence[AuditChange]) -> list[AuditEntry]:
    """Write the audit entries of one actor's changes in one INSERT (inside the caller's transaction)."""
    return rows_insert(
        [
            AuditEntry(
                actor_type=actor.type,
                actor_id=actor.id,
                actor_label=actor.label[:255],
                action=change.action,
                object_type=change.object_type,
                object_id=change.object_id,
                before=change.before,
                after=change.after,
            )
            for change in changes
        ]
    )

"""
Which schema the database connection is on. django-tenants adds these methods
to its connection wrapper; going through here keeps the call sites typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import connection

if TYPE_CHECKING:
    from tenants.models import Shop


def _tenant_connection() -> Any:
    return cast(Any, connection)


def current_schema() -> str:
    """Return the schema the current connection is set to."""
    return str(_tenant_connection().schema_name)


def use_public() -> None:
    """Point the connection at the public schema."""
    _tenant_connection().set_schema_to_public()


def use_shop(shop: Shop) -> None:
    """Point the connection at a shop's schema (with public behind it on the search path)."""
    _tenant_connection().set_tenant(shop)


def use_schema(schema_name: str) -> None:
    """Point the connection at a schema by name (for spare, template and worker use)."""
    _tenant_connection().set_schema(schema_name)


def current_currency() -> str:
    """Return the currency of the shop the connection is set to (USD outside a shop)."""
    return str(getattr(_tenant_connection().tenant, "currency", "USD"))

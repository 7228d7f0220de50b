"""`migrate` is `migrate_schemas` (as in django-tenants), including the warm pool."""

from tenants.management.commands.migrate_schemas import Command

__all__ = ["Command"]

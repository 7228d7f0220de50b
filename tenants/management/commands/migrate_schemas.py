"""
django-tenants' migrate_schemas, extended: the template schema and the warm
pool's spare schemas are migrated along with the shops, so a shop taken from
the pool is never behind.
"""

from typing import Any

from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from tenants import provisioning


class Command(MigrateSchemasCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
        if self.sync_tenant and not options.get("schema_name"):
            provisioning.template_ensure()
            for schema_name in provisioning.pool_schema_names():
                provisioning.schema_migrate(schema_name, verbosity=int(options.get("verbosity", 1)))

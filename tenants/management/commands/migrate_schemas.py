"""
django-tenants' migrate_schemas, extended so the template schema and the warm
pool's spares migrate with everything else, in an order that is safe while the
app keeps provisioning shops: public first, then the pool, then the shops.

A spare renamed into a shop during the run is then either already migrated
(the pool went first) or a shop that the shop phase, which lists shops after
the pool is done, migrates.
"""

from typing import Any

from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from tenants import provisioning


class Command(MigrateSchemasCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("schema_name") or options.get("shared"):
            super().handle(*args, **options)
            return
        if not options.get("tenant"):
            super().handle(*args, **{**options, "shared": True})
        provisioning.pool_migrate(verbosity=int(options.get("verbosity", 1)))
        super().handle(*args, **{**options, "tenant": True})

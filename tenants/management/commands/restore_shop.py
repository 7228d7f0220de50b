from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import backups
from tenants.errors import BackupInvalid


class Command(BaseCommand):
    help = (
        "Restore a shop from a backup_shop file into this database (migrated with migrate_schemas). "
        "Refuses when its slug, schema or domains are taken here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", type=Path, required=True, help="The backup file.")

    def handle(self, *args: Any, input: Path, **options: Any) -> None:
        if not input.is_file():
            raise CommandError(f"No such file: {input}")
        try:
            shop = backups.shop_restore(path=input)
        except BackupInvalid as exc:
            raise CommandError(exc.detail) from exc
        domains = ", ".join(shop.domains.order_by("-is_primary", "domain").values_list("domain", flat=True))
        self.stdout.write(f"Restored shop {shop.slug} (schema {shop.schema_name}), served at {domains}.")

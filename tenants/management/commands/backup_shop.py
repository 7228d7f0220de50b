from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tenants import backups
from tenants.errors import BackupInvalid


class Command(BaseCommand):
    help = "Back up one shop (its schema and its public rows) to a file that restore_shop reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, metavar="SLUG", help="The shop's slug.")
        parser.add_argument(
            "--output", type=Path, help="File to write (default: <slug>-<UTC time>.shop-backup.tar here)."
        )

    def handle(self, *args: Any, shop: str, output: Path | None, **options: Any) -> None:
        output = output or Path(f"{shop}-{timezone.now():%Y%m%dT%H%M%SZ}.shop-backup.tar")
        try:
            summary = backups.shop_backup(slug=shop, output=output)
        except BackupInvalid as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            f"Backed up shop {summary.slug} (schema {summary.schema_name}) to {summary.path} "
            f"({summary.bytes:,} bytes)."
        )

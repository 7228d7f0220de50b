from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tenants import provisioning


class Command(BaseCommand):
    help = "Fill the warm pool of pre-migrated spare schemas used to provision shops."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size", type=int, default=settings.WARM_POOL_SIZE, help="Spare schemas to keep."
        )

    def handle(self, *args: Any, size: int, **options: Any) -> None:
        added = provisioning.warm_pool_fill(size=size)
        self.stdout.write(f"Warm pool: added {added} spare schema(s); target {size}.")

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import placement


class Command(BaseCommand):
    help = (
        "Move one shop's schema to another Citus worker while it serves (citus_schema_move). "
        "Refuses on plain PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", required=True, metavar="SLUG", help="The shop's slug.")
        parser.add_argument(
            "--to",
            metavar="HOST:PORT",
            help="The worker to move it to (default: the one holding the fewest shop bytes).",
        )

    def handle(self, *args: Any, shop: str, to: str | None, **options: Any) -> None:
        try:
            target = placement.Node.parse(to) if to else None
            placement.shop_move(slug=shop, to=target, progress=self.stdout.write)
        except placement.PlacementUnavailable as exc:
            raise CommandError(str(exc)) from exc

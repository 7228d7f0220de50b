from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import placement


class Command(BaseCommand):
    help = (
        "Move the busiest shops off the most loaded Citus workers to the least loaded, one at a "
        "time, while they serve. Refuses on plain PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--by",
            choices=["queries", "bytes"],
            default="queries",
            help="How busy a shop is: its queries in Citus' last two stats periods "
            "(needs citus.stat_tenants_track = 'all'), or the size of its tables.",
        )
        parser.add_argument("--max-moves", type=int, default=10, help="Move at most this many shops.")
        parser.add_argument("--dry-run", action="store_true", help="Print the moves without making them.")

    def handle(self, *args: Any, by: str, max_moves: int, dry_run: bool, **options: Any) -> None:
        if max_moves < 1:
            raise CommandError("--max-moves must be at least 1.")
        try:
            moves = placement.shops_rebalance(
                measure="queries" if by == "queries" else "bytes",
                max_moves=max_moves,
                dry_run=dry_run,
                progress=self.stdout.write,
            )
        except placement.PlacementUnavailable as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would move" if dry_run else "Moved"
        self.stdout.write(f"{verb} {len(moves)} shop(s).")

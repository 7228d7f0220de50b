"""
django-tenants' migrate_schemas, extended so the template schema and the warm
pool's spares migrate with everything else, in an order that is safe while the
app keeps provisioning shops: public first, then the pool, then the shops.

A spare renamed into a shop during the run is then either already migrated
(the pool went first) or a shop that the shop phase, which lists shops after
the pool is done, migrates.

The shops are migrated by tenants.migrating: in parallel processes
(`--parallel`, default 2), skipping shops with nothing to apply, replaying one
collected plan of SQL per group of shops at the same state, with a progress
bar and a record in public of the shops done, so an interrupted run resumes
(`--restart` checks every shop again). Options that ask for something else
(an app label or target migration, --fake, --fake-initial, --plan, --check,
--prune, --run-syncdb) run django-tenants' own per-schema migrate instead.
"""

import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from tenants import migrating, provisioning

DEFAULT_PARALLEL = 2
# Options only django-tenants' per-schema `migrate` run understands.
PER_SCHEMA_OPTIONS = (
    *("app_label", "migration_name", "fake", "fake_initial", "plan", "check_unapplied"),
    *("prune", "run_syncdb"),
)


class Command(MigrateSchemasCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--restart",
            action="store_true",
            help="Check every shop again instead of resuming from the record of shops done.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=migrating.BATCH_SIZE,
            help="Shops a worker checks with one query and migrates before closing its connection.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("schema_name") or options.get("shared"):
            super().handle(*args, **options)
            return
        if not options.get("tenant"):
            super().handle(*args, **{**options, "shared": True})
        verbosity = int(options.get("verbosity", 1))
        provisioning.pool_migrate(verbosity=verbosity)
        if any(options.get(name) for name in PER_SCHEMA_OPTIONS):
            super().handle(*args, **{**options, "tenant": True})
            return
        self._shops_migrate(options, verbosity)

    def _shops_migrate(self, options: dict[str, Any], verbosity: int) -> None:
        jobs = options.get("parallel") or DEFAULT_PARALLEL
        draw = _ProgressBar(enabled=verbosity >= 1)
        report = migrating.shops_migrate(
            jobs=jobs,
            restart=bool(options.get("restart")),
            batch_size=max(1, int(options.get("batch_size") or migrating.BATCH_SIZE)),
            progress=draw,
        )
        draw.finish()
        if verbosity >= 1:
            self.stdout.write(
                f"Shops: {report.shops} in {report.seconds:.1f} s ({jobs} processes): "
                f"{report.migrated} migrated, {report.skipped} already up to date, "
                f"{report.recorded} recorded as done by an earlier run, {len(report.failed)} failed."
            )
        if report.failed:
            listed = "\n".join(f"  {schema}: {detail}" for schema, detail in report.failed[:20])
            raise CommandError(
                f"{len(report.failed)} shop(s) failed to migrate (run again to retry them):\n{listed}"
            )


class _ProgressBar:
    """done/total, rate and time left on stderr: redrawn in place on a terminal, every 10% otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.last_tenth = -1
        self.drawn = False

    def __call__(self, report: migrating.Report) -> None:
        if not self.enabled or not report.shops:
            return
        now = time.monotonic()
        share = report.done / report.shops
        tenth = int(share * 10)
        if self.tty and now - self.last < 0.2 and report.done < report.shops:
            return
        if not self.tty and tenth == self.last_tenth:
            return
        self.last, self.last_tenth, self.drawn = now, tenth, True
        elapsed = now - self.started
        fresh = report.done - report.recorded
        rate = fresh / elapsed if elapsed else 0.0
        left = (report.shops - report.done) / rate if rate else 0.0
        bar = "#" * int(30 * share) + "." * (30 - int(30 * share))
        line = (
            f"migrating shops [{bar}] {report.done}/{report.shops} "
            f"({report.migrated} migrated, {report.skipped + report.recorded} up to date, "
            f"{len(report.failed)} failed) {rate:.0f}/s, ~{left:.0f} s left"
        )
        sys.stderr.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.drawn and self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()

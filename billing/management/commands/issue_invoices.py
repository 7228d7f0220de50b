"""`manage.py issue_invoices [--period YYYY-MM]`: issue the invoices of an ended month (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.errors import PeriodInvalid
from billing.invoicing import invoices_issue
from billing.periods import period_before, period_label, period_of, period_parse


class Command(BaseCommand):
    help = "Issue every shop's invoice for an ended month; shops already invoiced for it are skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="The month, YYYY-MM (default: last month).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = (
                period_parse(options["period"])
                if options["period"] is not None
                else period_before(period_of())
            )
            run = invoices_issue(period=period)
        except PeriodInvalid as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            f"{period_label(period)}: {run.issued} issued, {run.already_issued} already issued, "
            f"{run.failed} failed"
        )
        if run.failed:
            raise CommandError(f"{run.failed} invoice(s) could not be issued; see the log, then run again.")

"""Background billing work (public schema)."""

from celery import shared_task

from billing.invoicing import invoices_issue
from billing.periods import period_before, period_of
from billing.services import order_counts_collect


@shared_task(name="billing.tasks.invoices_issue_due", ignore_result=True)
def invoices_issue_due() -> int:
    """Issue last month's invoices (beat runs this hourly; shops already invoiced are skipped)."""
    return invoices_issue(period=period_before(period_of())).issued


@shared_task(name="billing.tasks.order_counts_collect", ignore_result=True)
def order_counts_collect_all() -> int:
    """Copy each shop's order count of this month into `UsagePeriod` (beat runs this hourly)."""
    return order_counts_collect()

"""Background billing work (public schema)."""

from celery import shared_task

from billing.invoicing import invoices_issue
from billing.periods import period_before, period_of


@shared_task(name="billing.tasks.invoices_issue_due", ignore_result=True)
def invoices_issue_due() -> int:
    """Issue last month's invoices (beat runs this hourly; shops already invoiced are skipped)."""
    return invoices_issue(period=period_before(period_of())).issued

"""Billing periods: calendar months in UTC, named by their first day."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from billing.errors import PeriodInvalid

PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def period_of(moment: dt.datetime | None = None) -> dt.date:
    """The period (first day of the UTC month) that `moment` (default: now) falls in."""
    moment = (moment or timezone.now()).astimezone(dt.UTC)
    return dt.date(moment.year, moment.month, 1)


def period_after(period: dt.date) -> dt.date:
    return dt.date(period.year + period.month // 12, period.month % 12 + 1, 1)


def period_before(period: dt.date) -> dt.date:
    return dt.date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


def period_bounds(period: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period as aware UTC datetimes."""
    start = dt.datetime(period.year, period.month, 1, tzinfo=dt.UTC)
    end_day = period_after(period)
    return start, dt.datetime(end_day.year, end_day.month, 1, tzinfo=dt.UTC)


def period_parse(text: str) -> dt.date:
    """`"2026-11"` → 2026-11-01; PeriodInvalid for anything else."""
    match = PERIOD_PATTERN.match(text or "")
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise PeriodInvalid(
            f"{text!r} is not a period; write it as YYYY-MM.", errors={"period": ["Use YYYY-MM."]}
        )
    return dt.date(int(match[1]), int(match[2]), 1)


def period_label(period: dt.date) -> str:
    return f"{period:%Y-%m}"

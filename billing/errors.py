"""Billing refusals: each a DomainError with a stable code and the HTTP status it answers with."""

from enum import StrEnum

from tenants.errors import DomainError


class BillingErrorCode(StrEnum):
    PLAN_NOT_FOUND = "plan_not_found"
    LIMIT_REACHED = "limit_reached"
    DOWNGRADE_REFUSED = "downgrade_refused"
    PERIOD_INVALID = "period_invalid"
    INVOICE_NOT_FOUND = "invoice_not_found"
    SUBSCRIPTION_MISSING = "subscription_missing"


class PlanNotFound(DomainError):
    status = 400
    code = BillingErrorCode.PLAN_NOT_FOUND
    title = "Unknown plan"


class LimitReached(DomainError):
    """A create that the shop's plan does not allow: 402, naming the limit and the plan."""

    status = 402
    code = BillingErrorCode.LIMIT_REACHED
    title = "Plan limit reached"

    def __init__(self, detail: str, *, limit: str, plan: str, allowed: int) -> None:
        super().__init__(detail)
        self.limit = limit
        self.plan = plan
        self.allowed = allowed

    @property
    def extensions(self) -> dict[str, object]:
        return {"limit": self.limit, "plan": self.plan, "allowed": self.allowed}


class DowngradeRefused(DomainError):
    """A plan change that the shop's current usage exceeds: 409, naming the limit."""

    status = 409
    code = BillingErrorCode.DOWNGRADE_REFUSED
    title = "Usage exceeds the new plan"

    def __init__(
        self,
        detail: str,
        *,
        limit: str,
        plan: str,
        allowed: int,
        used: int,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail, errors=errors)
        self.limit = limit
        self.plan = plan
        self.allowed = allowed
        self.used = used

    @property
    def extensions(self) -> dict[str, object]:
        return {"limit": self.limit, "plan": self.plan, "allowed": self.allowed, "used": self.used}


class PeriodInvalid(DomainError):
    status = 400
    code = BillingErrorCode.PERIOD_INVALID
    title = "Invalid billing period"


class SubscriptionMissing(DomainError):
    status = 409
    code = BillingErrorCode.SUBSCRIPTION_MISSING
    title = "The shop has no subscription"

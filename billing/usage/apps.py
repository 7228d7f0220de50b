from django.apps import AppConfig


class UsageConfig(AppConfig):
    """
    The month's order count, in each shop's schema (a tenant app): checkout
    counts its order against the plan's limit without writing a public row, so
    its transaction stays on the shop's node on Citus. Billing reads the counts
    across shops (`billing.services.order_counts_collect`) into `UsagePeriod`.
    """

    name = "billing.usage"
    label = "billing_usage"
    verbose_name = "shop usage counts"

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # `tenants` cannot import billing; it calls these at provisioning and when
        # a member is added (see tenants/hooks.py).
        from billing import services
        from tenants import hooks

        hooks.on_shop_provisioned(services.subscription_start)
        hooks.on_membership_adding(services.staff_seat_take)
        hooks.on_shop_facts(services.shop_plan_facts)

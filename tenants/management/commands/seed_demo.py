import os
from typing import Any

from django.core.management.base import BaseCommand

from tenants import services
from tenants.models import Membership, Shop, User

DEMO_EMAIL = "owner@demo.localhost"


class Command(BaseCommand):
    help = "Create the demo shop `demo` and its owner (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD", "storefleet-demo")
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = services.user_signup(email=DEMO_EMAIL, password=password, name="Demo Owner")
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        shop = Shop.objects.filter(slug="demo").first()
        if shop is None:
            shop = services.shop_create(owner=user, name="Demo Shop", slug="demo", currency="EUR")
        Membership.objects.get_or_create(user=user, shop=shop, defaults={"role": Membership.Role.OWNER})
        self.stdout.write(f"Demo shop: {shop.domains.get(is_primary=True).domain}")
        self.stdout.write(f"Demo owner: {DEMO_EMAIL} / {password}")

import os
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from catalog import services as catalog_services
from catalog.models import Category, Product
from catalog.search import search_documents_rebuild
from tenants import services
from tenants.audit.services import Actor
from tenants.models import Membership, Shop, User
from tenants.schemas import use_public, use_shop

DEMO_EMAIL = "owner@demo.localhost"

DEMO_PRODUCTS = [
    (
        "Blue Oxford Shirt",
        "shirts",
        "Woven cotton with a button-down collar.",
        [("OX-BLU-M", "39.90", 12), ("OX-BLU-L", "39.90", 4)],
    ),
    ("Linen Summer Shirt", "shirts", "Light flax linen for hot days.", [("LIN-WHT-M", "59.00", 7)]),
    ("Merino Crew Jumper", "knitwear", "Fine merino wool, warm and breathable.", [("MER-GRY-M", "89.00", 3)]),
    ("Enamel Camp Mug", "mugs", "Steel enamel mug, 350 ml.", [("MUG-ENA-350", "14.50", 40)]),
    ("Stoneware Espresso Cup", "mugs", "Hand-glazed, 90 ml.", [("CUP-STN-90", "9.00", 0)]),
]


class Command(BaseCommand):
    help = "Create the demo shop `demo`, its owner and a few products (safe to run again)."

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
        domain = shop.domains.get(is_primary=True).domain
        use_shop(shop)
        self._seed_catalog()
        use_public()
        self.stdout.write(f"Demo shop: {domain}")
        self.stdout.write(f"Demo owner: {DEMO_EMAIL} / {password}")

    def _seed_catalog(self) -> None:
        actor = Actor.system("seed_demo")
        categories: dict[str, Category] = {}
        clothing = Category.objects.filter(slug="clothing").first() or catalog_services.category_create(
            actor=actor, name="Clothing", slug="clothing"
        )
        for slug, name, parent in (
            ("shirts", "Shirts", clothing),
            ("knitwear", "Knitwear", clothing),
            ("mugs", "Mugs", None),
        ):
            categories[slug] = Category.objects.filter(slug=slug).first() or catalog_services.category_create(
                actor=actor, name=name, slug=slug, parent=parent
            )
        for title, category, description, variants in DEMO_PRODUCTS:
            if Product.objects.filter(title=title).exists():
                continue
            catalog_services.product_create(
                actor=actor,
                title=title,
                description=description,
                status=Product.Status.ACTIVE,
                category=categories[category],
                variants=[
                    catalog_services.VariantSpec(sku=sku, price=Decimal(price), stock=stock)
                    for sku, price, stock in variants
                ],
            )
        # The worker may not be up yet: build the storefront's documents here.
        search_documents_rebuild()

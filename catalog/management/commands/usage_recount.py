from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Sum

from billing.services import usage_recount
from catalog.models import Product, ProductImage
from tenants.models import Shop
from tenants.schemas import use_public, use_shop


class Command(BaseCommand):
    help = "Set billing's product and image-storage counters from each shop's catalog tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="Only this shop's slug (default: every shop).")

    def handle(self, *args: Any, shop: str | None = None, **options: Any) -> None:
        shops = Shop.objects.order_by("id")
        if shop:
            shops = shops.filter(slug=shop)
            if not shops.exists():
                raise CommandError(f"No shop with the slug {shop!r}.")
        for each in list(shops):
            use_shop(each)
            products = Product.objects.count()
            ready = ProductImage.objects.filter(status=ProductImage.Status.READY)
            storage = ready.aggregate(total=Sum("size"))["total"] or 0
            use_public()
            usage_recount(shop_id=each.pk, products=products, storage_bytes=storage)
            self.stdout.write(f"{each.slug}: {products} product(s), {storage} byte(s) of images")

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.search import search_documents_rebuild
from tenants.models import Shop
from tenants.schemas import use_public, use_shop


class Command(BaseCommand):
    help = "Rebuild the storefront search documents (and drop cached storefront responses)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="Only this shop's slug (default: every shop).")

    def handle(self, *args: Any, shop: str | None = None, **options: Any) -> None:
        shops = Shop.objects.order_by("id")
        if shop:
            shops = shops.filter(slug=shop)
            if not shops.exists():
                raise CommandError(f"No shop with the slug {shop!r}.")
        for each in shops.iterator():
            use_shop(each)
            indexed = search_documents_rebuild()
            self.stdout.write(f"{each.slug}: indexed {indexed} product(s)")
        use_public()

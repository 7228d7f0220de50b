from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.images import images_rethumbnail
from tenants.models import Shop
from tenants.schemas import use_public, use_shop


class Command(BaseCommand):
    help = (
        "Queue the thumbnail worker for every ready image without its widths (images made before "
        "responsive widths existed); run it once after deploying them, with workers running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shop", help="Only this shop's slug (default: every shop).")
        parser.add_argument(
            "--inline", action="store_true", help="Make them in this process instead of queueing them."
        )

    def handle(self, *args: Any, shop: str | None = None, inline: bool = False, **options: Any) -> None:
        shops = Shop.objects.order_by("id")
        if shop:
            shops = shops.filter(slug=shop)
            if not shops.exists():
                raise CommandError(f"No shop with the slug {shop!r}.")
        for each in shops.iterator():
            use_shop(each)
            count = images_rethumbnail(inline=inline)
            self.stdout.write(f"{each.slug}: {'made' if inline else 'queued'} {count} image(s)")
        use_public()

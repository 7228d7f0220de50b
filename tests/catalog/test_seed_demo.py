"""`manage.py seed_demo` (run by `make run`) is safe to run again."""

import pytest
from django.core.management import call_command

from catalog.models import Product, SearchDocument
from tenants.models import Shop
from tenants.schemas import use_public, use_shop

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_shop_once() -> None:
    call_command("seed_demo")
    call_command("seed_demo")
    use_public()
    shop = Shop.objects.get(slug="demo")
    assert shop.domains.get(is_primary=True).domain == "demo.localhost"
    use_shop(shop)
    assert Product.objects.count() == 5
    assert SearchDocument.objects.count() == 5

"""
A shop's catalog as the benchmarks seed it: a category tree, and products with
realistic, repeatable titles, descriptions, prices and stock, created through
`product_create` or bulk-inserted when that would take too long.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.models import Category
    from catalog.services import VariantSpec
    from tenants.audit.services import Actor
    from tenants.models import Shop

# (slug, name, parent slug or None, nouns of its products); products go to leaves.
CATEGORY_TREE: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("apparel", "Apparel", None, ()),
    ("shirts", "Shirts", "apparel", ("Shirt", "Blouse", "Polo", "Tee", "Overshirt")),
    ("trousers", "Trousers", "apparel", ("Chinos", "Trousers", "Shorts", "Joggers")),
    ("outerwear", "Outerwear", "apparel", ("Jacket", "Parka", "Coat", "Gilet")),
    ("home", "Home", None, ()),
    ("kitchen", "Kitchen", "home", ("Mug", "Bowl", "Chef Knife", "Skillet", "Teapot")),
    ("furniture", "Furniture", "home", ("Chair", "Stool", "Bookshelf", "Side Table")),
    ("lighting", "Lighting", "home", ("Desk Lamp", "Pendant Light", "Lantern")),
    ("outdoor", "Outdoor", None, ()),
    ("camping", "Camping", "outdoor", ("Tent", "Hammock", "Sleeping Bag", "Camp Stove")),
    ("cycling", "Cycling", "outdoor", ("Helmet", "Bike Bell", "Pannier", "Saddle")),
    ("accessories", "Accessories", None, ()),
    ("bags", "Bags", "accessories", ("Backpack", "Tote", "Wallet", "Duffel")),
    ("watches", "Watches", "accessories", ("Field Watch", "Watch Strap", "Pocket Watch")),
)


ADJECTIVES = (
    "Classic", "Vintage", "Modern", "Rustic", "Organic", "Handmade", "Lightweight", "Heavy-Duty",
    "Compact", "Deluxe", "Everyday", "Premium", "Slim", "Waterproof", "Recycled", "Nordic",
)  # fmt: skip


MATERIALS = (
    "Linen", "Cotton", "Wool", "Leather", "Bamboo", "Oak", "Walnut", "Ceramic",
    "Steel", "Copper", "Canvas", "Denim", "Cashmere", "Glass", "Cork",
)  # fmt: skip


COLOURS = ("black", "white", "navy", "olive", "sand", "rust", "charcoal", "forest green", "sky blue")


BENEFITS = (
    "Built to last and easy to care for.",
    "Designed in small batches by independent makers.",
    "Ships plastic-free in recycled packaging.",
    "A favourite for travel, weekends and everyday use.",
    "Comes with a two-year repair guarantee.",
    "Pairs well with the rest of the collection.",
)


SIZES = ("S", "M", "L", "XL")


@dataclass(frozen=True)
class ProductSeed:
    title: str
    slug: str
    description: str
    category_slug: str
    attributes: dict[str, str]
    variants: list[VariantSpec]


def product_seeds(count: int, rng: random.Random, sku_prefix: str) -> Iterator[ProductSeed]:
    """`count` products with realistic, repeatable titles, descriptions, prices and stock."""
    from catalog.services import VariantSpec

    leaves = [(slug, nouns) for slug, _name, parent, nouns in CATEGORY_TREE if nouns]
    for i in range(count):
        category_slug, nouns = rng.choice(leaves)
        adjective, material, noun = rng.choice(ADJECTIVES), rng.choice(MATERIALS), rng.choice(nouns)
        colour = rng.choice(COLOURS)
        title = f"{adjective} {material} {noun}"
        article = "An" if adjective[0] in "AEIOU" else "A"
        description = (
            f"{article} {adjective.lower()} {noun.lower()} made from {material.lower()}, "
            f"finished in {colour}. {rng.choice(BENEFITS)} {rng.choice(BENEFITS)}"
        )
        base = Decimal(rng.choice((4, 9, 15, 19, 24, 29, 39, 49, 59, 79, 99, 129, 199, 249, 399)))
        variants = []
        for position in range(rng.randint(1, 3)):
            size = SIZES[position]
            stock = 0 if rng.random() < 0.15 else rng.randint(1, 120)
            price = base + Decimal(position * 2) + Decimal("0.90")
            variants.append(
                VariantSpec(
                    sku=f"{sku_prefix}-{i:05d}-{size}",
                    price=price,
                    stock=stock,
                    title=size,
                    options={"size": size},
                )
            )
        yield ProductSeed(
            title=title,
            slug=f"{adjective}-{material}-{noun}-{i}".lower().replace(" ", "-"),
            description=description,
            category_slug=category_slug,
            attributes={"colour": colour, "material": material.lower()},
            variants=variants,
        )


@dataclass
class SeedReport:
    products: int = 0
    through_services: int = 0
    bulk_inserted: int = 0
    seconds: float = 0.0
    documents: int = 0

    def method(self) -> str:
        if not self.bulk_inserted:
            return "catalog.services.product_create (events dispatched eagerly)"
        if not self.through_services:
            return "ORM bulk_create + search_documents_rebuild()"
        return (
            f"product_create for the first {self.through_services}, then bulk_create for "
            f"{self.bulk_inserted} (projected > budget) + search_documents_rebuild()"
        )


def categories_seed(actor: Actor) -> dict[str, Category]:
    from catalog.services import category_create

    categories: dict[str, Category] = {}
    for position, (slug, name, parent, _nouns) in enumerate(CATEGORY_TREE):
        categories[slug] = category_create(
            actor=actor,
            name=name,
            slug=slug,
            parent=categories[parent] if parent else None,
            position=position,
        )
    return categories


def products_bulk_insert(seeds: list[ProductSeed], categories: dict[str, Category]) -> None:
    """Insert products and variants directly (no audit entries, events, price history or ledger)."""
    from django.db import transaction

    from catalog.models import Product, Variant

    with transaction.atomic():
        for start in range(0, len(seeds), 1000):
            chunk = seeds[start : start + 1000]
            products = Product.objects.bulk_create(
                [
                    Product(
                        title=seed.title,
                        slug=seed.slug,
                        description=seed.description,
                        status=Product.Status.ACTIVE,
                        category=categories[seed.category_slug],
                        attributes=seed.attributes,
                    )
                    for seed in chunk
                ]
            )
            Variant.objects.bulk_create(
                [
                    Variant(
                        product=product,
                        sku=spec.sku,
                        title=spec.title,
                        options=spec.options,
                        price=spec.price,
                        stock=spec.stock,
                        position=position,
                    )
                    for product, seed in zip(products, chunk, strict=True)
                    for position, spec in enumerate(seed.variants)
                ]
            )


def catalog_seed(
    shop: Shop, *, count: int, mode: str, budget_seconds: float, rng: random.Random, progress: str
) -> SeedReport:
    """
    Seed one shop's catalog. `services` creates every product through
    `product_create`; `bulk` inserts rows and rebuilds the search documents;
    `auto` times the first products through the services and switches to bulk
    when the projected total exceeds `budget_seconds`.
    """
    from catalog.models import Product, SearchDocument
    from catalog.search import search_documents_rebuild
    from catalog.services import product_create
    from tenants.audit.services import Actor
    from tenants.schemas import use_public, use_shop

    use_shop(shop)
    report = SeedReport(products=count)
    start = time.perf_counter()
    actor = Actor.system("perf-seed")
    categories = categories_seed(actor)
    seeds = list(product_seeds(count, rng, sku_prefix=shop.slug.upper()))
    through_services = {"services": count, "bulk": 0, "auto": min(count, 200)}[mode]
    for seed in seeds:
        if mode == "auto" and report.through_services == through_services < count:
            elapsed = time.perf_counter() - start
            projected = elapsed / through_services * count
            fits = projected <= budget_seconds
            print(
                f"\r  {progress}: {through_services} products in {elapsed:.1f} s through product_create; "
                f"{count} would take ~{projected:.0f} s (budget {budget_seconds:.0f} s): "
                f"{'carrying on' if fits else 'bulk-inserting the rest'}",
                file=sys.stderr,
            )
            through_services = count if fits else through_services
        if report.through_services >= through_services:
            break
        product_create(
            actor=actor,
            title=seed.title,
            slug=seed.slug,
            description=seed.description,
            status=Product.Status.ACTIVE,
            category=categories[seed.category_slug],
            attributes=seed.attributes,
            variants=seed.variants,
        )
        use_shop(shop)  # an eager task may have left the connection on another schema
        report.through_services += 1
        if progress and report.through_services % 100 == 0:
            print(
                f"\r  {progress}: {report.through_services}/{count} through product_create",
                end="",
                file=sys.stderr,
                flush=True,
            )
    rest = seeds[report.through_services :]
    if rest:
        products_bulk_insert(rest, categories)
        report.bulk_inserted = len(rest)
    if progress:
        print(file=sys.stderr)
    use_shop(shop)
    if report.bulk_inserted or SearchDocument.objects.count() != count:
        search_documents_rebuild()
    report.documents = SearchDocument.objects.count()
    report.seconds = time.perf_counter() - start
    use_public()
    if report.documents != count:
        raise RuntimeError(f"Shop {shop.slug} has {report.documents} search documents, not {count}.")
    return report

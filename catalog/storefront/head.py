"""
What the server writes into the storefront's HTML for each route, so search
engines and link previews see the page without running the SPA, and the SPA's
first screen paints from embedded data instead of waiting for the API: the
<title>, meta description, canonical URL, Open Graph and Twitter tags,
schema.org JSON-LD (Product/Offer, BreadcrumbList, WebSite), the theme's
colours and font, and the first screen's API answers as JSON.

Pure functions of the data handed in (the view fetches it): nothing here reads
the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape

from catalog.storefront.models import ContentPage, Theme

DESCRIPTION_LENGTH = 160
# Font stacks of Theme.Font: installed fonts only (nothing downloaded).
FONT_STACKS = {
    Theme.Font.SYSTEM: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    Theme.Font.HUMANIST: 'Seravek, "Gill Sans Nova", Ubuntu, Calibri, "DejaVu Sans", sans-serif',
    Theme.Font.GEOMETRIC: 'Avenir, Montserrat, Corbel, "URW Gothic", source-sans-pro, sans-serif',
    Theme.Font.SERIF: 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif',
    Theme.Font.SLAB: 'Rockwell, "Rockwell Nova", "Roboto Slab", "DejaVu Serif", "Sitka Small", serif',
}
# Routes that are the shopper's own (their checkout, their orders, their account): never in a
# search index. The cart page is not among them: its HTML holds no shopper's data (the cart
# itself is read by the browser), and a crawler may see it like any page of the shop.
PRIVATE_PREFIXES = ("/checkout", "/orders", "/account")


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `</script>`, `<!--` or line separator can end or bend it."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def summary(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    """One line of at most `length` characters, cut at a word."""
    line = " ".join(text.split())
    if len(line) <= length:
        return line
    cut = line[: length - 1].rsplit(" ", 1)[0]
    return f"{cut.rstrip(',;:.')}…"


@dataclass
class Head:
    """One page's head: what the <head> says and what the SPA gets embedded."""

    title: str
    description: str
    canonical: str
    og_type: str = "website"
    image: str | None = None
    index: bool = True
    json_ld: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


def _breadcrumbs(items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": index, "name": name, "item": url}
            for index, (name, url) in enumerate(items, start=1)
        ],
    }


def home_head(*, shop_name: str, base: str, theme: Theme, logo: str | None, hero: str | None) -> Head:
    description = summary(theme.hero_text or theme.hero_title or f"Shop {shop_name} online.")
    return Head(
        title=shop_name if not theme.hero_title else f"{shop_name} – {theme.hero_title}",
        description=description,
        canonical=f"{base}/",
        image=hero or logo,
        json_ld=[
            {"@context": "https://schema.org", "@type": "WebSite", "name": shop_name, "url": f"{base}/"},
            {
                "@context": "https://schema.org",
                "@type": "Organization",
                "name": shop_name,
                "url": f"{base}/",
                **({"logo": logo} if logo else {}),
            },
        ],
    )


def category_head(*, shop_name: str, base: str, category: Mapping[str, Any], total: int | None) -> Head:
    url = f"{base}/?category={category['slug']}"
    count = f"{total} product{'' if total == 1 else 's'}" if total is not None else "Products"
    return Head(
        title=f"{category['name']} – {shop_name}",
        description=summary(f"{count} in {category['name']} at {shop_name}."),
        canonical=url,
        json_ld=[_breadcrumbs([(shop_name, f"{base}/"), (str(category["name"]), url)])],
    )


def _availability(variant: Mapping[str, Any]) -> str:
    return "https://schema.org/InStock" if variant.get("in_stock") else "https://schema.org/OutOfStock"


def product_head(*, shop_name: str, base: str, product: Mapping[str, Any]) -> Head:
    """The head of a product page, from the product's storefront JSON (StorefrontProductOutput)."""
    url = f"{base}/products/{product['slug']}"
    images = [absolute(base, image["url"]) for image in product.get("images", []) if image.get("url")]
    variants = [variant for variant in product.get("variants", []) if variant.get("price")]
    offers = [
        {
            "@type": "Offer",
            "sku": variant["sku"],
            "price": variant["price"]["amount"],
            "priceCurrency": variant["price"]["currency"],
            "availability": _availability(variant),
            "url": url,
            "itemCondition": "https://schema.org/NewCondition",
        }
        for variant in variants
    ]
    json_product: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product["title"],
        "url": url,
        "brand": {"@type": "Brand", "name": shop_name},
        "offers": offers[0] if len(offers) == 1 else offers,
    }
    if product.get("description"):
        json_product["description"] = product["description"]
    if images:
        json_product["image"] = images
    if len(variants) == 1:
        json_product["sku"] = variants[0]["sku"]
    crumbs = [(shop_name, f"{base}/")]
    category = product.get("category")
    if category:
        crumbs.append((str(category["name"]), f"{base}/?category={category['slug']}"))
        json_product["category"] = category["name"]
    crumbs.append((str(product["title"]), url))
    prices = sorted({variant["price"]["amount"] for variant in variants}, key=float)
    price_text = ""
    if prices:
        currency = variants[0]["price"]["currency"]
        price_text = f" {'From ' if len(prices) > 1 else ''}{prices[0]} {currency}."
    description = str(product.get("description") or "") or f"{product['title']} at {shop_name}.{price_text}"
    return Head(
        title=f"{product['title']} – {shop_name}",
        description=summary(description),
        canonical=url,
        og_type="product",
        image=images[0] if images else None,
        json_ld=[json_product, _breadcrumbs(crumbs)],
    )


def content_page_head(*, shop_name: str, base: str, page: ContentPage) -> Head:
    url = f"{base}/pages/{page.kind}"
    return Head(
        title=f"{page.title} – {shop_name}",
        description=summary(page.body) or page.title,
        canonical=url,
        json_ld=[_breadcrumbs([(shop_name, f"{base}/"), (page.title, url)])],
    )


def plain_head(
    *, shop_name: str, base: str, path: str, title: str, status: int = 200, index: bool = False
) -> Head:
    """Any other route: its own title, and out of search indexes unless `index` (a checkout, a 404)."""
    return Head(
        title=f"{title} – {shop_name}",
        description=summary(f"{title} at {shop_name}."),
        canonical=f"{base}{path}",
        index=index,
        status=status,
    )


def absolute(base: str, url: str) -> str:
    """An object URL as an absolute one (local storage serves them under the shop's own host)."""
    return (
        url
        if url.startswith(("https://", "http://"))
        else f"{base}{url if url.startswith('/') else '/' + url}"
    )


def theme_style(theme: Theme) -> str:
    """The theme as CSS custom properties, inline, so the first paint already has the shop's colours."""
    font = FONT_STACKS.get(theme.font, FONT_STACKS[Theme.Font.SYSTEM])  # type: ignore[call-overload]
    # Colours are #rrggbb (validated by the service); the font stack is ours.
    return f":root{{--accent:{theme.brand_color};--brand-2:{theme.accent_color};--font:{font}}}"


def head_html(head: Head, *, shop_name: str, theme: Theme, data: Mapping[str, Any]) -> str:
    """The tags that replace the built index.html's <title>, and the embedded data script."""
    title = escape(head.title)
    description = escape(head.description)
    canonical = escape(head.canonical)
    tags = [
        f"<title>{title}</title>",
        f'<meta name="description" content="{description}">',
        f'<link rel="canonical" href="{canonical}">',
        f'<meta name="theme-color" content="{escape(theme.brand_color)}">',
        '<link rel="icon" href="/favicon.svg" type="image/svg+xml">',
        f'<meta property="og:site_name" content="{escape(shop_name)}">',
        f'<meta property="og:title" content="{title}">',
        f'<meta property="og:description" content="{description}">',
        f'<meta property="og:url" content="{canonical}">',
        f'<meta property="og:type" content="{head.og_type}">',
        f'<meta name="twitter:card" content="{"summary_large_image" if head.image else "summary"}">',
        f'<meta name="twitter:title" content="{title}">',
        f'<meta name="twitter:description" content="{description}">',
    ]
    if head.image:
        tags.append(f'<meta property="og:image" content="{escape(head.image)}">')
        tags.append(f'<meta name="twitter:image" content="{escape(head.image)}">')
    if not head.index:
        tags.append('<meta name="robots" content="noindex">')
    tags.extend(f'<script type="application/ld+json">{script_json(item)}</script>' for item in head.json_ld)
    tags.append(f"<style>{theme_style(theme)}</style>")
    tags.append(f'<script id="storefleet-data" type="application/json">{script_json(dict(data))}</script>')
    return "\n    ".join(tags)

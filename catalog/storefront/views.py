"""
What a shop host serves to browsers and crawlers besides the SPA: robots.txt,
the sitemaps, and the shop's favicon (an SVG of its initial in its brand colour).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape as xml_escape

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from catalog import selectors as catalog_selectors
from catalog.storefront import selectors
from tenants.conventions.problems import page_not_found, problem_response
from tenants.http import request_shop

# A sitemap file holds at most 50,000 URLs (sitemaps.org); products are listed in files of this many.
PRODUCTS_PER_SITEMAP = 40_000
# Crawlers may keep these a while; a new product shows in the next fetch after that.
CRAWLER_CACHE = "public, max-age=3600"


def _get_only(request: HttpRequest) -> HttpResponse | None:
    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="This answers GET and HEAD only.", headers={"Allow": "GET, HEAD"})
    return None


def _base(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _answer(body: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = CRAWLER_CACHE
    return response


def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl the catalog and the shop's pages; leave checkout, orders, accounts and the APIs alone."""
    refused = _get_only(request)
    if refused is not None:
        return refused
    lines = [
        "User-agent: *",
        "Disallow: /checkout",
        "Disallow: /orders",
        "Disallow: /account",
        "Disallow: /api/",
        "Disallow: /admin/",
        "Allow: /",
        "",
        f"Sitemap: {_base(request)}/sitemap.xml",
        "",
    ]
    return _answer("\n".join(lines), "text/plain; charset=utf-8")


def _xml(body: list[str]) -> HttpResponse:
    return _answer('<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(body) + "\n", "application/xml")


def _url(location: str, lastmod: object | None = None) -> str:
    modified = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod is not None else ""  # type: ignore[attr-defined]
    return f"<url><loc>{xml_escape(location)}</loc>{modified}</url>"


def sitemap_index(request: HttpRequest) -> HttpResponse:
    """The shop's sitemap index: one file of its pages and categories, then its products by the 40,000."""
    refused = _get_only(request)
    if refused is not None:
        return refused
    base = _base(request)
    files = max(1, math.ceil(catalog_selectors.products_on_sale_count() / PRODUCTS_PER_SITEMAP))
    locations = [f"{base}/sitemap-pages.xml"] + [
        f"{base}/sitemap-products-{n}.xml" for n in range(1, files + 1)
    ]
    return _xml(
        [
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
            *(f"<sitemap><loc>{xml_escape(location)}</loc></sitemap>" for location in locations),
            "</sitemapindex>",
        ]
    )


def sitemap_pages(request: HttpRequest) -> HttpResponse:
    """The home page, every category and every content page."""
    refused = _get_only(request)
    if refused is not None:
        return refused
    base = _base(request)
    urls = [_url(f"{base}/")]
    urls += [
        _url(f"{base}/?category={slug}", updated)
        for slug, updated in catalog_selectors.categories_for_sitemap()
    ]
    urls += [_url(f"{base}/pages/{page.kind}", page.updated_at) for page in selectors.content_pages()]
    return _xml(['<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', *urls, "</urlset>"])


def sitemap_products(request: HttpRequest, number: int) -> HttpResponse:
    """The products on sale, the `number`th file of them (from 1)."""
    refused = _get_only(request)
    if refused is not None:
        return refused
    if number < 1 or number > 1_000_000:
        return page_not_found(request)
    rows = catalog_selectors.products_on_sale_window(
        offset=(number - 1) * PRODUCTS_PER_SITEMAP, limit=PRODUCTS_PER_SITEMAP
    )
    if not rows and number > 1:
        return page_not_found(request)
    base = _base(request)
    urls = [_url(f"{base}/products/{slug}", updated) for slug, updated in rows]
    return _xml(['<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', *urls, "</urlset>"])


def favicon(request: HttpRequest) -> HttpResponse:
    """The shop's icon: its initial, white on its brand colour."""
    refused = _get_only(request)
    if refused is not None:
        return refused
    theme = selectors.theme_current()
    name = str(request_shop(request).name).strip()
    initial = escape(name[:1].upper() or "S")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{escape(theme.brand_color)}"/>'
        '<text x="32" y="44" font-family="system-ui, sans-serif" font-size="36" font-weight="700" '
        f'text-anchor="middle" fill="#ffffff">{initial}</text></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response

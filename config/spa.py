"""
The built single-page apps (frontend/dist): the storefront on shop hosts, the
merchant admin at /app/ on the platform host. Each client-side route gets its
app's index.html, never cached (a deploy must reach browsers at once); the
hashed assets it names are static files, cached for good (see settings).

The storefront's HTML is written per route (storefront.head): its own title,
description, canonical URL, Open Graph and JSON-LD, and the first screen's API
answers embedded, fetched here in-process from the same views the SPA calls
(the catalog's one-statement renderings), so the page paints without waiting
for the API. Unknown products, pages and routes answer 404 with the same page,
which the SPA shows as "not found".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.html import escape

from catalog.api.storefront import (
    StorefrontCategoriesView,
    StorefrontProductDetailView,
    StorefrontProductListView,
)
from catalog.storefront import head as heads
from catalog.storefront import selectors as theme_selectors
from catalog.storefront.api.serializers import ThemeOutput, theme_hero
from catalog.storefront.models import ContentPage
from tenants.api.serializers import StorefrontShopOutput
from tenants.conventions.problems import prefers_html, problem_response
from tenants.http import request_shop
from tenants.storage import object_url

# The product list's parameters a storefront URL may carry (the rest are the SPA's own).
LIST_PARAMETERS = ("q", "category", "min_price", "max_price", "in_stock", "ordering")


@functools.lru_cache(maxsize=4)
def _built_html(app: str, mtime_ns: int) -> str:
    return (settings.SPA_DIST_DIR / app / "index.html").read_text(encoding="utf-8")


def _read_index(app: str) -> str | None:
    path = settings.SPA_DIST_DIR / app / "index.html"
    try:
        return _built_html(app, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None


def _not_built() -> HttpResponse:
    return problem_response(
        503,
        title="Frontend not built",
        detail="Build the SPA first: `make run` does, or `npm ci && npm run build` in frontend/.",
        code="frontend_not_built",
    )


def _html_response(html: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _only_get(request: HttpRequest) -> HttpResponse | None:
    if request.method not in ("GET", "HEAD"):
        return problem_response(405, detail="Pages answer GET and HEAD only.", headers={"Allow": "GET, HEAD"})
    return None


def admin(request: HttpRequest, path: str = "") -> HttpResponse:
    """Serve the merchant admin for any of its routes under /app/ (platform host)."""
    refused = _only_get(request)
    if refused is not None:
        return refused
    html = _read_index("admin")
    return _not_built() if html is None else _html_response(html)


# --- the storefront ------------------------------------------------------------------


def _view(view_class: Any) -> Callable[..., HttpResponse]:
    return view_class.as_view()


_PRODUCTS = _view(StorefrontProductListView)
_PRODUCT = _view(StorefrontProductDetailView)
_CATEGORIES = _view(StorefrontCategoriesView)


def _api_answer(
    request: HttpRequest, view: Callable[..., HttpResponse], query: str = "", **kwargs: Any
) -> Any:
    """The JSON a storefront API view answers this shop, called in-process; None unless it is a 200."""
    inner = HttpRequest()
    inner.method = "GET"
    inner.META = {**request.META, "QUERY_STRING": query, "HTTP_ACCEPT": "application/json"}
    inner.META.pop("HTTP_IF_NONE_MATCH", None)
    inner.GET = QueryDict(query)
    inner.path = inner.path_info = request.path
    inner.tenant = request.tenant  # type: ignore[attr-defined]
    inner.urlconf = getattr(request, "urlconf", None)  # type: ignore[attr-defined]
    response = view(inner, **kwargs)
    if response.status_code != 200:
        return None
    render = getattr(response, "render", None)
    if render is not None:
        render()
    return json.loads(response.content)


def _base(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def storefront(request: HttpRequest, path: str = "") -> HttpResponse:
    """Serve the storefront for any of its routes (shop hosts), with the route's head and first data."""
    refused = _only_get(request)
    if refused is not None:
        return refused
    html = _read_index("storefront")
    if html is None:
        return _not_built()
    shop = request_shop(request)
    base = _base(request)
    theme = theme_selectors.theme_current()
    pages = theme_selectors.content_pages()
    data: dict[str, Any] = {
        "shop": StorefrontShopOutput(shop).data,
        "theme": ThemeOutput(theme, context={"pages": pages}).data,
    }
    name = str(shop.name)
    route = "/" + path
    if route == "/":
        head = _home(request, base=base, name=name, theme=theme, data=data)
    elif route.startswith("/products/") and route.count("/") == 2:
        head = _product(request, base=base, name=name, slug=route.removeprefix("/products/"), data=data)
    elif route.startswith("/pages/") and route.count("/") == 2:
        head = _content_page(base=base, name=name, kind=route.removeprefix("/pages/"), pages=pages, data=data)
    elif route.rstrip("/") == "/cart":
        head = heads.plain_head(shop_name=name, base=base, path="/cart", title="Your cart", index=True)
    elif route.startswith(heads.PRIVATE_PREFIXES):
        titles = {"/checkout": "Checkout", "/account": "Your account"}
        title = next((text for prefix, text in titles.items() if route.startswith(prefix)), "Your order")
        head = heads.plain_head(shop_name=name, base=base, path=route, title=title)
    else:
        head = heads.plain_head(shop_name=name, base=base, path=route, title="Page not found", status=404)
    if head.status == 404 and not prefers_html(request):  # an API client: the problem, not a page
        return problem_response(404, detail=f"Nothing lives at {request.path!r} on this host.")
    block = heads.head_html(head, shop_name=name, theme=theme, data=data)
    page = html.replace("<title>Shop</title>", block, 1)
    if head.status == 404:
        page = page.replace(
            "<noscript>This shop needs JavaScript.</noscript>",
            f'<noscript><h1>Not found</h1><p><a href="/">Go to {escape(name)}</a></p></noscript>',
            1,
        )
    return _html_response(page, status=head.status)


def _home(request: HttpRequest, *, base: str, name: str, theme: Any, data: dict[str, Any]) -> heads.Head:
    pairs = [(key, request.GET[key]) for key in LIST_PARAMETERS if request.GET.get(key)]
    query = urlencode(pairs)
    categories = _api_answer(request, _CATEGORIES)
    page = _api_answer(request, _PRODUCTS, query)
    if categories is not None:
        data["categories"] = categories
    if page is not None:
        data["products"] = {"query": query, "page": page}
    slug = request.GET.get("category")
    if request.GET.get("q"):
        return heads.plain_head(shop_name=name, base=base, path="/", title=f"Search: {request.GET['q'][:80]}")
    if slug:
        category = _find_category(categories or [], slug)
        if category is None:
            return heads.plain_head(
                shop_name=name, base=base, path="/", title="Category not found", status=404
            )
        total = page["facets"]["total"] if page is not None else None
        return heads.category_head(shop_name=name, base=base, category=category, total=total)
    hero = theme_hero(theme)["image"]
    return heads.home_head(
        shop_name=name,
        base=base,
        theme=theme,
        logo=heads.absolute(base, object_url(theme.logo_key)) if theme.logo_key else None,
        hero=heads.absolute(base, hero[-1]["url"]) if hero else None,
    )


def _find_category(tree: list[dict[str, Any]], slug: str) -> dict[str, Any] | None:
    for node in tree:
        if node.get("slug") == slug:
            return node
        found = _find_category(node.get("children") or [], slug)
        if found is not None:
            return found
    return None


def _product(request: HttpRequest, *, base: str, name: str, slug: str, data: dict[str, Any]) -> heads.Head:
    product = _api_answer(request, _PRODUCT, slug=slug) if slug else None
    if product is None:
        return heads.plain_head(
            shop_name=name, base=base, path=request.path, title="Product not found", status=404
        )
    data["product"] = product
    return heads.product_head(shop_name=name, base=base, product=product)


def _content_page(
    *, base: str, name: str, kind: str, pages: list[ContentPage], data: dict[str, Any]
) -> heads.Head:
    page = next((page for page in pages if page.kind == kind), None)
    if page is None:
        return heads.plain_head(
            shop_name=name, base=base, path=f"/pages/{kind}", title="Page not found", status=404
        )
    data["page"] = {
        "kind": page.kind,
        "title": page.title,
        "body": page.body,
        "updated_at": page.updated_at.isoformat(),
    }
    return heads.content_page_head(shop_name=name, base=base, page=page)

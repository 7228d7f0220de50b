"""Answer cached storefront GETs before the rest of the middleware and DRF run."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.http import parse_etags

from catalog.cache import (
    body_etag,
    request_cache_key,
    storefront_cache_forget,
    storefront_cache_get,
    storefront_cache_set,
)
from tenants.http import request_shop
from tenants.request_trip import request_trip

CACHEABLE = "storefront_cacheable"

# Given the request, the canonical query string of the parameters its view uses, or None
# when they are bad (the view then answers the 400 itself).
CacheQuery = Callable[[HttpRequest], str | None]


def _no_query(request: HttpRequest) -> str:
    return ""


def storefront_cacheable(
    view: Callable[..., HttpResponse], *, tag: str | Callable[..., str], query: CacheQuery = _no_query
) -> Callable[..., HttpResponse]:
    """
    Mark an anonymous storefront GET view whose 200 answers may be cached per shop.
    `tag` names the part of the catalog its answers show (catalog.cache.LISTS, ...),
    or makes it from the URL's arguments (product_tag(slug)): a change invalidates
    the answers of the tags it touches. `query` gives the part of the cache key that
    comes from the query string, built from the same parsed parameters the view runs
    with; by default a view reads no parameters, and none change its key.
    """
    setattr(view, CACHEABLE, (tag, query))
    return view


@functools.lru_cache(maxsize=4096)
def _cacheable(urlconf: str | None, path_info: str) -> tuple[str, CacheQuery] | None:
    """
    The path's view's tag and query key, or None when it is not cacheable. Resolving
    the path was a visible share of a cached answer's CPU; URLconfs never change while the
    process runs, so each path is resolved once (the most recent 4,096 paths are
    remembered).
    """
    try:
        match = resolve(path_info, urlconf=urlconf)
    except Resolver404:
        return None
    marked = getattr(match.func, CACHEABLE, None)
    if marked is None:
        return None
    tag, query = marked
    return (tag(**match.kwargs) if callable(tag) else tag), query


class StorefrontCacheMiddleware:
    """
    Sits right after host routing. For a GET to a view marked cacheable, look the
    answer up in the shop's cache (one Redis round trip) and return it at once;
    otherwise let the request through and store a 200 answer. The lookup makes the
    request's first trip to Redis (tenants.request_trip), so whatever boarded it
    (the rate limit's count) goes in that same round trip, and a rider's refusal
    (429) is the answer. The versions of
    the shop and of the answer's tag, bumped by the changes that touch it, are part
    of the key; an older body is served only while another request renders the
    current one, and marked so (X-Cache: stale, no-cache).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET" or not request.path.startswith("/api/storefront/"):
            return self.get_response(request)
        cacheable = _cacheable(getattr(request, "urlconf", None), request.path_info)
        if cacheable is None:
            return self.get_response(request)
        tag, cache_query = cacheable
        query = cache_query(request)
        if query is None:
            return self.get_response(request)  # the view answers with the 400 problem
        request_key = request_cache_key(request.path, query, currency=request_shop(request).currency)
        trip = request_trip(request)
        found = storefront_cache_get(request_key, tag=tag, trip=trip)
        refused = trip.refusal()  # by a rider of the trip (a spent rate limit)
        if refused is not None:
            return refused
        if found.body is not None:
            return _answer(request, found.body, found.etag, "stale" if found.stale else "hit")
        response = self.get_response(request)
        if response.status_code != 200 or response.streaming:
            if found.refreshing:
                storefront_cache_forget(request_key)
            response["X-Cache"] = "miss"
            return response
        body = response.content
        etag = body_etag(body)
        storefront_cache_set(request_key, found.version, body, etag)
        return _answer(request, body, etag, "miss", response)


def _answer(
    request: HttpRequest, body: bytes, etag: str, cache: str, rendered: HttpResponse | None = None
) -> HttpResponse:
    """
    A storefront answer any cache may keep: a strong ETag (the body's hash), and
    `Cache-Control` letting shared caches (a CDN, the docker/ edge) serve it for
    STOREFRONT_SHARED_MAX_AGE seconds and a while longer while they refresh it;
    browsers revalidate every time. `If-None-Match` with that tag gets a 304.
    """
    # A stale answer (served while another request renders the current one) is for
    # this request only: no shared cache may keep it.
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache" if cache == "stale" else _cache_control(),
        "X-Cache": cache,
    }
    if _not_modified(request, etag):
        return HttpResponseNotModified(headers=headers)
    if rendered is None:
        # With its length given, gunicorn sends the body as it is, not in chunks: a write
        # and the chunk framing less per answer.
        headers["Content-Length"] = str(len(body))
        return HttpResponse(body, content_type="application/json", headers=headers)
    for name, value in headers.items():
        rendered[name] = value
    return rendered


def _cache_control() -> str:
    return (
        f"public, max-age=0, s-maxage={settings.STOREFRONT_SHARED_MAX_AGE}, "
        f"stale-while-revalidate={settings.STOREFRONT_STALE_WHILE_REVALIDATE}"
    )


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    # RFC 9110: If-None-Match compares weakly, so W/"x" matches "x"; * matches any.
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in parse_etags(header))

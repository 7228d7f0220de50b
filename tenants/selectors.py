"""Reads of the public schema that the API, the middleware and workers need."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.db.models import QuerySet

from tenants.errors import ResourceNotFound, ShopNotFound
from tenants.models import ApiKey, Domain, Membership, Shop, User

# Host → shop answers are kept per process for a few seconds: at 1,000 requests/s
# a database round trip per request for the same few rows is pure waste. The
# cache is bounded (LRU), so a process that sees 10,000 shops stays small.
HOST_CACHE_SECONDS = float(getattr(settings, "SHOP_HOST_CACHE_SECONDS", 5.0))
# Unknown hosts are remembered briefly too (a flood of random hosts should not
# become a flood of queries), but not so long that a new shop waits to appear.
UNKNOWN_HOST_CACHE_SECONDS = 1.0
HOST_CACHE_SIZE = int(getattr(settings, "SHOP_HOST_CACHE_SIZE", 4096))

_host_cache: OrderedDict[str, tuple[float, Shop | None]] = OrderedDict()
_host_cache_lock = threading.Lock()


def shop_for_host(hostname: str) -> Shop | None:
    """Return the shop a hostname routes to, or None for an unknown host."""
    now = time.monotonic()
    with _host_cache_lock:
        hit = _host_cache.get(hostname)
        if hit is not None and hit[0] > now:
            _host_cache.move_to_end(hostname)
            return hit[1]
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    shop = domain.tenant if domain is not None else None
    with _host_cache_lock:
        ttl = HOST_CACHE_SECONDS if shop is not None else UNKNOWN_HOST_CACHE_SECONDS
        _host_cache[hostname] = (now + ttl, shop)
        _host_cache.move_to_end(hostname)
        while len(_host_cache) > HOST_CACHE_SIZE:
            _host_cache.popitem(last=False)
    return shop


def host_cache_forget(hostname: str) -> None:
    """Forget one cached host lookup in this process (a domain was added or removed)."""
    with _host_cache_lock:
        _host_cache.pop(hostname, None)


def host_cache_clear() -> None:
    """Forget cached host lookups in this process (after a domain or shop change)."""
    with _host_cache_lock:
        _host_cache.clear()


def shops_for_user(*, user: User) -> QuerySet[Shop]:
    return Shop.objects.filter(memberships__user=user).order_by("id")


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("shop").order_by("shop_id")


def primary_domains(shop_ids: list[int]) -> dict[int, str]:
    """Return {shop id: primary hostname} for the given shops in one query."""
    rows = Domain.objects.filter(tenant_id__in=shop_ids, is_primary=True).values_list("tenant_id", "domain")
    return dict(rows)


def access_shop_by_slug_for_member(*, user: User, slug: str) -> tuple[Shop, Membership]:
    """Return a shop the user is a member of, with the membership; 404 otherwise (no existence leak)."""
    membership = Membership.objects.select_related("shop").filter(user=user, shop__slug=slug).first()
    if membership is None:
        raise ShopNotFound(f"You have no shop with the slug {slug!r}.")
    return membership.shop, membership


def api_keys_for_shop(*, shop: Shop) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(shop=shop).order_by("-id")


def access_api_key_by_id(*, shop: Shop, api_key_id: int) -> ApiKey:
    api_key = ApiKey.objects.filter(shop=shop, pk=api_key_id).first()
    if api_key is None:
        raise ResourceNotFound("No API key with that id in this shop.")
    return api_key


def members_of_shop(*, shop: Shop) -> QuerySet[Membership]:
    return Membership.objects.filter(shop=shop).select_related("user").order_by("id")


def access_membership_by_id(*, shop: Shop, member_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(shop=shop, pk=member_id).first()
    if membership is None:
        raise ResourceNotFound("No member with that id in this shop.")
    return membership

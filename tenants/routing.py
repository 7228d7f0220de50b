"""
Host → shop, as the routing middleware (tenants.middleware.ShopRoutingMiddleware)
asks it on every request: answered from a cache kept in each process and
forgotten in all of them (tenants.process_cache) by the services that change a
shop or a domain, on commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from tenants.models import Domain, Shop
from tenants.process_cache import ProcessCache

# An LRU, so a process that sees 10,000 shops stays small.
_host_cache: ProcessCache[str, Shop | None] = ProcessCache(
    "hosts", seconds=settings.SHOP_HOST_CACHE_SECONDS, size=settings.SHOP_HOST_CACHE_SIZE
)
# Unknown hosts are remembered briefly too (a flood of random hosts should not
# become a flood of queries), but not so long that a new shop waits to appear.
UNKNOWN_HOST_CACHE_SECONDS = 1.0


def shop_for_host(hostname: str) -> Shop | None:
    """Return the shop a hostname routes to, or None for an unknown host."""
    found, shop = _host_cache.get(hostname)
    if found:
        return shop
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    shop = domain.tenant if domain is not None else None
    _host_cache.put(hostname, shop, seconds=None if shop is not None else UNKNOWN_HOST_CACHE_SECONDS)
    return shop


def host_cache_forget(hostname: str) -> None:
    """Forget a cached host lookup in every process (a domain or its shop changed); call on commit."""
    hosts_forget([hostname])


def hosts_forget(hostnames: Iterable[str]) -> None:
    """Forget cached host lookups here at once, and in every other process through Redis."""
    _host_cache.forget(hostnames)


def shop_hosts_forget(shop: Shop) -> None:
    """Forget the cached lookups of all of a shop's hostnames, in every process."""
    hosts_forget(Domain.objects.filter(tenant_id=shop.pk).values_list("domain", flat=True))


def host_cache_clear() -> None:
    """Forget all cached host lookups in this process."""
    _host_cache.clear_here()


def host_cache_clear_everywhere() -> None:
    """Forget all cached host lookups in every process (shops were restored or moved in bulk)."""
    _host_cache.clear()

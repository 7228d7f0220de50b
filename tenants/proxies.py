"""
What the proxies in front of the app may tell it, and the one answer to "who is
the client": every rate limiter, the request log and the metrics allow-list ask
`client_address`.

Headers that say where a request came from (`X-Forwarded-For`) or how it arrived
(`X-Forwarded-Proto`) are whatever the client wrote unless a proxy we run
overwrote or appended them. So they count only when `NUM_PROXIES` says how many
proxies stand in front (the edge in docker/compose.yaml sets 1): the client
address is then the entry that many hops from the right of `X-Forwarded-For`
(each proxy appends the address it saw), and `X-Forwarded-Proto` says the scheme
(Django's SECURE_PROXY_SSL_HEADER, set in config/settings.py only then).
Without it, the socket's peer is the client and the scheme is the connection's.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

_ATTRIBUTE = "_storefleet_client_address"
# A client on IPv6 usually holds a whole /64 and picks addresses in it at will; a
# budget per single address would be one budget per request.
IPV6_LIMIT_PREFIX = 64


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the socket's peer, or the trusted proxies' word for it (NUM_PROXIES)."""
    known = getattr(request, _ATTRIBUTE, None)
    if known is not None:
        return str(known)
    peer = request.META.get("REMOTE_ADDR", "")
    address = _address(peer) or peer
    hops = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        entries = forwarded.split(",")
        # Each trusted proxy appended the address it saw; anything further left is the client's to write.
        address = _address(entries[-min(hops, len(entries))]) or address
    setattr(request, _ATTRIBUTE, address)
    return address


def rate_limit_subject(address: str) -> str:
    """The key a per-client budget is counted under: the address, or its /64 for IPv6."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_LIMIT_PREFIX}", strict=False))
    return str(parsed)

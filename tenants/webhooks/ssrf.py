"""
Keep webhooks from reaching inside our network (server-side request forgery).

A merchant chooses the URL we POST to, so without a check they could make our
workers call the database, Redis, the cloud metadata service (169.254.169.254)
or anything else only the platform can reach. Two checks:

- when an endpoint is created or its URL changed, the URL must be http(s), name
  its host plainly (no user info), and every address the host resolves to must
  be public; a name that does not resolve yet is accepted (the send-time check
  still applies);
- when a delivery is sent, the connection resolves the host once, checks every
  address again and connects only to an address it checked, so a DNS answer
  that changed since (DNS rebinding) cannot slip through.

Loopback and private addresses are allowed only when `WEBHOOK_ALLOW_PRIVATE_URLS`
is on (its default under `make run`, so a receiver on localhost works). The
product import's image downloads (catalog.image_fetch) connect through the same
guard with their own switch, `IMAGE_IMPORT_ALLOW_PRIVATE_URLS`.
Link-local (cloud metadata), multicast, unspecified and other non-public
addresses are refused always.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from tenants.webhooks.errors import WebhookUrlRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2000
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(Exception):
    """A host resolved to an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    """Where a webhook URL points: what the connection needs."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def url_parse(url: str) -> Target:
    """Check a URL's form (not its addresses); return its target or raise WebhookUrlRefused."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"Give a URL of 1 to {MAX_URL_LENGTH} characters.")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise WebhookUrlRefused(
            "The URL must be ASCII without spaces (percent-encode the path, punycode the host)."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("Not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise WebhookUrlRefused("Only http:// and https:// URLs are accepted.")
    if "@" in parts.netloc:
        raise WebhookUrlRefused("The URL must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookUrlRefused("The URL has no host.")
    if port == 0:
        raise WebhookUrlRefused("Not a valid port.")
    if _ip(host) is None:
        labels = host.split(".")
        if len(host) > 253 or not all(HOST_LABEL.match(label) for label in labels) or "[" in parts.netloc:
            raise WebhookUrlRefused("Not a valid host name.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], path=path)


def url_check(url: str) -> Target:
    """Refuse (WebhookUrlRefused) a URL that is malformed or whose host resolves to a forbidden address."""
    target = url_parse(url)
    if not private_urls_allowed() and (target.host == "localhost" or target.host.endswith(".localhost")):
        raise WebhookUrlRefused("Webhook URLs must not point at localhost.")
    try:
        addresses_vetted(target.host, target.port)
    except AddressRefused as refused:
        raise WebhookUrlRefused(str(refused)) from None
    except (OSError, UnicodeError, ValueError):
        pass  # does not resolve (yet): every send resolves and checks again
    return target


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Say why webhooks may not reach `address`, or None if they may."""
    address = _embedded_ipv4(address)
    if address.is_unspecified or address.is_multicast:
        return "an unspecified or multicast address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return None if allow_private else "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved, non-public address"
    return None


def addresses_vetted(host: str, port: int, *, allow_private: bool | None = None) -> list[tuple[Any, ...]]:
    """
    Resolve `host` and return its addresses (getaddrinfo tuples) if webhooks may
    reach every one; raise AddressRefused if any is forbidden, OSError if it
    does not resolve. `allow_private`: None for the webhooks' setting.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = private_urls_allowed() if allow_private is None else allow_private
    for info in infos:
        text = str(info[4][0])
        address = _ip(text)
        reason = "no valid address" if address is None else address_refusal(address, allow_private=allowed)
        if reason is not None:
            raise AddressRefused(f"{host} resolves to {reason} ({text}), which may not be reached from here.")
    if not infos:
        raise OSError(f"{host} has no addresses.")
    return infos


def connection_open(
    host: str, port: int, timeout: float | None, *, allow_private: bool | None = None
) -> socket.socket:
    """Connect to `host` through an address that was checked in this very call (no rebinding)."""
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in addresses_vetted(host, port, allow_private=allow_private):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        return sock
    raise last_error or OSError(f"Could not connect to {host}.")


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), else the address itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address

"""Reads of the storefront's theme and content pages."""

from __future__ import annotations

from catalog.storefront.errors import PageNotFound
from catalog.storefront.models import ContentPage, Theme

# Widths the hero image is stored at (WebP), for the storefront's srcset.
HERO_WIDTHS = (640, 1280, 1920)


def theme_current() -> Theme:
    """The shop's theme, or the defaults (unsaved) until the merchant saves one."""
    return Theme.objects.filter(pk=1).first() or Theme(pk=1)


def content_pages() -> list[ContentPage]:
    """The shop's content pages, in the order of ContentPage.Kind."""
    order = {kind: index for index, kind in enumerate(ContentPage.Kind.values)}
    return sorted(ContentPage.objects.all(), key=lambda page: order.get(page.kind, len(order)))


def access_content_page_by_kind(*, kind: str) -> ContentPage:
    page = ContentPage.objects.filter(kind=kind).first()
    if page is None:
        raise PageNotFound(f"The shop has no {kind!r} page.")
    return page


def hero_image_keys(stem: str) -> dict[int, str]:
    """The stored keys of a hero image, by width."""
    return {width: f"{stem}-{width}.webp" for width in HERO_WIDTHS} if stem else {}

"""
Writes of the storefront's theme and content pages: keyword-only, one
transaction each, with their audit entry. Theme images are checked and
re-encoded (WebP) before they are stored; replaced files are deleted after commit.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import transaction

from catalog.errors import ImageRefused
from catalog.images import thumbnail_render
from catalog.storefront.errors import ThemeImageRefused, ThemeInvalid
from catalog.storefront.models import ContentPage, Theme
from catalog.storefront.selectors import hero_image_keys
from tenants import storage
from tenants.audit.services import Actor, audit_record
from tenants.keys import storage_key

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2.1 AA for normal text: the brand colour carries white button text and shows
# as link text on white; the accent colour carries the announcement bar's white text.
MIN_CONTRAST = 4.5
THEME_TEXT_FIELDS = ("hero_title", "hero_text", "announcement", "payment_instructions")
THEME_FIELDS = ("brand_color", "accent_color", "font", *THEME_TEXT_FIELDS)
LOGO_BOX = (600, 240)  # shown at most 300 × 120 CSS pixels, sharp on 2× screens
IMAGE_SLOTS = ("logo", "hero")


def _luminance(color: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_snapshot(theme: Theme) -> dict[str, Any]:
    return {name: getattr(theme, name) for name in (*THEME_FIELDS, "logo_key", "hero_image_key")}


def _theme_locked() -> Theme:
    Theme.objects.get_or_create(pk=1)
    return Theme.objects.select_for_update().get(pk=1)


def theme_update(*, actor: Actor, **changes: Any) -> Theme:
    """Change the theme's colours, font and words; refuse colours that text on them could not be read on."""
    unknown = set(changes) - set(THEME_FIELDS)
    if unknown:
        raise ThemeInvalid(f"Unknown theme fields: {', '.join(sorted(unknown))}.")
    errors: dict[str, list[str]] = {}
    for name in ("brand_color", "accent_color"):
        color = changes.get(name)
        if color is None:
            continue
        if not isinstance(color, str) or not HEX_COLOR.match(color):
            errors[name] = ["Use a colour as #rrggbb, e.g. #1f5fbf."]
        elif contrast_ratio(color, "#ffffff") < MIN_CONTRAST:
            errors[name] = [
                f"Too light: white text on it (and it as text on white) has a contrast of "
                f"{contrast_ratio(color, '#ffffff'):.1f}:1; pick a darker colour (at least {MIN_CONTRAST}:1)."
            ]
    if errors:
        raise ThemeInvalid("Some colours cannot be used.", errors=errors)
    with transaction.atomic():
        theme = _theme_locked()
        before = theme_snapshot(theme)
        for name, value in changes.items():
            setattr(theme, name, value.lower() if name.endswith("_color") else value)
        theme.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="theme.updated",
            object_type="theme",
            object_id=1,
            before=before,
            after=theme_snapshot(theme),
        )
    return theme


def _image_variants(slot: str, data: bytes) -> dict[str, bytes]:
    """The files a theme image is stored as, by key; ThemeImageRefused unless `data` is an accepted image."""
    stem = storage_key("theme", f"{slot}-{uuid.uuid4().hex}")
    try:
        if slot == "logo":
            return {f"{stem}.webp": thumbnail_render(data, box=LOGO_BOX)}
        return {
            key: thumbnail_render(data, box=(width, width)) for width, key in hero_image_keys(stem).items()
        }
    except ImageRefused as exc:
        raise ThemeImageRefused(exc.detail) from None


def _slot_keys(theme: Theme, slot: str) -> list[str]:
    if slot == "logo":
        return [theme.logo_key] if theme.logo_key else []
    return list(hero_image_keys(theme.hero_image_key).values())


def theme_image_set(*, actor: Actor, slot: str, data: bytes) -> Theme:
    """Store the logo or the hero image (as WebP; the hero at HERO_WIDTHS) in place of the old one."""
    if slot not in IMAGE_SLOTS:
        raise ThemeInvalid(f"No theme image {slot!r}; use one of {', '.join(IMAGE_SLOTS)}.")
    files = _image_variants(slot, data)
    for key, body in files.items():
        storage.object_write(key, body, content_type="image/webp")
    try:
        with transaction.atomic():
            theme = _theme_locked()
            before = theme_snapshot(theme)
            old = _slot_keys(theme, slot)
            if slot == "logo":
                theme.logo_key = next(iter(files))
                theme.save(update_fields=["logo_key", "updated_at"])
            else:
                theme.hero_image_key = next(iter(files)).rsplit("-", 1)[0]
                theme.save(update_fields=["hero_image_key", "updated_at"])
            audit_record(
                actor=actor,
                action="theme.image_set",
                object_type="theme",
                object_id=1,
                before=before,
                after=theme_snapshot(theme),
            )
            storage.objects_delete_on_commit(old)
    except BaseException:
        storage.objects_delete(files)  # written, never referenced
        raise
    return theme


def theme_image_remove(*, actor: Actor, slot: str) -> Theme:
    """Take the logo or the hero image off the storefront (and out of storage, after commit)."""
    if slot not in IMAGE_SLOTS:
        raise ThemeInvalid(f"No theme image {slot!r}; use one of {', '.join(IMAGE_SLOTS)}.")
    with transaction.atomic():
        theme = _theme_locked()
        before = theme_snapshot(theme)
        old = _slot_keys(theme, slot)
        field = "logo_key" if slot == "logo" else "hero_image_key"
        setattr(theme, field, "")
        theme.save(update_fields=[field, "updated_at"])
        audit_record(
            actor=actor,
            action="theme.image_removed",
            object_type="theme",
            object_id=1,
            before=before,
            after=theme_snapshot(theme),
        )
        storage.objects_delete_on_commit(old)
    return theme


def content_page_save(*, actor: Actor, kind: str, title: str, body: str) -> ContentPage:
    """Write (create or replace) the shop's page of this kind."""
    if kind not in ContentPage.Kind.values:
        raise ThemeInvalid(f"No page kind {kind!r}; use one of {', '.join(ContentPage.Kind.values)}.")
    with transaction.atomic():
        page = ContentPage.objects.select_for_update().filter(kind=kind).first()
        before = None if page is None else {"title": page.title, "body": page.body}
        if page is None:
            page = ContentPage(kind=kind)
        page.title = title
        page.body = body
        page.save()
        audit_record(
            actor=actor,
            action="content_page.saved",
            object_type="content_page",
            object_id=page.pk,
            before=before,
            after={"kind": kind, "title": title, "body": body},
        )
    return page


def content_page_delete(*, actor: Actor, page: ContentPage) -> None:
    """Take a page off the storefront."""
    with transaction.atomic():
        deleted, _ = ContentPage.objects.filter(pk=page.pk).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="content_page.deleted",
                object_type="content_page",
                object_id=page.pk,
                before={"kind": page.kind, "title": page.title, "body": page.body},
            )

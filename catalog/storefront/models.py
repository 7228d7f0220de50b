"""
What a merchant makes of the storefront without code: the theme (logo, colours,
font, hero, announcement bar) and the content pages (about, shipping, returns,
privacy, terms, contact). Shop schema; one theme row per shop.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Theme(models.Model):
    """The shop's look; the row with id 1 (a shop has one; until saved, the defaults show)."""

    class Font(models.TextChoices):
        # System font stacks only: nothing to download, so no flash of other text and no
        # third-party request from a shopper's browser.
        SYSTEM = "system", "System sans-serif"
        HUMANIST = "humanist", "Humanist sans-serif"
        GEOMETRIC = "geometric", "Geometric sans-serif"
        SERIF = "serif", "Classic serif"
        SLAB = "slab", "Slab serif"

    brand_color = models.CharField(max_length=7, default="#1f5fbf")
    accent_color = models.CharField(max_length=7, default="#1d2330")
    font = models.CharField(max_length=16, choices=Font.choices, default=Font.SYSTEM)
    logo_key = models.CharField(max_length=255, blank=True, default="")
    hero_image_key = models.CharField(max_length=255, blank=True, default="")
    hero_title = models.CharField(max_length=120, blank=True, default="")
    hero_text = models.CharField(max_length=500, blank=True, default="")
    announcement = models.CharField(max_length=200, blank=True, default="")
    payment_instructions = models.TextField(max_length=1000, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="theme_one_per_shop")]

    def __str__(self) -> str:
        return f"theme ({self.brand_color}, {self.font})"


class ContentPage(models.Model):
    """A page of the shop's own words, at /pages/{kind} on the storefront."""

    class Kind(models.TextChoices):
        ABOUT = "about", "About us"
        SHIPPING = "shipping", "Shipping"
        RETURNS = "returns", "Returns"
        PRIVACY = "privacy", "Privacy policy"
        TERMS = "terms", "Terms of service"
        CONTACT = "contact", "Contact"

    kind = models.CharField(max_length=16, choices=Kind.choices, unique=True)
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=20000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.kind

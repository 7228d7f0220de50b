"""Small input and output serializers of the theme and content pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.storefront.models import ContentPage, Theme
from catalog.storefront.selectors import hero_image_keys
from tenants.conventions.fields import StrictCharField
from tenants.storage import object_url


class ThemeInput(serializers.Serializer):
    brand_color = StrictCharField(
        required=False,
        max_length=7,
        help_text="Buttons and links, as #rrggbb; white text on it must read (4.5:1).",
    )
    accent_color = StrictCharField(
        required=False,
        max_length=7,
        help_text="The announcement bar and the footer, as #rrggbb (4.5:1 with white).",
    )
    font = serializers.ChoiceField(choices=Theme.Font.choices, required=False)
    hero_title = StrictCharField(required=False, allow_blank=True, max_length=120)
    hero_text = StrictCharField(required=False, allow_blank=True, max_length=500)
    announcement = StrictCharField(
        required=False, allow_blank=True, max_length=200, help_text="A line above every page; empty for none."
    )
    payment_instructions = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Bank details and how to pay, shown on the confirmation of orders paid later.",
    )


class ImageSizeOutput(serializers.Serializer):
    width = serializers.IntegerField()
    url = serializers.CharField()


class HeroOutput(serializers.Serializer):
    title = serializers.CharField()
    text = serializers.CharField()
    image = ImageSizeOutput(
        many=True, help_text="The hero image at several widths (for srcset); empty for none."
    )


class PageLinkOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContentPage.Kind.choices)
    title = serializers.CharField()


class ThemeOutput(serializers.Serializer):
    """The theme as the storefront draws it (and the admin edits it)."""

    brand_color = serializers.CharField()
    accent_color = serializers.CharField()
    font = serializers.ChoiceField(choices=Theme.Font.choices)
    logo_url = serializers.SerializerMethodField()
    hero = serializers.SerializerMethodField()
    announcement = serializers.CharField()
    payment_instructions = serializers.CharField()
    pages = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_logo_url(self, theme: Theme) -> str | None:
        return object_url(theme.logo_key) if theme.logo_key else None

    @extend_schema_field(HeroOutput)
    def get_hero(self, theme: Theme) -> dict[str, Any]:
        return theme_hero(theme)

    @extend_schema_field(PageLinkOutput(many=True))
    def get_pages(self, theme: Theme) -> list[dict[str, str]]:
        return [{"kind": page.kind, "title": page.title} for page in self.context.get("pages", [])]


def theme_hero(theme: Theme) -> dict[str, Any]:
    return {
        "title": theme.hero_title,
        "text": theme.hero_text,
        "image": [
            {"width": width, "url": object_url(key)}
            for width, key in hero_image_keys(theme.hero_image_key).items()
        ],
    }


class ContentPageInput(serializers.Serializer):
    title = StrictCharField(max_length=120)
    body = StrictCharField(
        max_length=20000,
        help_text="Plain text; blank lines separate paragraphs (no HTML: it is shown as written).",
    )


class ContentPageOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContentPage.Kind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    updated_at = serializers.DateTimeField()

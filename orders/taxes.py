"""
The shop's tax settings: read as the built-in table provider (`pricing.TaxTable`)
and written by the merchant (one row, one transaction with its audit entry).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from orders.models import TaxSettings
from orders.pricing import CategoryRate, CountryRate, TaxTable, rate_text
from tenants.audit.services import Actor, audit_record


def tax_settings() -> TaxSettings:
    """The shop's saved settings, or the defaults (no tax) until it has some."""
    saved = TaxSettings.objects.filter(pk=TaxSettings.SINGLETON_ID).first()
    return saved or TaxSettings(pk=TaxSettings.SINGLETON_ID)


def tax_settings_json(settings: TaxSettings) -> dict[str, Any]:
    return {
        "prices_include_tax": settings.prices_include_tax,
        "shipping_taxable": settings.shipping_taxable,
        "default_rate": rate_text(Decimal(settings.default_rate)),
        "rates": settings.rates,
        "category_overrides": settings.category_overrides,
    }


def tax_table(row: dict[str, Any] | None) -> TaxTable:
    """The table provider from the settings' column values (None: the defaults)."""
    if row is None:
        return TaxTable()
    return TaxTable(
        prices_include_tax=bool(row["prices_include_tax"]),
        shipping_taxable=bool(row["shipping_taxable"]),
        default_rate=Decimal(str(row["default_rate"])),
        rates=tuple(
            CountryRate(r["country"], Decimal(r["rate"]), r["name"], r.get("region") or "")
            for r in row["rates"]
        ),
        category_overrides=tuple(
            CategoryRate(int(o["category"]), o["country"], Decimal(o["rate"]), o["name"])
            for o in row["category_overrides"]
        ),
    )


def taxes_update(
    *,
    actor: Actor,
    prices_include_tax: bool,
    shipping_taxable: bool,
    default_rate: Decimal,
    rates: list[dict[str, Any]],
    category_overrides: list[dict[str, Any]],
) -> TaxSettings:
    """Replace the shop's tax settings (PUT); rates are stored as decimal strings in percent."""

    with transaction.atomic():
        current, _ = TaxSettings.objects.select_for_update().get_or_create(pk=TaxSettings.SINGLETON_ID)
        before = tax_settings_json(current)
        current.prices_include_tax = prices_include_tax
        current.shipping_taxable = shipping_taxable
        current.default_rate = default_rate
        current.rates = [
            {
                "country": r["country"],
                "region": r.get("region") or "",
                "rate": rate_text(r["rate"]),
                "name": r["name"],
            }
            for r in rates
        ]
        current.category_overrides = [
            {
                "category": o["category"],
                "country": o["country"],
                "rate": rate_text(o["rate"]),
                "name": o["name"],
            }
            for o in category_overrides
        ]
        current.save()
        after = tax_settings_json(current)
        if after != before:
            audit_record(
                actor=actor,
                action="tax_settings.updated",
                object_type="tax_settings",
                object_id=current.pk,
                before=before,
                after=after,
            )
    return current

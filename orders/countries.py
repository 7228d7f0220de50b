"""
Countries (ISO 3166-1 alpha-2) and their regions (ISO 3166-2), from pycountry:
what shipping zones, tax rates and addresses are checked against.
"""

from __future__ import annotations

import pycountry

COUNTRY_NAMES: dict[str, str] = {
    country.alpha_2: getattr(country, "common_name", country.name) for country in pycountry.countries
}
COUNTRY_CODES = sorted(COUNTRY_NAMES)


def country_valid(code: object) -> bool:
    return isinstance(code, str) and code in COUNTRY_NAMES


def region_valid(country: str, region: str) -> bool:
    """Whether `region` is one of the country's ISO 3166-2 subdivisions ("CA" of US-CA)."""
    return pycountry.subdivisions.get(code=f"{country}-{region}") is not None

"""
Countries (ISO 3166-1 alpha-2) and their regions (ISO 3166-2), from pycountry:
what shipping zones, tax rates and addresses are checked against.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import pycountry

COUNTRY_NAMES: dict[str, str] = {
    country.alpha_2: getattr(country, "common_name", country.name) for country in pycountry.countries
}
COUNTRY_CODES = sorted(COUNTRY_NAMES)


class Region(NamedTuple):
    code: str  # the part after the dash: "CA" of US-CA
    name: str
    type: str  # pycountry's word for it: "State", "Province", "Land"...


def country_valid(code: object) -> bool:
    return isinstance(code, str) and code in COUNTRY_NAMES


def region_valid(country: str, region: str) -> bool:
    """Whether `region` is one of the country's ISO 3166-2 subdivisions ("CA" of US-CA)."""
    return pycountry.subdivisions.get(code=f"{country}-{region}") is not None


@functools.cache
def country_regions(country: str) -> tuple[Region, ...]:
    """
    Every subdivision `region_valid` accepts for the country, by name: the one list
    the SPAs offer, so a region picked there is never refused here.
    """
    if not country_valid(country):
        return ()
    found = pycountry.subdivisions.get(country_code=country) or ()
    regions = (Region(sub.code.split("-", 1)[1], sub.name, sub.type) for sub in found)
    return tuple(sorted(regions, key=lambda region: (region.name.casefold(), region.code)))

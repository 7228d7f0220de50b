"""The money arithmetic of orders.pricing, on tables of cases: pure, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from orders import pricing
from orders.errors import (
    DiscountExhausted,
    DiscountExpired,
    DiscountMinSubtotal,
    DiscountNotApplicable,
    ShippingMethodUnavailable,
)
from orders.pricing import (
    Address,
    CategoryRate,
    CountryRate,
    DiscountRule,
    MethodRule,
    PricedItem,
    TaxTable,
    WeightBand,
    quote,
)

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
DE = Address("DE", postal_code="10115")
BOOKS = 7


def item(
    key: int, price: str, quantity: int = 1, *, category: int | None = None, grams: int = 0
) -> PricedItem:
    return PricedItem(key, product_id=100 + key, category_id=category, unit_price=D(price), quantity=quantity,
                      weight_grams=grams)  # fmt: skip


GERMANY = TaxTable(
    default_rate=D(0),
    rates=(CountryRate("DE", D(19), "MwSt"),),
    category_overrides=(CategoryRate(BOOKS, "DE", D(7), "MwSt ermäßigt"),),
)
STANDARD = MethodRule(1, "Standard", price=D("4.90"), countries=frozenset({"DE", "AT"}))


def totals(q: pricing.Quote) -> tuple[str, str, str, str, str]:
    return (str(q.subtotal), str(q.discount), str(q.shipping), str(q.tax), str(q.total))


@pytest.mark.parametrize(
    ("items", "taxes", "method", "discounts", "expected"),
    [
        # subtotal, discount, shipping, tax, total
        pytest.param(
            [item(1, "10.00", 2)],
            GERMANY,
            None,
            [],
            ("20.00", "0.00", "0.00", "3.80", "23.80"),
            id="exclusive",
        ),
        pytest.param(
            [item(1, "11.90", 2)],
            TaxTable(prices_include_tax=True, rates=GERMANY.rates),
            None,
            [],
            ("23.80", "0.00", "0.00", "3.80", "23.80"),
            id="inclusive: tax extracted, total unchanged",
        ),
        pytest.param(
            [item(1, "10.00"), item(2, "10.00", category=BOOKS)],
            GERMANY,
            None,
            [],
            ("20.00", "0.00", "0.00", "2.60", "22.60"),
            id="multi-rate: 19% and a reduced 7% category",
        ),
        pytest.param(
            [item(1, "0.05"), item(2, "0.05"), item(3, "0.05")],
            GERMANY,
            None,
            [],
            # 0.0095 a line rounds to 0.01
            ("0.15", "0.00", "0.00", "0.03", "0.18"),
            id="rounding per line",
        ),
        pytest.param(
            [item(1, "0.05"), item(2, "0.05"), item(3, "0.05")],
            TaxTable(default_rate=D(10)),
            None,
            [],
            # 0.005 a line rounds half-even to 0.00; rounding the sum (0.015) would give 0.02
            ("0.15", "0.00", "0.00", "0.00", "0.15"),
            id="per line, not on the sum",
        ),
        pytest.param(
            [item(1, "0.25"), item(2, "0.35")],
            TaxTable(default_rate=D(10)),
            None,
            [],
            # 0.025 -> 0.02 (half-even), 0.035 -> 0.04 (half-even): 0.06
            ("0.60", "0.00", "0.00", "0.06", "0.66"),
            id="half-even per line",
        ),
        pytest.param(
            [item(1, "50.00")],
            GERMANY,
            None,
            [DiscountRule(1, "percentage", D(10), code="TEN")],
            ("50.00", "5.00", "0.00", "8.55", "53.55"),
            id="discount before tax",
        ),
        pytest.param(
            [item(1, "30.00"), item(2, "10.00")],
            GERMANY,
            STANDARD,
            [DiscountRule(2, "fixed", D("10.00"), code="TENOFF")],
            # 10 split 7.50 / 2.50; tax on 22.50 and 7.50 (4.275 -> 4.28, 1.425 -> 1.42),
            # on shipping 4.90 -> 0.93
            ("40.00", "10.00", "4.90", "6.63", "41.53"),
            id="fixed amount shared, shipping taxed",
        ),
        pytest.param(
            [item(1, "20.00")],
            GERMANY,
            STANDARD,
            [DiscountRule(3, "free_shipping")],
            ("20.00", "4.90", "4.90", "3.80", "23.80"),
            id="automatic free shipping",
        ),
        pytest.param(
            [item(1, "60.00")],
            TaxTable(),
            MethodRule(1, "Standard", price=D("4.90"), free_over=D("50.00"), countries=frozenset({"DE"})),
            [],
            ("60.00", "0.00", "0.00", "0.00", "60.00"),
            id="free over the threshold",
        ),
        pytest.param(
            [item(1, "60.00")],
            TaxTable(),
            MethodRule(1, "Standard", price=D("4.90"), free_over=D("50.00"), countries=frozenset({"DE"})),
            [DiscountRule(4, "percentage", D(20))],
            # 48.00 after the discount is below 50: shipping is charged
            ("60.00", "12.00", "4.90", "0.00", "52.90"),
            id="threshold compares the discounted subtotal",
        ),
        pytest.param(
            [item(1, "10.00")],
            TaxTable(),
            None,
            [DiscountRule(5, "fixed", D("25.00"))],
            ("10.00", "10.00", "0.00", "0.00", "0.00"),
            id="a discount never exceeds the line",
        ),
        pytest.param(
            [item(1, "10.00"), item(2, "10.00", category=BOOKS)],
            TaxTable(),
            None,
            [DiscountRule(6, "percentage", D(50), category_ids=frozenset({BOOKS}))],
            ("20.00", "5.00", "0.00", "0.00", "15.00"),
            id="category scope",
        ),
        pytest.param(
            [item(1, "10.00")],
            TaxTable(),
            None,
            [DiscountRule(7, "percentage", D(10)), DiscountRule(8, "percentage", D(10), code="MORE")],
            # stacking: one automatic plus one code, each on the undiscounted amount
            ("10.00", "2.00", "0.00", "0.00", "8.00"),
            id="automatic plus code stack",
        ),
        pytest.param(
            [item(1, "100.00")],
            GERMANY,
            STANDARD,
            [DiscountRule(9, "percentage", D(10), min_subtotal=D("150.00"))],
            ("100.00", "0.00", "4.90", "19.93", "124.83"),
            id="below min_subtotal: not applied",
        ),
    ],
)
def test_quote_table(items, taxes, method, discounts, expected) -> None:
    q = quote(
        items=items, currency="EUR", taxes=taxes, now=NOW, address=DE, method=method, discounts=discounts
    )
    assert totals(q) == expected
    # The parts always add up to the total, and the tax lines to the tax.
    tax_added = D(0) if taxes.prices_include_tax else q.tax
    assert q.subtotal - q.discount + q.shipping + tax_added == q.total
    assert sum((line.amount for line in q.tax_lines), D(0)) == q.tax
    assert sum((d.amount for d in q.discounts), D(0)) == q.discount


def test_weight_bands_and_zone_matching() -> None:
    parcel = MethodRule(
        2,
        "Parcel",
        rate_type="weight",
        weight_bands=(WeightBand(5000, D("9.90")), WeightBand(1000, D("4.90"))),
        countries=frozenset({"GB"}),
        postal_code_prefixes=("N1", "EC"),
    )
    london = Address("GB", postal_code="n1 7aa")
    light = quote(items=[item(1, "5.00", 2, grams=400)], currency="GBP", taxes=TaxTable(), now=NOW,
                  address=london, method=parcel)  # fmt: skip
    assert light.shipping == D("4.90")
    heavy = quote(items=[item(1, "5.00", 3, grams=400)], currency="GBP", taxes=TaxTable(), now=NOW,
                  address=london, method=parcel)  # fmt: skip
    assert heavy.shipping == D("9.90")
    with pytest.raises(ShippingMethodUnavailable):  # over the last band
        quote(items=[item(1, "5.00", 20, grams=400)], currency="GBP", taxes=TaxTable(), now=NOW,
              address=london, method=parcel)  # fmt: skip
    with pytest.raises(ShippingMethodUnavailable):  # a postal code outside the prefixes
        quote(items=[item(1, "5.00")], currency="GBP", taxes=TaxTable(), now=NOW,
              address=Address("GB", postal_code="M1 1AA"), method=parcel)  # fmt: skip
    with pytest.raises(ShippingMethodUnavailable):  # another country
        quote(items=[item(1, "5.00")], currency="GBP", taxes=TaxTable(), now=NOW, address=DE, method=parcel)


def test_regional_rates_and_zero_decimal_currencies() -> None:
    us = TaxTable(
        rates=(CountryRate("US", D(0), "Sales tax"), CountryRate("US", D("7.25"), "CA sales tax", "CA"))
    )
    q = quote(items=[item(1, "19.99")], currency="USD", taxes=us, now=NOW, address=Address("US", "CA"))
    assert (q.tax, [(t.name, t.rate) for t in q.tax_lines]) == (D("1.45"), [("CA sales tax", D("7.25"))])
    assert (
        quote(items=[item(1, "19.99")], currency="USD", taxes=us, now=NOW, address=Address("US", "OR")).tax
        == 0
    )
    jp = quote(items=[item(1, "1005", 1)], currency="JPY", taxes=TaxTable(default_rate=D(10)), now=NOW)
    assert (jp.tax, jp.total) == (D("100"), D("1105"))  # 100.5 -> 100, half-even to whole yen
    kw = quote(items=[item(1, "1.2345")], currency="KWD", taxes=TaxTable(default_rate=D(5)), now=NOW)
    assert (kw.subtotal, kw.tax) == (D("1.234"), D("0.062"))


def test_fixed_shares_add_up_exactly() -> None:
    """10.00 over three equal lines: 3.34 + 3.33 + 3.33, largest remainder first."""
    q = quote(items=[item(1, "5.00"), item(2, "5.00"), item(3, "5.00")], currency="EUR", taxes=TaxTable(),
              now=NOW, discounts=[DiscountRule(1, "fixed", D("10.00"))])  # fmt: skip
    assert [line.discount for line in q.lines] == [D("3.34"), D("3.33"), D("3.33")]
    assert q.discount == D("10.00")


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (DiscountRule(1, "percentage", D(10), active=False), DiscountExpired),
        (DiscountRule(1, "percentage", D(10), starts_at=NOW + dt.timedelta(days=1)), DiscountExpired),
        (DiscountRule(1, "percentage", D(10), ends_at=NOW), DiscountExpired),
        (DiscountRule(1, "percentage", D(10), usage_limit=10, times_used=10), DiscountExhausted),
        (DiscountRule(1, "percentage", D(10), min_subtotal=D("20.01")), DiscountMinSubtotal),
        (DiscountRule(1, "percentage", D(10), product_ids=frozenset({999})), DiscountNotApplicable),
        (DiscountRule(1, "percentage", D(10), usage_limit=10, times_used=9, min_subtotal=D(20)), None),
    ],
)
def test_discount_refusals(rule: DiscountRule, error: type | None) -> None:
    refusal = pricing.discount_refusal(rule, items=[item(1, "20.00")], subtotal=D("20.00"), now=NOW)
    assert (type(refusal) if refusal else None) is error


def test_the_spa_offers_the_countries_the_api_takes() -> None:
    """frontend/src/shared/CountrySelect.tsx lists the ISO codes orders.countries (pycountry) accepts."""
    import re
    from pathlib import Path

    from orders.countries import COUNTRY_CODES

    source = (Path(__file__).parents[2] / "frontend/src/shared/CountrySelect.tsx").read_text()
    listed = re.findall(r'^  \["([A-Z]{2})", "', source, flags=re.MULTILINE)
    assert sorted(listed) == sorted(COUNTRY_CODES)

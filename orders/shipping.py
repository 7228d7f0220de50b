"""
Shipping zones and their methods: the merchant's writes (one transaction each,
with the audit entry) and the reads that turn them into `pricing.MethodRule`s.
A country belongs to one zone at most, checked under a table lock so two
merchants' tabs cannot both add it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from orders.errors import ShippingZoneOverlap
from orders.models import ShippingMethod, ShippingZone
from orders.pricing import Address, MethodRule, WeightBand, postal_normal
from tenants.audit.services import Actor, audit_record
from tenants.errors import DomainError, ResourceNotFound

UNSET: Any = object()
MAX_ZONES = 200
MAX_METHODS = 20


@dataclass(frozen=True)
class MethodSpec:
    """A method as the merchant writes it; `id` names an existing method of the zone to keep."""

    name: str
    rate_type: str = ShippingMethod.RateType.FLAT
    price: Decimal = Decimal(0)
    free_over: Decimal | None = None
    weight_bands: tuple[tuple[int, Decimal], ...] = ()
    min_days: int | None = None
    max_days: int | None = None
    pickup: bool = False
    id: int | None = None


def zones_list() -> list[ShippingZone]:
    return list(ShippingZone.objects.prefetch_related("methods").order_by("id"))


def access_zone_by_id(*, zone_id: int) -> ShippingZone:
    zone = ShippingZone.objects.prefetch_related("methods").filter(pk=zone_id).first()
    if zone is None:
        raise ResourceNotFound(f"No shipping zone {zone_id} in this shop.")
    return zone


def zone_snapshot(zone: ShippingZone) -> dict[str, Any]:
    return {
        "name": zone.name,
        "countries": list(zone.countries),
        "postal_code_prefixes": list(zone.postal_code_prefixes),
        "methods": [
            {
                "id": method.pk,
                "name": method.name,
                "rate_type": method.rate_type,
                "price": str(method.price),
                "free_over": None if method.free_over is None else str(method.free_over),
                "weight_bands": method.weight_bands,
                "min_days": method.min_days,
                "max_days": method.max_days,
                "pickup": method.pickup,
            }
            for method in zone.methods.all()
        ],
    }


def _overlap_check(countries: Sequence[str], *, zone_id: int | None) -> None:
    """Refuse countries already in another zone; the lock makes the check and the write one step."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {ShippingZone._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    others = ShippingZone.objects.filter(countries__overlap=list(countries))
    if zone_id is not None:
        others = others.exclude(pk=zone_id)
    taken = others.values_list("name", "countries")
    clashes = sorted({(name, c) for name, theirs in taken for c in theirs if c in countries})
    if clashes:
        listed = ", ".join(f"{country} (in {name})" for name, country in clashes)
        raise ShippingZoneOverlap(
            f"A country can be in one shipping zone only: {listed}.",
            errors={"countries": [f"Already in another zone: {listed}."]},
        )


def _methods_write(zone: ShippingZone, methods: Sequence[MethodSpec]) -> None:
    """Make the zone's methods these: keep (and update) those named by id, add the others, drop the rest."""
    existing = {method.pk: method for method in zone.methods.all()}
    unknown = [spec.id for spec in methods if spec.id is not None and spec.id not in existing]
    if unknown:
        raise ResourceNotFound(
            f"No shipping method {unknown[0]} in this zone.",
            errors={"methods": [f"Method {unknown[0]} is not one of this zone's."]},
        )
    kept = {spec.id for spec in methods if spec.id is not None}
    ShippingMethod.objects.filter(zone=zone).exclude(pk__in=kept).delete()
    for position, spec in enumerate(methods):
        fields = {
            "name": spec.name,
            "rate_type": spec.rate_type,
            "price": spec.price,
            "free_over": spec.free_over,
            "weight_bands": [
                {"up_to_grams": grams, "price": str(price)} for grams, price in spec.weight_bands
            ],
            "min_days": spec.min_days,
            "max_days": spec.max_days,
            "pickup": spec.pickup,
            "position": position,
        }
        if spec.id is not None:
            ShippingMethod.objects.filter(pk=spec.id).update(**fields)
        else:
            ShippingMethod.objects.create(zone=zone, **fields)


def shipping_zone_create(
    *,
    actor: Actor,
    name: str,
    countries: Sequence[str],
    postal_code_prefixes: Sequence[str] = (),
    methods: Sequence[MethodSpec] = (),
) -> ShippingZone:
    with transaction.atomic():
        _overlap_check(countries, zone_id=None)
        if ShippingZone.objects.count() >= MAX_ZONES:
            raise DomainError(f"A shop has at most {MAX_ZONES} shipping zones.")
        zone = ShippingZone.objects.create(
            name=name, countries=sorted(set(countries)), postal_code_prefixes=_prefixes(postal_code_prefixes)
        )
        _methods_write(zone, methods)
        zone = access_zone_by_id(zone_id=zone.pk)
        audit_record(
            actor=actor,
            action="shipping_zone.created",
            object_type="shipping_zone",
            object_id=zone.pk,
            after=zone_snapshot(zone),
        )
    return zone


def shipping_zone_update(
    *,
    actor: Actor,
    zone: ShippingZone,
    name: str = UNSET,
    countries: Sequence[str] = UNSET,
    postal_code_prefixes: Sequence[str] = UNSET,
    methods: Sequence[MethodSpec] = UNSET,
) -> ShippingZone:
    with transaction.atomic():
        if countries is not UNSET:
            _overlap_check(countries, zone_id=zone.pk)
        zone = access_zone_by_id(zone_id=zone.pk)
        before = zone_snapshot(zone)
        if name is not UNSET:
            zone.name = name
        if countries is not UNSET:
            zone.countries = sorted(set(countries))
        if postal_code_prefixes is not UNSET:
            zone.postal_code_prefixes = _prefixes(postal_code_prefixes)
        zone.save(update_fields=["name", "countries", "postal_code_prefixes", "updated_at"])
        if methods is not UNSET:
            _methods_write(zone, methods)
        zone = access_zone_by_id(zone_id=zone.pk)
        after = zone_snapshot(zone)
        if after != before:
            audit_record(
                actor=actor,
                action="shipping_zone.updated",
                object_type="shipping_zone",
                object_id=zone.pk,
                before=before,
                after=after,
            )
    return zone


def shipping_zone_delete(*, actor: Actor, zone: ShippingZone) -> None:
    with transaction.atomic():
        before = zone_snapshot(zone)
        zone_id = zone.pk
        zone.delete()
        audit_record(
            actor=actor,
            action="shipping_zone.deleted",
            object_type="shipping_zone",
            object_id=zone_id,
            before=before,
        )


def _prefixes(prefixes: Sequence[str]) -> list[str]:
    return sorted({postal_normal(prefix) for prefix in prefixes if postal_normal(prefix)})


# --- Rules for pricing ----------------------------------------------------------------------


def method_rule(row: dict[str, Any], *, countries: Sequence[str], prefixes: Sequence[str]) -> MethodRule:
    """A MethodRule from a method's column values (as a dict) and its zone's countries and prefixes."""

    def amount(value: Any) -> Decimal:
        return Decimal(str(value))

    return MethodRule(
        id=int(row["id"]),
        name=str(row["name"]),
        rate_type=str(row["rate_type"]),
        price=amount(row["price"]),
        free_over=None if row["free_over"] is None else amount(row["free_over"]),
        weight_bands=tuple(
            WeightBand(int(band["up_to_grams"]), amount(band["price"])) for band in row["weight_bands"] or ()
        ),
        min_days=row["min_days"],
        max_days=row["max_days"],
        pickup=bool(row["pickup"]),
        countries=frozenset(countries),
        postal_code_prefixes=tuple(prefixes),
    )


def methods_for(address: Address) -> list[MethodRule]:
    """The methods of the zone that covers the address (country and postal-code prefix), in their order."""
    methods = (
        ShippingMethod.objects.select_related("zone")
        .filter(zone__countries__contains=[address.country])
        .order_by("position", "id")
    )
    rules = [
        method_rule(
            {field: getattr(method, field) for field in _RULE_FIELDS},
            countries=method.zone.countries,
            prefixes=method.zone.postal_code_prefixes,
        )
        for method in methods
    ]
    return [rule for rule in rules if rule.serves(address)]


_RULE_FIELDS = (
    "id",
    "name",
    "rate_type",
    "price",
    "free_over",
    "weight_bands",
    "min_days",
    "max_days",
    "pickup",
)

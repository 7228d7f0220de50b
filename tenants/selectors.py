"""Reads of the public schema that the API and workers need (host → shop is tenants.routing)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from tenants.errors import NotAllowed, ResourceNotFound, ShopNotFound
from tenants.models import ApiKey, DirectoryProfile, Domain, Invitation, Membership, Shop, ShopExport, User


def shops_for_user(*, user: User) -> QuerySet[Shop]:
    return Shop.objects.filter(memberships__user=user).order_by("id")


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("shop").order_by("shop_id")


def primary_domains(shop_ids: list[int]) -> dict[int, str]:
    """Return {shop id: primary hostname} for the given shops in one query."""
    rows = Domain.objects.filter(tenant_id__in=shop_ids, is_primary=True).values_list("tenant_id", "domain")
    return dict(rows)


def access_shop_by_slug_for_member(*, user: User, slug: str) -> tuple[Shop, Membership]:
    """Return a shop the user is a member of, with the membership; 404 otherwise (no existence leak)."""
    membership = Membership.objects.select_related("shop").filter(user=user, shop__slug=slug).first()
    if membership is None:
        raise ShopNotFound(f"You have no shop with the slug {slug!r}.")
    return membership.shop, membership


def access_shop_by_slug_for_staff(*, user: User, slug: str) -> Shop:
    """Return any shop by slug for platform staff; others are refused whether or not it exists."""
    if not user.is_staff:
        raise NotAllowed("Only platform staff can do this.")
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise ShopNotFound(f"No shop has the slug {slug!r}.")
    return shop


def domains_for_shop(*, shop: Shop) -> QuerySet[Domain]:
    return Domain.objects.filter(tenant=shop).order_by("-id")


def access_domain_by_id(*, shop: Shop, domain_id: int) -> Domain:
    domain = Domain.objects.filter(tenant=shop, pk=domain_id).first()
    if domain is None:
        raise ResourceNotFound("No domain with that id in this shop.")
    return domain


def access_export_by_id(*, shop: Shop, export_id: str) -> ShopExport:
    export = ShopExport.objects.filter(shop=shop, pk=export_id).first()
    if export is None:
        raise ResourceNotFound("No export with that id for this shop.")
    return export


def api_keys_for_shop(*, shop: Shop) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(shop=shop).order_by("-id")


def access_api_key_by_id(*, shop: Shop, api_key_id: int) -> ApiKey:
    api_key = ApiKey.objects.filter(shop=shop, pk=api_key_id).first()
    if api_key is None:
        raise ResourceNotFound("No API key with that id in this shop.")
    return api_key


def members_of_shop(*, shop: Shop) -> QuerySet[Membership]:
    return Membership.objects.filter(shop=shop).select_related("user").order_by("id")


def access_membership_by_id(*, shop: Shop, member_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(shop=shop, pk=member_id).first()
    if membership is None:
        raise ResourceNotFound("No member with that id in this shop.")
    return membership


def invitations_of_shop(*, shop: Shop) -> QuerySet[Invitation]:
    return Invitation.objects.filter(shop=shop).select_related("invited_by").order_by("-id")


def access_invitation_by_id(*, shop: Shop, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_related("invited_by").filter(shop=shop, pk=invitation_id).first()
    if invitation is None:
        raise ResourceNotFound("No invitation with that id in this shop.")
    return invitation


@dataclass(frozen=True)
class DirectoryShop:
    """One shop of the directory's nearby list, `distance_m` metres from the point asked about."""

    shop_id: int
    slug: str
    name: str
    domain: str
    description: str
    address: str
    latitude: Decimal
    longitude: Decimal
    categories: list[str]
    pickup: bool
    opening_hours: str
    distance_m: float


# The directory's orderings (as CursorPage spells them) and the SQL of each column.
_DIRECTORY_COLUMNS = {"distance_m": "distance_m", "shop_id": "d.shop_id"}


def directory_nearby(**query: Any) -> list[DirectoryShop]:
    """The page of the directory `directory_nearby_sql(**query)` describes."""
    sql, params = directory_nearby_sql(**query)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [DirectoryShop(*row) for row in cursor.fetchall()]


def directory_nearby_sql(
    *,
    latitude: float,
    longitude: float,
    radius_m: float,
    q: str | None,
    category: str | None,
    order_by: tuple[str, ...],
    after: tuple[str, str, float] | None,
    offset: int,
    limit: int,
) -> tuple[str, dict[str, Any]]:
    """
    The statement (and its parameters) reading listed shops of active shops
    within `radius_m` of the point, in `order_by` (`distance_m` then `shop_id`,
    either way), past `after` (the distance a cursor stopped at) and `offset`.

    Both the radius (ST_DWithin) and the order (`<->`, the sphere distance) are
    answered by the partial GiST index `directory_location_gist` (listed shops
    only): an ordered index scan that stops once a page is read, whatever the
    number of shops in the radius. The distance shown is that same `<->` value, so
    the order is exactly the order of the `distance_km` shown, and a cursor's
    position compares with it exactly.
    """
    point = "public.ST_SetSRID(public.ST_MakePoint(%(lng)s::float8, %(lat)s::float8), 4326)::public.geography"
    params: dict[str, Any] = {
        "lat": latitude,
        "lng": longitude,
        "radius": radius_m,
        "active": Shop.Status.ACTIVE,
        "offset": offset,
        "limit": limit,
    }
    conditions = []
    if category:
        params["category"] = category
        conditions.append("%(category)s = ANY(d.categories)")
    if q:
        params["q"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append("(s.name ILIKE %(q)s OR d.description ILIKE %(q)s)")
    if after is not None:
        field, op, position = after
        if field != "distance_m" or op not in ("<", ">"):
            raise ValueError(f"cannot page the directory after {after!r}")
        params["position"] = position
        conditions.append(f"(d.location <-> {point}) {op} %(position)s::float8")
    order = ", ".join(
        f"{_DIRECTORY_COLUMNS[name.lstrip('-')]} {'DESC' if name.startswith('-') else 'ASC'}"
        for name in order_by
    )
    extra = "".join(f" AND {condition}" for condition in conditions)
    # The page first, then its shops' domains: 21 lookups, not one per shop in the radius.
    sql = f"""
        SELECT page.shop_id, page.slug, page.name, COALESCE(dom.domain, ''), page.description,
               page.address, page.latitude, page.longitude, page.categories, page.pickup,
               page.opening_hours, page.distance_m
        FROM (
            SELECT d.shop_id, s.slug, s.name, d.description, d.address, d.latitude, d.longitude,
                   d.categories, d.pickup, d.opening_hours, d.location <-> {point} AS distance_m
            FROM tenants_directoryprofile d
            JOIN tenants_shop s ON s.id = d.shop_id
            WHERE d.listed AND s.status = %(active)s
              AND public.ST_DWithin(d.location, {point}, %(radius)s::float8, false){extra}
            ORDER BY {order}
            OFFSET %(offset)s LIMIT %(limit)s
        ) page
        LEFT JOIN tenants_domain dom ON dom.tenant_id = page.shop_id AND dom.is_primary
        ORDER BY {order.replace("d.shop_id", "page.shop_id")}
    """
    return sql, params


def directory_profile_of(*, shop: Shop) -> DirectoryProfile | None:
    """The shop's directory profile, or None before its owners first set one."""
    return DirectoryProfile.objects.filter(shop=shop).first()

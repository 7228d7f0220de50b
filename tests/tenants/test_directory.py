"""The shop directory: profiles set with `PATCH shops/{slug}`, `directory/shops` nearby."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from tenants import selectors
from tenants.models import DirectoryProfile, Domain, Shop
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db

NEARBY = "/api/platform/v1/directory/shops"
PARIS = (Decimal("48.856600"), Decimal("2.352200"))
BERLIN = (Decimal("52.520000"), Decimal("13.405000"))
MADRID = (Decimal("40.416800"), Decimal("-3.703800"))
LONDON = (Decimal("51.507400"), Decimal("-0.127800"))


def directory_shop(
    slug: str,
    at: tuple[Decimal, Decimal],
    *,
    listed: bool = True,
    status: str = Shop.Status.ACTIVE,
    categories: tuple[str, ...] = (),
    description: str = "",
) -> Shop:
    """A shop row with a directory profile (the directory reads only the public schema: no schema made)."""
    shop = Shop.objects.create(
        schema_name=f"dir_{slug.replace('-', '_')}", slug=slug, name=slug.title(), status=status
    )
    Domain.objects.create(tenant=shop, domain=f"{slug}.shops.test", is_primary=True)
    DirectoryProfile.objects.create(
        shop=shop,
        listed=listed,
        latitude=at[0],
        longitude=at[1],
        categories=list(categories),
        description=description,
    )
    return shop


def nearby(api: Any, **params: str) -> Any:
    return api.get(NEARBY, params, **PLATFORM)


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [shop["slug"] for shop in response.json()["results"]]


def patch_shop(api: Any, ctx: ShopContext, body: Any, token: str | None = None) -> Any:
    return api.patch(
        f"/api/platform/v1/shops/{ctx.shop.slug}",
        body,
        format="json",
        **PLATFORM,
        **bearer(token or ctx.token()),
    )


# --- Nearby: order, distance, filters --------------------------------------------------


def test_nearest_first_with_distances_on_known_cities(api) -> None:
    for slug, at in (("berlin", BERLIN), ("madrid", MADRID), ("paris", PARIS), ("london", LONDON)):
        directory_shop(slug, at)
    response = nearby(api, near="48.8566,2.3522", radius_km="2000")
    assert slugs(response) == ["paris", "london", "berlin", "madrid"]
    distances = {shop["slug"]: shop["distance_km"] for shop in response.json()["results"]}
    assert distances["paris"] == 0
    # Great-circle distances from Paris (sphere of radius 6,371 km), to within a kilometre.
    assert distances["london"] == pytest.approx(343.5, abs=1)
    assert distances["berlin"] == pytest.approx(877.5, abs=1)
    assert distances["madrid"] == pytest.approx(1053.0, abs=2)
    paris = response.json()["results"][0]
    assert paris["domain"] == "paris.shops.test" and paris["latitude"] == pytest.approx(48.8566)

    # From Berlin the order turns round; the radius leaves the far ones out.
    assert slugs(nearby(api, near="52.52,13.405", radius_km="2000")) == [
        "berlin",
        "paris",
        "london",
        "madrid",
    ]
    assert slugs(nearby(api, near="52.52,13.405", radius_km="900")) == ["berlin", "paris"]
    assert slugs(nearby(api, near="52.52,13.405")) == ["berlin"]  # 25 km by default


def test_unlisted_suspended_deleting_and_unlocated_shops_are_hidden(api) -> None:
    directory_shop("shown", PARIS)
    directory_shop("unlisted", PARIS, listed=False)
    directory_shop("suspended", PARIS, status=Shop.Status.SUSPENDED)
    directory_shop("deleting", PARIS, status=Shop.Status.DELETING)
    unlocated = Shop.objects.create(schema_name="dir_unlocated", slug="unlocated", name="Unlocated")
    DirectoryProfile.objects.create(shop=unlocated, listed=False)
    assert slugs(nearby(api, near="48.8566,2.3522")) == ["shown"]


def test_category_and_words_filter(api) -> None:
    directory_shop("bread-corner", PARIS, categories=("bakery",), description="Sourdough 100% rye")
    directory_shop("book-nook", PARIS, categories=("books", "gifts"), description="Used books")
    assert slugs(nearby(api, near="48.8566,2.3522", category="books")) == ["book-nook"]
    assert slugs(nearby(api, near="48.8566,2.3522", category="toys")) == []
    assert slugs(nearby(api, near="48.8566,2.3522", q="sourdough")) == ["bread-corner"]
    assert slugs(nearby(api, near="48.8566,2.3522", q="NOOK")) == ["book-nook"]
    # LIKE's wildcards are plain characters here.
    assert slugs(nearby(api, near="48.8566,2.3522", q="100%")) == ["bread-corner"]
    assert slugs(nearby(api, near="48.8566,2.3522", q="%")) == ["bread-corner"]
    assert slugs(nearby(api, near="48.8566,2.3522", q="_")) == []


def test_pages_follow_the_distance_order_through_ties(api) -> None:
    # Three shops at one spot (equal distances) and others beyond: pages of two.
    for index in range(3):
        directory_shop(f"same-{index}", PARIS)
    for index in range(4):
        directory_shop(f"east-{index}", (PARIS[0], PARIS[1] + Decimal("0.01") * (index + 1)))
    seen: list[str] = []
    distances: list[float] = []
    response = nearby(api, near="48.8566,2.3522", limit="2")
    pages = 0
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [shop["slug"] for shop in body["results"]]
        distances += [shop["distance_km"] for shop in body["results"]]
        pages += 1
        if body["next"] is None:
            break
        response = api.get(body["next"], **PLATFORM)
    assert pages == 4
    assert seen == ["same-0", "same-1", "same-2", "east-0", "east-1", "east-2", "east-3"]
    assert distances == sorted(distances)
    # And back: the previous link of the last page gives the page before it.
    back = api.get(response.json()["previous"], **PLATFORM)
    assert slugs(back) == ["east-1", "east-2"]


def test_the_nearby_query_uses_the_gist_index(api) -> None:
    Shop.objects.bulk_create(
        Shop(schema_name=f"dir_many_{index}", slug=f"many-{index}", name=f"Many {index}")
        for index in range(2000)
    )
    shops = Shop.objects.filter(slug__startswith="many-").order_by("id")
    DirectoryProfile.objects.bulk_create(
        DirectoryProfile(
            shop=shop,
            listed=True,
            latitude=Decimal(index % 160 - 80) + Decimal("0.5"),
            longitude=Decimal(index % 360 - 180) + Decimal("0.25"),
        )
        for index, shop in enumerate(shops)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenants_directoryprofile")
    sql, params = selectors.directory_nearby_sql(
        latitude=48.85,
        longitude=2.35,
        radius_m=50_000,
        q=None,
        category=None,
        order_by=("distance_m", "shop_id"),
        after=None,
        offset=0,
        limit=21,
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "directory_location_gist" in plan, plan


# --- Nearby: bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "near"),
        ({"near": ""}, "near"),
        ({"near": "48.8566"}, "near"),
        ({"near": "48.8566,2.3522,1"}, "near"),
        ({"near": "north,east"}, "near"),
        ({"near": "NaN,2"}, "near"),
        ({"near": "48,Infinity"}, "near"),
        ({"near": "1e308,2"}, "near"),
        ({"near": "9" * 400 + ",2"}, "near"),
        ({"near": "91,2"}, "near"),
        ({"near": "-90.5,2"}, "near"),
        ({"near": "48,180.1"}, "near"),
        ({"near": "48\x00,2"}, "near"),
        ({"near": "48.8566,2.3522", "radius_km": "0"}, "radius_km"),
        ({"near": "48.8566,2.3522", "radius_km": "-5"}, "radius_km"),
        ({"near": "48.8566,2.3522", "radius_km": "2000.5"}, "radius_km"),
        ({"near": "48.8566,2.3522", "radius_km": "1e9"}, "radius_km"),
        ({"near": "48.8566,2.3522", "radius_km": "NaN"}, "radius_km"),
        ({"near": "48.8566,2.3522", "radius_km": "9" * 400}, "radius_km"),
        ({"near": "48.8566,2.3522", "q": "bread\x00"}, "q"),
        ({"near": "48.8566,2.3522", "q": "x" * 101}, "q"),
        ({"near": "48.8566,2.3522", "category": "Books!"}, "category"),
        ({"near": "48.8566,2.3522", "category": "bo\x00oks"}, "category"),
        ({"near": "48.8566,2.3522", "limit": "0"}, "limit"),
        ({"near": "48.8566,2.3522", "limit": "101"}, "limit"),
    ],
)
def test_bad_queries_are_400_problems(api, params: dict[str, str], field: str) -> None:
    directory_shop("paris", PARIS)
    body = assert_problem(nearby(api, **params), 400)
    assert body["code"] == "validation_failed" and field in body["errors"], body


@pytest.mark.parametrize(
    "cursor",
    [
        "junk!",
        "cD1hYmM=",  # p=abc
        "cD1uYW4=",  # p=nan
        "cD0tMQ==",  # p=-1
        "cD0xZTMwMA==",  # p=1e300
        "bz0tNQ==",  # o=-5
        "cD0xJTAw",  # p=1%00 (a NUL)
        "A" * 600,
    ],
)
def test_forged_cursors_are_400_problems(api, cursor: str) -> None:
    directory_shop("paris", PARIS)
    body = assert_problem(nearby(api, near="48.8566,2.3522", cursor=cursor), 400)
    assert "cursor" in body["errors"], body


def test_anonymous_get_only(api, shop_a: ShopContext) -> None:
    # No credentials needed, and a bad token does not matter to an anonymous list.
    assert nearby(api, near="0,0").status_code == 200
    answer = api.get(NEARBY, {"near": "0,0"}, **PLATFORM, HTTP_AUTHORIZATION="Bearer nonsense")
    assert answer.status_code == 200
    post = api.post(NEARBY, {}, format="json", **PLATFORM)
    assert_problem(post, 405)
    assert "GET" in post["Allow"]
    options = api.options(NEARBY, **PLATFORM)
    assert options.status_code == 200 and "GET" in options["Allow"]


# --- Owners edit the profile ----------------------------------------------------------


def test_owner_lists_the_shop_and_shoppers_find_it(api, shop_a: ShopContext) -> None:
    profile = {
        "listed": True,
        "description": "Hand-made cups",
        "address": "1 Rue de Rivoli, Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
        "categories": ["ceramics", "gifts", "ceramics"],
        "pickup": True,
        "opening_hours": "Mon–Sat 10–19",
    }
    response = patch_shop(api, shop_a, {"directory": profile})
    assert response.status_code == 200, response.content
    assert response.json()["directory"] == {**profile, "categories": ["ceramics", "gifts"]}
    found = nearby(api, near="48.85,2.35", category="ceramics").json()["results"]
    assert [shop["slug"] for shop in found] == [shop_a.shop.slug]
    assert found[0]["domain"] == shop_a.host and found[0]["pickup"] is True

    # Only the fields sent change; GET shows the profile too.
    assert patch_shop(api, shop_a, {"directory": {"listed": False}}).status_code == 200
    shown = api.get(f"/api/platform/v1/shops/{shop_a.shop.slug}", **PLATFORM, **bearer(shop_a.token())).json()
    assert shown["directory"] == {**profile, "listed": False, "categories": ["ceramics", "gifts"]}
    assert nearby(api, near="48.85,2.35")["Content-Type"].startswith("application/json")
    assert slugs(nearby(api, near="48.85,2.35")) == []


def test_a_shop_without_a_profile_shows_null(api, shop_a: ShopContext) -> None:
    shown = api.get(f"/api/platform/v1/shops/{shop_a.shop.slug}", **PLATFORM, **bearer(shop_a.token()))
    assert shown.json()["directory"] is None


def test_listing_needs_a_location(api, shop_a: ShopContext) -> None:
    body = assert_problem(patch_shop(api, shop_a, {"directory": {"listed": True}}), 400)
    assert body["code"] == "directory_location_missing"
    body = assert_problem(patch_shop(api, shop_a, {"directory": {"latitude": 48.8}}), 400)
    assert "directory.longitude" in body["errors"], body
    assert not DirectoryProfile.objects.filter(shop=shop_a.shop).exists()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"latitude": 90.5, "longitude": 2}', "latitude"),
        ('{"latitude": -91, "longitude": 2}', "latitude"),
        ('{"latitude": 48, "longitude": 180.000001}', "longitude"),
        ('{"latitude": 48, "longitude": -181}', "longitude"),
        ('{"latitude": 1e308, "longitude": 2}', "latitude"),
        ('{"latitude": 1e400, "longitude": 2}', "latitude"),
        ('{"latitude": NaN, "longitude": 2}', None),
        ('{"latitude": 48, "longitude": Infinity}', None),
        ('{"latitude": "NaN", "longitude": 2}', "latitude"),
        ('{"latitude": "Infinity", "longitude": 2}', "latitude"),
        ('{"latitude": 48.1234567, "longitude": 2}', "latitude"),
        ('{"latitude": true, "longitude": 2}', "latitude"),
        ('{"description": "cups\\u0000"}', None),
        ('{"address": "\\ud800"}', None),
        ('{"categories": ["Ceramics"]}', "categories"),
        ('{"categories": ["ce\\u0000ramics"]}', None),
        ('{"categories": "ceramics"}', "categories"),
        ('{"categories": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]}', "categories"),
        ('{"listed": "yes"}', "listed"),
        ('{"pickup": 1}', "pickup"),
        ('{"opening_hours": "' + "x" * 301 + '"}', "opening_hours"),
    ],
)
def test_bad_profiles_are_400_problems_and_change_nothing(
    api, shop_a: ShopContext, raw: str, field: str | None
) -> None:
    response = api.patch(
        f"/api/platform/v1/shops/{shop_a.shop.slug}",
        ('{"directory": ' + raw + "}").encode(),
        content_type="application/json",
        **PLATFORM,
        **bearer(shop_a.token()),
    )
    body = assert_problem(response, 400)
    if field is not None:
        assert f"directory.{field}" in str(body.get("errors")), body
    assert not DirectoryProfile.objects.filter(shop=shop_a.shop).exists()


def test_only_owners_and_admins_of_that_shop_edit_its_profile(
    api, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    stranger = make_user("stranger@example.com")
    body = {"directory": {"latitude": 1, "longitude": 1}}
    assert_problem(patch_shop(api, shop_a, body, token=shop_a.token(stranger)), 404)
    # Shop B's owner cannot reach shop A's profile, and editing B leaves A alone.
    assert_problem(patch_shop(api, shop_a, body, token=shop_b.token()), 404)
    assert patch_shop(api, shop_b, body).status_code == 200
    assert not DirectoryProfile.objects.filter(shop=shop_a.shop).exists()
    assert DirectoryProfile.objects.get(shop=shop_b.shop).latitude == 1


def test_a_backup_keeps_the_directory_profile(shop_a: ShopContext) -> None:
    import json

    from tenants import backups

    DirectoryProfile.objects.create(
        shop=shop_a.shop, listed=True, latitude=PARIS[0], longitude=PARIS[1], categories=["ceramics"]
    )
    public = json.loads(json.dumps(backups._public_rows(shop_a.shop)))
    assert public["directory"]["latitude"] == "48.856600"
    Shop.objects.filter(pk=shop_a.shop.pk).delete()  # its public rows only; the schema stays
    assert not DirectoryProfile.objects.exists()
    restored = backups._public_restore(public)
    profile = DirectoryProfile.objects.get(shop=restored)
    assert (profile.listed, profile.latitude, profile.longitude, profile.categories) == (
        True,
        PARIS[0],
        PARIS[1],
        ["ceramics"],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_directoryprofile WHERE location IS NOT NULL")
        assert cursor.fetchone() == (1,)

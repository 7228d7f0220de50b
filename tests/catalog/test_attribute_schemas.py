"""
Categories' attribute schemas are merchant-written code that runs in the web
process: no reference in them is ever fetched (remote or file), no pattern in
them can backtrack, and they are bounded in size and depth (issue 12, points 1
and 2).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from catalog.models import Category, Product
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient, product_body
from tests.conftest import ShopContext, assert_problem

pytestmark = pytest.mark.django_db

SECRET = "internal-only-7f3a"


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    api.raise_request_exception = False  # answer as production would: handler500 for a crash
    return AdminClient(api, shop_a)


@pytest.fixture
def internal_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server standing in for an internal service; yields its URL and the paths requested."""
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            body = f'{{"type": "string", "description": "{SECRET}"}}'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _category_stored_before_the_checks(ctx: ShopContext, schema: dict[str, Any]) -> Category:
    """A category saved with a schema today's checks refuse, as older releases let through."""
    use_shop(ctx.shop)
    category = Category.objects.create(name="Legacy", slug="legacy", path="/", attribute_schema=schema)
    category.path = f"/{category.pk}/"
    category.save(update_fields=["path"])
    use_public()
    return category


@contextmanager
def _no_hang(seconds: int) -> Iterator[None]:
    """Fail instead of hanging the suite if a request runs away (a guard, not a timing assertion)."""

    def give_up(*_args: Any) -> None:
        raise TimeoutError(f"the request ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- Point 1: references are never followed -----------------------------------------


def test_a_remote_ref_is_refused_at_create_and_update_and_never_fetched(
    admin: AdminClient, internal_server
) -> None:
    url, requested = internal_server
    schema = {"type": "object", "properties": {"colour": {"$ref": f"{url}/colour.json"}}}

    created = admin.post("categories", {"name": "Remote", "attribute_schema": schema})
    body = assert_problem(created, 400)
    assert body["code"] == "attribute_schema_invalid"
    assert list(body["errors"]) == ["attribute_schema.properties.colour.$ref"]

    plain = admin.post("categories", {"name": "Plain"}).json()
    updated = admin.patch(f"categories/{plain['id']}", {"attribute_schema": schema})
    assert assert_problem(updated, 400)["errors"].keys() == {"attribute_schema.properties.colour.$ref"}
    assert admin.get(f"categories/{plain['id']}").json()["attribute_schema"] is None

    # A product in a category stored before these checks is refused too, without a fetch.
    legacy = _category_stored_before_the_checks(admin.ctx, schema)
    product = admin.post("products", product_body(category=legacy.pk, attributes={"colour": "red"}))
    assert assert_problem(product, 400)["code"] == "attributes_invalid"
    assert SECRET.encode() not in product.content
    assert requested == []


@pytest.mark.parametrize(
    "ref",
    ["file:///etc/passwd", "file:///etc/passwd#/x", "relative/other.json", "urn:storefleet:x"],
)
def test_a_ref_outside_the_schema_is_a_400_without_content(admin: AdminClient, ref: str) -> None:
    schema = {"properties": {"notes": {"items": {"$ref": ref}}, "other": {"$dynamicRef": ref}}}
    response = admin.post("categories", {"name": "Files", "attribute_schema": schema})
    body = assert_problem(response, 400)
    assert set(body["errors"]) == {
        "attribute_schema.properties.notes.items.$ref",
        "attribute_schema.properties.other.$dynamicRef",
    }
    assert b"root:" not in response.content


def test_a_legacy_file_ref_gives_a_400_problem_without_the_file(admin: AdminClient) -> None:
    legacy = _category_stored_before_the_checks(
        admin.ctx, {"properties": {"x": {"$ref": "file:///etc/passwd"}}}
    )
    response = admin.post("products", product_body(category=legacy.pk, attributes={"x": 1}))
    body = assert_problem(response, 400)
    assert body["code"] == "attributes_invalid"
    assert b"root:" not in response.content


def test_refs_within_the_schema_work(admin: AdminClient) -> None:
    schema = {
        "$defs": {"grams": {"type": "integer", "minimum": 1}},
        "type": "object",
        "properties": {"weight": {"$ref": "#/$defs/grams"}, "tare": {"$ref": "#/properties/weight"}},
    }
    category = admin.post("categories", {"name": "Local refs", "attribute_schema": schema})
    assert category.status_code == 201, category.content
    bad = admin.post("products", product_body(category=category.json()["id"], attributes={"tare": 0}))
    assert set(assert_problem(bad, 400)["errors"]) == {"attributes.tare"}
    good = admin.post("products", product_body(category=category.json()["id"], attributes={"weight": 5}))
    assert good.status_code == 201, good.content


def test_a_dangling_local_ref_is_refused(admin: AdminClient) -> None:
    schema = {"properties": {"weight": {"$ref": "#/$defs/missing"}}}
    body = assert_problem(admin.post("categories", {"name": "Dangling", "attribute_schema": schema}), 400)
    assert body["code"] == "attribute_schema_invalid"


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"type": "nonsense"}, "attribute_schema.type"),
        ({"properties": {"size": {"minLength": -1}}}, "attribute_schema.properties.size.minLength"),
        ({"$schema": "http://json-schema.org/draft-04/schema#"}, "attribute_schema.$schema"),
        ({"description": "x" * 40_000}, "attribute_schema"),
        ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {}}}}}}}}}}}, None),
        ({"allOf": [{"allOf": [{"allOf": [{"allOf": [{"allOf": [{}]}]}]}]}] * 3}, None),
    ],
)
def test_the_schema_must_be_draft_2020_12_and_bounded(admin: AdminClient, schema, field) -> None:
    response = admin.post("categories", {"name": "Checked", "attribute_schema": schema})
    if field is None:  # nested within the bound: accepted
        assert response.status_code == 201, response.content
        return
    assert field in assert_problem(response, 400)["errors"]


def test_a_schema_nested_too_deep_is_refused(admin: AdminClient) -> None:
    schema: dict[str, Any] = {}
    for _ in range(30):
        schema = {"not": schema}
    body = assert_problem(admin.post("categories", {"name": "Deep", "attribute_schema": schema}), 400)
    assert body["errors"] == {"attribute_schema": ["Nested at most 24 levels deep."]}


# --- Point 2: patterns run in linear time -------------------------------------------


def test_a_catastrophic_pattern_answers_correctly_at_once(admin: AdminClient, shop_a: ShopContext) -> None:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}},
        "patternProperties": {"^(x+x+)+y$": {"type": "integer"}},
        "additionalProperties": False,
    }
    category = admin.post("categories", {"name": "Codes", "attribute_schema": schema})
    assert category.status_code == 201, category.content
    category_id = category.json()["id"]
    with _no_hang(60):
        # On a backtracking engine each of these takes minutes (×4 every two characters).
        refused = admin.post(
            "products",
            product_body(category=category_id, attributes={"code": "a" * 30 + "!", "x" * 30: 1}),
        )
        accepted = admin.post(
            "products",
            product_body("Coded", category=category_id, attributes={"code": "a" * 30, "x" * 30 + "y": 1}),
        )
    body = assert_problem(refused, 400)
    assert body["code"] == "attributes_invalid"
    assert set(body["errors"]) == {"attributes", "attributes.code"}  # "xxx…" is an additional property
    assert accepted.status_code == 201, accepted.content
    use_shop(shop_a.shop)
    assert list(Product.objects.values_list("attributes", flat=True)) == [
        {"code": "a" * 30, "x" * 30 + "y": 1}
    ]


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"properties": {"code": {"pattern": "^(a)\\1$"}}}, "attribute_schema.properties.code.pattern"),
        ({"properties": {"code": {"pattern": "^(?=a)a$"}}}, "attribute_schema.properties.code.pattern"),
        ({"properties": {"code": {"pattern": "(?<!x)y"}}}, "attribute_schema.properties.code.pattern"),
        ({"patternProperties": {"^(a)\\1$": {}}}, "attribute_schema.patternProperties.^(a)\\1$"),
        ({"properties": {"c": {"pattern": "a{1000}{1000}"}}}, "attribute_schema.properties.c.pattern"),
    ],
)
def test_patterns_a_linear_engine_cannot_run_are_refused(admin: AdminClient, schema, field) -> None:
    created = admin.post("categories", {"name": "Regex", "attribute_schema": schema})
    body = assert_problem(created, 400)
    assert body["code"] == "attribute_schema_invalid"
    assert list(body["errors"]) == [field], body["errors"]
    assert "linear time" in body["errors"][field][0]
    plain = admin.post("categories", {"name": "Plain regex"}).json()
    updated = admin.patch(f"categories/{plain['id']}", {"attribute_schema": schema})
    assert list(assert_problem(updated, 400)["errors"]) == [field]


# --- Attributes as the product page lists them ---------------------------------------------


def test_attributes_shown_follow_the_schema_titles_order_and_choices() -> None:
    from catalog.attributes import attributes_shown

    schema = {
        "type": "object",
        "properties": {
            "material": {"title": "Material", "anyOf": [{"const": "ss", "title": "Stainless steel"}]},
            "sizes": {
                "type": "array",
                "title": "Sizes",
                "items": {"oneOf": [{"const": "s", "title": "Small"}]},
            },
            "lid": {"type": "boolean", "title": "  "},  # a blank title: the key, made readable
            "weight_g": {"type": "number"},
            "fit": {"type": "object", "properties": {"cut": {"title": "Cut"}}},
        },
    }
    attributes = {
        "extra_note": "kept, after the schema's",
        "weight_g": 12.5,
        "lid": True,
        "fit": {"cut": "slim", "stretch": None},
        "sizes": ["s", "xl"],
        "material": "ss",
        "empty": None,
        "blank": "",
    }
    order = ["material", "sizes", "lid", "weight_g", "fit"]
    assert attributes_shown(attributes, schema=schema, order=order) == [
        {"key": "material", "label": "Material", "value": "Stainless steel"},
        {"key": "sizes", "label": "Sizes", "value": "Small, xl"},
        {"key": "lid", "label": "Lid", "value": "Yes"},
        {"key": "weight_g", "label": "Weight (g)", "value": "12.5"},
        {"key": "fit", "label": "Fit", "value": "Cut: slim"},
        {"key": "extra_note", "label": "Extra note", "value": "kept, after the schema's"},
    ]
    # No order kept (a schema saved before it was): the schema's own key order.
    assert [a["key"] for a in attributes_shown({"lid": False, "material": "x"}, schema=schema, order=[])] == [
        "material",
        "lid",
    ]
    # No schema at all: the product's own order, names made readable.
    assert attributes_shown({"capacity_ml": 350, "is-hot": False}, schema=None, order=[]) == [
        {"key": "capacity_ml", "label": "Capacity (ml)", "value": "350"},
        {"key": "is-hot", "label": "Is hot", "value": "No"},
    ]

"""
Attack classes on every endpoint (issue 12, point 6), table-driven from the two
OpenAPI documents so that endpoints added later are covered without a new line:

- a plain OPTIONS on every path answers 200 with `Allow`, or a 401 problem to
  an anonymous caller where the path needs credentials, never a 500;
- JSON that decodes but that nothing can store (NUL, lone surrogates, numbers
  beyond a double) is refused by the one JSON parser with a 400 problem on
  every operation that takes a body, and changes nothing;
- a hand-made `cursor` on every paginated list is a 400 problem naming `cursor`.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from catalog.models import Category, Product, Variant
from orders.accounts import customer_address_create, customer_signup
from orders.models import Discount, ShippingZone
from orders.tokens import customer_tokens_mint
from tenants.audit.models import AuditEntry
from tenants.audit.services import Actor
from tenants.idempotency.models import IdempotencyRecord
from tenants.models import Shop, User
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import event_record
from tenants.schemas import use_public, use_shop
from tenants.webhooks import services as webhooks
from tests.conftest import ShopContext, assert_problem, bearer
from tests.orders.helpers import ADDRESS

CUSTOMER_PASSWORD = "correct horse battery staple"

# Both documents as `manage.py spectacular --urlconf ...` generates them, at collection.
DOCUMENTS = {
    document: SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    for document, urlconf in (("platform", settings.PUBLIC_SCHEMA_URLCONF), ("shop", settings.ROOT_URLCONF))
}
PROBLEM_TYPE = "application/problem+json"


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            yield path, method, operation


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    """Every case sends many requests from one address to one shop."""
    settings.RATE_LIMIT_ADMIN_PER_MINUTE = 10**9
    settings.RATE_LIMIT_STOREFRONT_PER_MINUTE = 10**9


@pytest.fixture
def rows(shop_a: ShopContext) -> dict[str, Any]:
    """Real rows for the documents' path parameters, so requests reach past the 404s."""
    use_shop(shop_a.shop)
    category = Category.objects.create(name="Shirts", slug="shirts", path="/")
    category.path = f"/{category.pk}/"
    category.save(update_fields=["path"])
    product = Product.objects.create(title="Shirt", slug="shirt", status=Product.Status.ACTIVE)
    variant = Variant.objects.create(product=product, sku="SHIRT-M", price="10.00", stock=5)
    endpoint = webhooks.endpoint_create(
        actor=Actor.system(), url="https://hooks.example.com/hostile", events=["inventory.low"]
    )
    (delivery_id,) = webhooks.deliveries_create_for_events(
        events=[event_record(type="inventory.low", payload={"variant_id": variant.pk})]
    )
    customer = customer_signup(email="shopper@example.com", password=CUSTOMER_PASSWORD, name="Shopper")
    address = customer_address_create(customer=customer, fields=dict(ADDRESS))
    customer_token = customer_tokens_mint(customer).access
    zone = ShippingZone.objects.create(name="Home", countries=["DE"])
    discount = Discount.objects.create(code="HOSTILE", kind=Discount.Kind.FREE_SHIPPING)
    use_public()
    return {
        "customer_token": customer_token,
        "address_id": address.pk,
        "slug": shop_a.shop.slug,
        "zone_id": zone.pk,
        "discount_id": discount.pk,
        "category_id": category.pk,
        "product_id": product.pk,
        "variant_id": variant.pk,
        "webhook_id": endpoint.pk,
        "delivery_id": delivery_id,
    }


def _url(path: str, parameters: list[dict[str, Any]], rows: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in rows:
            return str(rows[name])
        schema = next(p["schema"] for p in parameters if p["in"] == "path" and p["name"] == name)
        return (
            str(uuid.uuid4())
            if schema.get("format") == "uuid"
            else "1"
            if schema["type"] == "integer"
            else "x"
        )

    return re.sub(r"\{([^}]+)\}", value, path)


def _host(document: str, shop: ShopContext) -> str:
    return settings.PLATFORM_HOST if document == "platform" else shop.host


def _path_params() -> list[Any]:
    return [
        pytest.param(document, path, id=f"{document}:{path}")
        for document, schema in DOCUMENTS.items()
        for path in schema["paths"]
    ]


def _operation_params(select: Any) -> list[Any]:
    return [
        pytest.param(document, path, method, id=f"{document}:{method}:{path}")
        for document, schema in DOCUMENTS.items()
        for path, method, operation in _operations(schema)
        if select(operation)
    ]


def _anonymous_allowed(operation: dict[str, Any]) -> bool:
    """The document says an operation is anonymous with `security: []` (or a `{}` alternative)."""
    security = operation.get("security", [])
    return security == [] or {} in security


def _credentials(shop: ShopContext, rows: dict[str, Any], path: str) -> dict[str, str]:
    """The credentials an API takes: a member's JWT, or on the Storefront API a customer's."""
    return bearer(rows["customer_token"] if path.startswith("/api/storefront/") else shop.token())


# --- Plain OPTIONS ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("document", "path"), _path_params())
def test_plain_options_answers_with_allow(api, shop_a: ShopContext, rows, document: str, path: str) -> None:
    api.raise_request_exception = False  # answer as production would: handler500 for a crash
    path_item = DOCUMENTS[document]["paths"][path]
    parameters = [p for operation in path_item.values() for p in operation.get("parameters", [])]
    url = _url(path, parameters, rows)
    documented = {method.upper() for method in path_item}

    response = api.options(url, HTTP_HOST=_host(document, shop_a), **_credentials(shop_a, rows, path))
    assert response.status_code == 200, (response.status_code, response.content[:300])
    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert documented | {"OPTIONS"} <= allowed, (allowed, documented)
    assert set(response.json()["methods"]) == allowed

    anonymous = api.options(url, HTTP_HOST=_host(document, shop_a))
    if all(_anonymous_allowed(operation) for operation in path_item.values()):
        assert anonymous.status_code == 200, anonymous.content[:300]
    else:
        assert_problem(anonymous, 401)
    assert {method.strip() for method in anonymous["Allow"].split(",")} == allowed


# --- JSON nothing can store ------------------------------------------------------------------


def _hostile_bodies(operation: dict[str, Any], document: str) -> dict[str, bytes]:
    """The operation's own fields, each given the hostile value; and hostile keys."""
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = DOCUMENTS[document]["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    fields = list(schema.get("properties", {})) or ["name"]

    def body(value: str) -> bytes:
        return ("{" + ", ".join(f'"{field}": {value}' for field in fields) + "}").encode()

    return {
        "nul-in-value": body('"a\\u0000b"'),
        "nul-in-nested-key": body('{"size\\u0000": "M"}'),
        "nul-in-key": b'{"\\u0000": 1, ' + body("1")[1:],
        "lone-surrogate-in-value": body('"\\ud800"'),
        "lone-low-surrogate-in-list": body('["ok", "\\udfff"]'),
        "lone-surrogate-in-key": b'{"\\ud83d": 1, ' + body("1")[1:],
        "number-beyond-a-double": body("1e400"),
        "negative-number-beyond-a-double": body("-1e400"),
    }


def _fingerprint(shop: ShopContext) -> tuple[int, ...]:
    """Counts that any write moves: rows in public, the shop's audit log, catalog, outbox and idempotency."""
    use_shop(shop.shop)
    in_shop = (
        AuditEntry.objects.count(),
        Product.objects.count(),
        Category.objects.count(),
        OutboxEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )
    use_public()
    return (
        *in_shop,
        Shop.objects.count(),
        User.objects.count(),
        OutboxEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.mark.django_db
# JSON bodies; the one multipart operation (the CSV import) has its own hostile files in
# tests/catalog/test_bulk.py (NUL, lone surrogates, invalid UTF-8, sizes) and refuses JSON (415).
@pytest.mark.parametrize(
    ("document", "path", "method"),
    _operation_params(lambda op: "application/json" in op.get("requestBody", {}).get("content", {})),
)
def test_unstorable_json_is_refused_by_the_parser(
    api, shop_a: ShopContext, rows, document: str, path: str, method: str
) -> None:
    api.raise_request_exception = False
    operation = DOCUMENTS[document]["paths"][path][method]
    url = _url(path, operation.get("parameters", []), rows)
    before = _fingerprint(shop_a)
    failures = []
    for name, body in _hostile_bodies(operation, document).items():
        response = getattr(api, method)(
            url,
            data=body,
            content_type="application/json",
            HTTP_HOST=_host(document, shop_a),
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            **_credentials(shop_a, rows, path),
        )
        problem = response["Content-Type"] == PROBLEM_TYPE and response.json()
        if not (
            response.status_code == 400
            and problem
            and problem.get("code") == "parse_error"
            and problem.get("errors")  # the fields that hold it
        ):
            failures.append(f"{name}: {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)
    assert _fingerprint(shop_a) == before


# --- Forged cursors ----------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = {
    "position-not-a-number-or-date": "cD1hYmM=",  # p=abc, the one from the issue
    "reverse-position-junk": _cursor("r=1&p=abc"),
    "position-nul": _cursor("p=\x00"),
    "position-impossible-date": _cursor("p=2026-13-45 25:61:00"),
    "position-nan": _cursor("p=NaN"),
    "position-beyond-bigint": _cursor("p=" + "9" * 30),
    "offset-negative": _cursor("o=-1"),
    "not-base64": "%%%",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("document", "path", "method"),
    [
        param
        for param in _operation_params(
            lambda op: any(p["name"] == "cursor" for p in op.get("parameters", []))
        )
        if param.values[2] == "get"
    ],
)
def test_forged_cursors_are_a_400_problem(
    api, shop_a: ShopContext, rows, document: str, path: str, method: str
) -> None:
    api.raise_request_exception = False
    operation = DOCUMENTS[document]["paths"][path][method]
    url = _url(path, operation.get("parameters", []), rows)
    callers = {"member": _credentials(shop_a, rows, path)}
    if _anonymous_allowed(operation):
        callers["anonymous"] = {}
    failures = []
    for caller, headers in callers.items():
        for name, cursor in FORGED_CURSORS.items():
            response = api.get(url, {"cursor": cursor}, HTTP_HOST=_host(document, shop_a), **headers)
            if response.status_code == 200 and isinstance(response.json(), list):
                continue  # not paginated after all (its document says otherwise): the cursor is ignored
            problem = response["Content-Type"] == PROBLEM_TYPE and response.json()
            if not (response.status_code == 400 and problem and "cursor" in problem.get("errors", {})):
                failures.append(f"{caller} {name}: {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)


# --- The cases the issue observed as 500s, with bodies that are otherwise valid ----------------


OBSERVED = {
    "nul-in-attribute-value": ("products", '"attributes": {"colour": "re\\u0000d"}', "attributes.colour"),
    "nul-in-attribute-key": ("products", '"attributes": {"col\\u0000our": "red"}', "attributes"),
    "surrogate-in-attribute-value": ("products", '"attributes": {"colour": "\\udc00"}', "attributes.colour"),
    "huge-number-in-attributes": ("products", '"attributes": {"weight": 1e400}', "attributes.weight"),
    "nul-in-option-key": ("products/{product_id}/variants", '"options": {"si\\u0000ze": "M"}', "options"),
    "nul-in-attribute-schema": (
        "categories",
        '"attribute_schema": {"description": "\\u0000"}',
        "attribute_schema.description",
    ),
    "surrogate-in-attribute-schema-key": (
        "categories",
        '"attribute_schema": {"properties": {"\\ud800": {}}}',
        "attribute_schema.properties",
    ),
}
VALID_BODIES = {
    "products": '"title": "Linen Shirt", "variants": [{"sku": "LINEN-1", "price": "10.00"}]',
    "products/{product_id}/variants": '"sku": "LINEN-2", "price": "10.00"',
    "categories": '"name": "Linen"',
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(OBSERVED))
def test_observed_unstorable_input_is_a_400_problem(api, shop_a: ShopContext, rows, name: str) -> None:
    api.raise_request_exception = False
    path, hostile, field = OBSERVED[name]
    body = "{" + VALID_BODIES[path] + ", " + hostile + "}"
    before = _fingerprint(shop_a)
    response = api.post(
        "/api/admin/v1/" + path.format(**rows),
        data=body.encode(),
        content_type="application/json",
        HTTP_HOST=shop_a.host,
        **_credentials(shop_a, rows, "/api/admin/"),
    )
    problem = assert_problem(response, 400)
    assert (problem["code"], list(problem["errors"])) == ("parse_error", [field])
    assert _fingerprint(shop_a) == before
    # The same body without the hostile member is accepted: the parser refused only that.
    plain = api.post(
        "/api/admin/v1/" + path.format(**rows),
        data=("{" + VALID_BODIES[path] + "}").encode(),
        content_type="application/json",
        HTTP_HOST=shop_a.host,
        **_credentials(shop_a, rows, "/api/admin/"),
    )
    assert plain.status_code == 201, plain.content


@pytest.mark.django_db
def test_forged_cursor_on_a_search_ordered_by_relevance(api, shop_a: ShopContext) -> None:
    """Relevance is an annotation, not a column: its cursor position is checked all the same."""
    api.raise_request_exception = False
    for cursor in ("cD1hYmM=", _cursor("p=NaN"), _cursor("p=\x00")):
        response = api.get(
            "/api/storefront/v1/products", {"q": "shirt", "cursor": cursor}, HTTP_HOST=shop_a.host
        )
        assert "cursor" in assert_problem(response, 400)["errors"]
    real = api.get(
        "/api/storefront/v1/products", {"q": "shirt", "cursor": _cursor("p=0.5")}, HTTP_HOST=shop_a.host
    )
    assert real.status_code == 200, real.content

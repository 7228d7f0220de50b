"""Webhook endpoints over the Admin API: CRUD, the secret shown once, bad input, SSRF, access."""

from __future__ import annotations

from typing import Any

import pytest

from tenants import services as tenant_services
from tenants.audit.models import AuditEntry
from tenants.models import ApiKey, Membership
from tenants.schemas import use_shop
from tenants.webhooks.models import WebhookEndpoint
from tests.catalog.helpers import AdminClient
from tests.conftest import ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://hooks.example.com/storefleet"


@pytest.fixture(autouse=True)
def _production_mode(settings) -> None:
    """Production rules: private and loopback URLs refused."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


@pytest.fixture
def admin(api, shop_a: ShopContext) -> AdminClient:
    return AdminClient(api, shop_a)


def endpoint_body(**overrides: Any) -> dict[str, Any]:
    return {"url": PUBLIC_URL, "events": ["order.paid", "product.updated"], **overrides}


def counts(ctx: ShopContext) -> tuple[int, int]:
    use_shop(ctx.shop)
    return WebhookEndpoint.objects.count(), AuditEntry.objects.count()


# --- CRUD and the secret ------------------------------------------------------------


def test_create_shows_the_secret_once(admin: AdminClient, shop_a: ShopContext) -> None:
    response = admin.post("webhooks", endpoint_body(description="ERP sync"))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["url"] == PUBLIC_URL
    assert created["events"] == ["order.paid", "product.updated"]
    assert created["is_active"] is True and created["description"] == "ERP sync"

    detail = admin.get(f"webhooks/{created['id']}").json()
    listed = admin.get("webhooks").json()
    assert "secret" not in detail
    assert [item["id"] for item in listed["results"]] == [created["id"]]
    assert all("secret" not in item for item in listed["results"])
    assert {key: detail[key] for key in detail} == {key: created[key] for key in detail}

    use_shop(shop_a.shop)
    (entry,) = AuditEntry.objects.filter(object_type="webhook_endpoint")
    assert entry.action == "webhook.created" and entry.actor_label == shop_a.owner.email
    assert created["secret"] not in str(entry.after)


def test_update_rotate_and_delete_are_audited(admin: AdminClient, shop_a: ShopContext) -> None:
    created = admin.post("webhooks", endpoint_body()).json()
    path = f"webhooks/{created['id']}"

    response = admin.patch(path, {"events": ["inventory.low", "inventory.low"], "is_active": False})
    assert response.status_code == 200, response.content
    assert response.json()["events"] == ["inventory.low"] and response.json()["is_active"] is False
    assert "secret" not in response.json()
    assert admin.patch(path, {}).status_code == 200  # nothing to change: fine, not audited

    rotated = admin.post(f"{path}/rotate-secret")
    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != created["secret"]
    use_shop(shop_a.shop)
    assert WebhookEndpoint.objects.get().secret == rotated.json()["secret"]

    assert admin.delete(path).status_code == 204
    assert_problem(admin.get(path), 404)
    assert_problem(admin.delete(path), 404)

    use_shop(shop_a.shop)
    entries = list(AuditEntry.objects.filter(object_type="webhook_endpoint").order_by("id"))
    assert [e.action for e in entries] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    assert entries[1].before["events"] == ["order.paid", "product.updated"]
    assert entries[1].after["events"] == ["inventory.low"]
    for entry in entries:
        assert "whsec_" not in str(entry.before) + str(entry.after)


def test_list_is_paginated_with_pinned_queries(
    admin: AdminClient, shop_a: ShopContext, django_assert_max_num_queries
) -> None:
    use_shop(shop_a.shop)
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(url=f"{PUBLIC_URL}/{n}", events=["order.paid"], secret="whsec_x") for n in range(25)
    )
    with django_assert_max_num_queries(8):
        page = admin.get("webhooks?limit=10").json()
    assert len(page["results"]) == 10 and page["next"]


def test_endpoint_limit(admin: AdminClient, settings) -> None:
    settings.WEBHOOK_MAX_ENDPOINTS = 2
    assert admin.post("webhooks", endpoint_body()).status_code == 201
    assert admin.post("webhooks", endpoint_body()).status_code == 201
    body = assert_problem(admin.post("webhooks", endpoint_body()), 409)
    assert body["code"] == "webhook_endpoint_limit"


# --- Bad input: a 4xx problem that changes nothing -----------------------------------

BAD_CREATE_BODIES = {
    "missing-url": {"events": ["order.paid"]},
    "missing-events": {"url": PUBLIC_URL},
    "url-number": endpoint_body(url=123),
    "url-null": endpoint_body(url=None),
    "url-list": endpoint_body(url=[PUBLIC_URL]),
    "url-empty": endpoint_body(url=""),
    "url-ftp": endpoint_body(url="ftp://hooks.example.com/x"),
    "url-javascript": endpoint_body(url="javascript:alert(1)"),
    "url-file": endpoint_body(url="file:///etc/passwd"),
    "url-gopher": endpoint_body(url="gopher://hooks.example.com:70/_x"),
    "url-no-scheme": endpoint_body(url="hooks.example.com/x"),
    "url-no-host": endpoint_body(url="https:///x"),
    "url-userinfo": endpoint_body(url="https://user:pw@hooks.example.com/"),
    "url-userinfo-trick": endpoint_body(url="https://hooks.example.com@127.0.0.1/"),
    "url-space": endpoint_body(url="https://hooks.exa mple.com/"),
    "url-bad-port": endpoint_body(url="https://hooks.example.com:99999/"),
    "url-port-zero": endpoint_body(url="https://hooks.example.com:0/"),
    "url-bad-ipv6": endpoint_body(url="https://[::1/"),
    "url-bad-host": endpoint_body(url="https://bad_host!.example.com/"),
    "url-unicode": endpoint_body(url="https://bücher.example/"),
    "url-nul": endpoint_body(url="https://hooks.example.com/\x00"),
    "url-too-long": endpoint_body(url=PUBLIC_URL + "/" + "a" * 2100),
    "events-empty": endpoint_body(events=[]),
    "events-unknown": endpoint_body(events=["order.exploded"]),
    "events-string": endpoint_body(events="order.paid"),
    "events-number": endpoint_body(events=[1]),
    "events-too-many": endpoint_body(events=["order.paid"] * 50),
    "description-number": endpoint_body(description=5),
    "description-too-long": endpoint_body(description="x" * 300),
    "is-active-string": endpoint_body(is_active="yes"),
    "is-active-number": endpoint_body(is_active=1),
    "body-list": [endpoint_body()],
    "body-string": "url",
}


@pytest.mark.parametrize("name", list(BAD_CREATE_BODIES))
def test_bad_create_input_is_refused_and_changes_nothing(
    admin: AdminClient, shop_a: ShopContext, name: str
) -> None:
    before = counts(shop_a)
    response = admin.post("webhooks", BAD_CREATE_BODIES[name])
    body = assert_problem(response, 400)
    assert body.get("errors"), body
    assert counts(shop_a) == before


BAD_UPDATE_BODIES = {
    "url-scheme": {"url": "ftp://hooks.example.com/"},
    "url-loopback": {"url": "http://127.0.0.1:8000/"},
    "url-number": {"url": 5},
    "events-unknown": {"events": ["nope"]},
    "events-empty": {"events": []},
    "is-active-null": {"is_active": None},
    "body-list": [],
}


@pytest.mark.parametrize("name", list(BAD_UPDATE_BODIES))
def test_bad_update_input_is_refused_and_changes_nothing(
    admin: AdminClient, shop_a: ShopContext, name: str
) -> None:
    created = admin.post("webhooks", endpoint_body()).json()
    before = counts(shop_a)
    assert_problem(admin.patch(f"webhooks/{created['id']}", BAD_UPDATE_BODIES[name]), 400)
    assert counts(shop_a) == before
    use_shop(shop_a.shop)
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.events, endpoint.is_active) == (PUBLIC_URL, created["events"], True)


def test_bad_paths_and_queries(admin: AdminClient, shop_a: ShopContext) -> None:
    created = admin.post("webhooks", endpoint_body()).json()
    before = counts(shop_a)
    unknown_delivery = "6f1c1a9e-3d5b-4f7a-9a51-0c7c2b8f1d11"
    assert_problem(admin.get("webhooks/999999"), 404)
    assert_problem(admin.get("webhooks/99999999999999999999"), 404)
    assert_problem(admin.patch("webhooks/999999", {"is_active": False}), 404)
    assert_problem(admin.delete("webhooks/999999"), 404)
    assert_problem(admin.post("webhooks/999999/rotate-secret"), 404)
    assert_problem(admin.get("webhooks/999999/deliveries"), 404)
    assert_problem(admin.get(f"webhooks/{created['id']}/deliveries/{unknown_delivery}"), 404)
    assert_problem(admin.get(f"webhooks/{created['id']}/deliveries/not-a-uuid"), 404)
    assert_problem(admin.post(f"webhooks/{created['id']}/deliveries/{unknown_delivery}/redeliver"), 404)
    assert_problem(admin.get(f"webhooks/{created['id']}/deliveries?status=lost"), 400)
    assert_problem(admin.get(f"webhooks/{created['id']}/deliveries?limit=0"), 400)
    assert_problem(admin.get(f"webhooks/{created['id']}/deliveries?cursor=%00"), 400)
    assert_problem(admin.get("webhooks?limit=%C2%B2"), 400)
    malformed = admin.api.post(
        "/api/admin/v1/webhooks", data=b'{"url": ', content_type="application/json", **admin.headers
    )
    assert_problem(malformed, 400)
    assert_problem(admin.api.put(f"/api/admin/v1/webhooks/{created['id']}", {}, **admin.headers), 405)
    assert counts(shop_a) == before


# --- SSRF -------------------------------------------------------------------------------

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.0.0.1:6379/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0:8000/",
    "http://localhost:8000/hook",
    "http://LOCALHOST./hook",
    "http://shop.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://224.0.0.1/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_and_loopback_urls_are_refused_in_production(
    admin: AdminClient, shop_a: ShopContext, url: str
) -> None:
    before = counts(shop_a)
    body = assert_problem(admin.post("webhooks", endpoint_body(url=url)), 400)
    assert body["code"] == "webhook_url_refused", body
    assert body["errors"]["url"]
    assert counts(shop_a) == before


def test_changing_the_url_is_checked_too(admin: AdminClient) -> None:
    created = admin.post("webhooks", endpoint_body()).json()
    body = assert_problem(admin.patch(f"webhooks/{created['id']}", {"url": "http://[::1]:9000/"}), 400)
    assert body["code"] == "webhook_url_refused"


def test_public_addresses_and_unresolved_names_are_accepted(admin: AdminClient) -> None:
    for url in ("https://93.184.215.14/hook", "http://[2606:4700::1111]:8443/x?y=1", PUBLIC_URL):
        assert admin.post("webhooks", endpoint_body(url=url)).status_code == 201, url


def test_local_development_allows_loopback_but_never_link_local(admin: AdminClient, settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    for url in ("http://127.0.0.1:9000/hook", "http://localhost:9000/", "http://[::1]/", "http://10.1.2.3/"):
        assert admin.post("webhooks", endpoint_body(url=url)).status_code == 201, url
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0/"):
        assert_problem(admin.post("webhooks", endpoint_body(url=url)), 400)


# --- Who may ------------------------------------------------------------------------------


def api_key(ctx: ShopContext, scopes: list[str]) -> str:
    _key, key = tenant_services.api_key_create(shop=ctx.shop, name="k", scopes=scopes, created_by=ctx.owner)
    return f"Api-Key {key}"


def test_api_keys_need_the_webhooks_scope_for_reads_and_writes(api, shop_a: ShopContext) -> None:
    writer = AdminClient(api, shop_a, api_key(shop_a, [ApiKey.Scope.WEBHOOKS_WRITE]))
    created = writer.post("webhooks", endpoint_body())
    assert created.status_code == 201, created.content
    assert writer.get("webhooks").status_code == 200
    assert writer.get(f"webhooks/{created.json()['id']}/deliveries").status_code == 200

    reader = AdminClient(
        api, shop_a, api_key(shop_a, [ApiKey.Scope.CATALOG_READ, ApiKey.Scope.CATALOG_WRITE, "orders:read"])
    )
    assert_problem(reader.get("webhooks"), 403)
    assert_problem(reader.post("webhooks", endpoint_body()), 403)
    assert_problem(reader.get(f"webhooks/{created.json()['id']}"), 403)


def test_only_owners_and_admins_among_members(api, shop_a: ShopContext) -> None:
    use_shop(shop_a.shop)
    staff, admin_user = make_user("staff@alpha.example"), make_user("admin@alpha.example")
    Membership.objects.create(user=staff, shop=shop_a.shop, role=Membership.Role.STAFF)
    Membership.objects.create(user=admin_user, shop=shop_a.shop, role=Membership.Role.ADMIN)
    as_staff = AdminClient(api, shop_a, bearer(shop_a.token(staff))["HTTP_AUTHORIZATION"])
    as_admin = AdminClient(api, shop_a, bearer(shop_a.token(admin_user))["HTTP_AUTHORIZATION"])
    assert_problem(as_staff.get("webhooks"), 403)
    assert_problem(as_staff.post("webhooks", endpoint_body()), 403)
    assert as_admin.post("webhooks", endpoint_body()).status_code == 201
    assert_problem(api.get("/api/admin/v1/webhooks", HTTP_HOST=shop_a.host), 401)


def test_shop_b_never_sees_shop_a_endpoints(api, shop_a: ShopContext, shop_b: ShopContext) -> None:
    in_a = AdminClient(api, shop_a).post("webhooks", endpoint_body()).json()
    as_b = AdminClient(api, shop_b)
    assert as_b.get("webhooks").json()["results"] == []
    assert_problem(as_b.get(f"webhooks/{in_a['id']}"), 404)
    assert_problem(as_b.patch(f"webhooks/{in_a['id']}", {"is_active": False}), 404)
    assert_problem(as_b.delete(f"webhooks/{in_a['id']}"), 404)
    assert_problem(as_b.post(f"webhooks/{in_a['id']}/rotate-secret"), 404)
    assert_problem(as_b.get(f"webhooks/{in_a['id']}/deliveries"), 404)
    # Shop A's credentials on shop B's host, and shop B's key, open nothing of A's.
    assert_problem(api.get("/api/admin/v1/webhooks", HTTP_HOST=shop_b.host, **bearer(shop_a.token())), 403)
    b_key = api_key(shop_b, [ApiKey.Scope.WEBHOOKS_WRITE])
    assert_problem(api.get("/api/admin/v1/webhooks", HTTP_HOST=shop_a.host, HTTP_AUTHORIZATION=b_key), 401)
    use_shop(shop_a.shop)
    assert WebhookEndpoint.objects.filter(is_active=True).count() == 1


def test_a_paused_endpoint_shows_its_pause_and_resumes_on_a_new_url_or_when_re_enabled(
    admin: AdminClient, shop_a: ShopContext
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    created = admin.post("webhooks", endpoint_body())
    endpoint_id = created.json()["id"]
    assert created.json()["paused_until"] is None and created.json()["consecutive_failures"] == 0

    def trip() -> str:
        use_shop(shop_a.shop)
        until = timezone.now() + timedelta(minutes=5)
        WebhookEndpoint.objects.filter(pk=endpoint_id).update(
            consecutive_failures=7, consecutive_pauses=2, paused_until=until
        )
        return until.isoformat().replace("+00:00", "Z")

    trip()
    shown = admin.get(f"webhooks/{endpoint_id}").json()
    assert shown["paused_until"] is not None and shown["consecutive_failures"] == 7
    # A description change leaves the breaker alone; a new URL resets it.
    assert admin.patch(f"webhooks/{endpoint_id}", {"description": "ERP"}).json()["paused_until"] is not None
    resumed = admin.patch(f"webhooks/{endpoint_id}", {"url": PUBLIC_URL + "/v2"}).json()
    assert resumed["paused_until"] is None and resumed["consecutive_failures"] == 0
    # So does switching it off and on again.
    trip()
    assert admin.patch(f"webhooks/{endpoint_id}", {"is_active": False}).json()["paused_until"] is not None
    again = admin.patch(f"webhooks/{endpoint_id}", {"is_active": True}).json()
    assert again["paused_until"] is None and again["consecutive_failures"] == 0

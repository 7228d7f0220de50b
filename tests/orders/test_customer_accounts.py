"""
Shopper accounts per shop (Storefront API `customer/...`): sign-up and e-mail
verification, sign-in tokens valid on that shop only, single-use refresh and
e-mailed links, saved addresses, order history with guest orders attached once
verified, re-order, and "find my order" that never tells whether an order exists.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import unquote

import jwt
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from billing import ratelimits
from orders.models import Customer, CustomerAddress, Order
from orders.tokens import customer_tokens_mint
from tenants.outbox.models import OutboxEvent
from tenants.schemas import use_public, use_shop
from tests.catalog.helpers import AdminClient
from tests.conftest import PLATFORM, ShopContext, assert_problem, bearer
from tests.orders.helpers import ADDRESS, cart_with, checkout, sellable_product, storefront

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SHOPPER = "ada@example.com"


@pytest.fixture(autouse=True)
def _generous_attempts(settings: Any) -> None:
    settings.AUTH_ATTEMPTS_PER_ACCOUNT = 1000
    settings.AUTH_ATTEMPTS_PER_ADDRESS = 1000


def _mails(to: str, subject_part: str) -> list[EmailMultiAlternatives]:
    return [m for m in mail.outbox if m.to == [to] and subject_part in m.subject]


def _link(message: EmailMultiAlternatives, path: str) -> str:
    """The token of the link to `path` in an e-mail (the plain-text body), checked in the HTML too."""
    match = re.search(rf"https?://[^/\s]+{re.escape(path)}\?token=([^\s&\"]+)", message.body)
    assert match, message.body
    html = str(message.alternatives[0][0])
    assert match.group(0).replace("&", "&amp;") in html or match.group(0) in html
    return unquote(match.group(1))


def signup(api, ctx: ShopContext, capture, email: str = SHOPPER, password: str = PASSWORD, **extra: Any):
    with capture(execute=True):
        return storefront(
            api,
            ctx,
            "post",
            "customer/signup",
            {"email": email, "password": password, "name": "Ada"},
            **extra,
        )


def sign_in(api, ctx: ShopContext, email: str = SHOPPER, password: str = PASSWORD) -> dict[str, str]:
    response = storefront(api, ctx, "post", "customer/token", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def account(api, ctx: ShopContext, capture, email: str = SHOPPER) -> dict[str, str]:
    assert signup(api, ctx, capture, email=email).status_code == 201
    return sign_in(api, ctx, email)


def as_customer(api, ctx: ShopContext, access: str, method: str, path: str, body: Any = None, **extra: Any):
    return storefront(api, ctx, method, path, body, **bearer(access), **extra)


def _verify(api, ctx: ShopContext, email: str = SHOPPER) -> None:
    (message,) = _mails(email, "Confirm your e-mail")
    response = storefront(
        api, ctx, "post", "customer/verify-email", {"token": _link(message, "/account/verify")}
    )
    assert response.status_code == 200, response.content


# --- sign-up, verification, sign-in -------------------------------------------------------------


def test_sign_up_sends_a_verification_link_that_works_once(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    response = signup(api, shop_a, django_capture_on_commit_callbacks, email="  Ada@Example.COM ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["name"], body["email_verified"]) == (SHOPPER, "Ada", False)
    assert "password" not in body

    (message,) = _mails(SHOPPER, "Confirm your e-mail")
    token = _link(message, "/account/verify")
    assert f"//{shop_a.host}" in message.body  # on the shop's own storefront
    verified = storefront(api, shop_a, "post", "customer/verify-email", {"token": token})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True

    again = storefront(api, shop_a, "post", "customer/verify-email", {"token": token})
    assert assert_problem(again, 400)["code"] == "customer_link_invalid"

    taken = signup(api, shop_a, django_capture_on_commit_callbacks, email=SHOPPER)
    assert assert_problem(taken, 409)["code"] == "customer_email_taken"


def test_a_weak_password_is_refused_and_nothing_is_made(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    response = signup(api, shop_a, django_capture_on_commit_callbacks, password="123")
    problem = assert_problem(response, 400)
    assert problem["code"] == "customer_password_weak" and problem["errors"]["password"]
    use_shop(shop_a.shop)
    assert not Customer.objects.exists()
    assert not mail.outbox


def test_sign_in_me_and_a_refresh_token_that_works_once(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    me = as_customer(api, shop_a, pair["access"], "get", "customer/me")
    assert me.status_code == 200 and me.json()["email"] == SHOPPER

    renamed = as_customer(api, shop_a, pair["access"], "patch", "customer/me", {"name": "Ada L."})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Ada L."
    unknown_field_only = as_customer(api, shop_a, pair["access"], "patch", "customer/me", {"email": "x@y.z"})
    assert unknown_field_only.status_code == 200 and unknown_field_only.json()["email"] == SHOPPER

    refreshed = storefront(api, shop_a, "post", "customer/token/refresh", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 200, refreshed.content
    assert as_customer(api, shop_a, refreshed.json()["access"], "get", "customer/me").status_code == 200
    reused = storefront(api, shop_a, "post", "customer/token/refresh", {"refresh": pair["refresh"]})
    assert assert_problem(reused, 401)["code"] == "token_not_valid"
    # An access token is not a refresh token, nor the other way round.
    swapped = storefront(api, shop_a, "post", "customer/token/refresh", {"refresh": pair["access"]})
    assert_problem(swapped, 401)
    assert_problem(as_customer(api, shop_a, refreshed.json()["refresh"], "get", "customer/me"), 401)


def test_wrong_password_and_unknown_account_answer_alike(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    account(api, shop_a, django_capture_on_commit_callbacks)
    wrong = storefront(api, shop_a, "post", "customer/token", {"email": SHOPPER, "password": "nope nope"})
    unknown = storefront(api, shop_a, "post", "customer/token", {"email": "nobody@x.io", "password": "nope"})
    assert assert_problem(wrong, 401) == assert_problem(unknown, 401)
    assert wrong["WWW-Authenticate"] == unknown["WWW-Authenticate"] == 'Bearer realm="customer"'
    assert assert_problem(wrong, 401)["code"] == "no_active_account"


def test_a_guest_customer_without_password_cannot_sign_in(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    _guest_order(api, shop_a, django_capture_on_commit_callbacks)
    response = storefront(api, shop_a, "post", "customer/token", {"email": SHOPPER, "password": ""})
    assert response.status_code in (400, 401)


# --- one shop's tokens are that shop's only -------------------------------------------------------


def test_a_customer_token_works_only_on_its_shop_and_only_for_customer_endpoints(
    api, shop_a: ShopContext, shop_b: ShopContext, django_capture_on_commit_callbacks
) -> None:
    in_a = account(api, shop_a, django_capture_on_commit_callbacks)
    # The same e-mail is a separate customer of shop B, with its own password.
    assert (
        signup(
            api, shop_b, django_capture_on_commit_callbacks, password="another fine passphrase"
        ).status_code
        == 201
    )
    wrong_shop_password = storefront(
        api, shop_b, "post", "customer/token", {"email": SHOPPER, "password": PASSWORD}
    )
    assert_problem(wrong_shop_password, 401)
    in_b = sign_in(api, shop_b, password="another fine passphrase")

    assert_problem(as_customer(api, shop_b, in_a["access"], "get", "customer/me"), 401)
    assert_problem(as_customer(api, shop_a, in_b["access"], "get", "customer/me"), 401)
    assert_problem(
        storefront(api, shop_b, "post", "customer/token/refresh", {"refresh": in_a["refresh"]}), 401
    )
    # Not a member's token: refused by the Admin API and the Platform API.
    admin = api.get("/api/admin/v1/orders", HTTP_HOST=shop_a.host, **bearer(in_a["access"]))
    assert admin.status_code in (401, 403), admin.content
    platform = api.get("/api/platform/v1/me", **PLATFORM, **bearer(in_a["access"]))
    assert_problem(platform, 401)
    # And a platform user's token (the shop owner's) is no customer token.
    assert_problem(as_customer(api, shop_a, shop_a.token(), "get", "customer/me"), 401)
    # A checkout with a token that is not valid here places nothing.
    variant = sellable_product(AdminClient(api, shop_a))["variants"][0]["id"]
    cart_id = cart_with(api, shop_a, variant)
    refused = checkout(api, shop_a, cart_id, headers=bearer(in_b["access"]))
    assert_problem(refused, 401)
    use_shop(shop_a.shop)
    assert not Order.objects.exists()


def test_forged_and_expired_access_tokens_are_refused(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    claims = jwt.decode(pair["access"], options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "sub": "1"}, "a guessed key that is long enough for HS256", algorithm="HS256"
    )
    none_alg = jwt.encode(claims, None, algorithm="none") if hasattr(jwt, "encode") else forged
    use_shop(shop_a.shop)
    customer = Customer.objects.get(email=SHOPPER)
    expired = customer_tokens_mint(customer, now=_ago(days=40)).access
    use_public()
    for token in (forged, none_alg, expired, "x", "a.b.c", "\u00e9" * 50, "A" * 5000):
        assert_problem(as_customer(api, shop_a, token, "get", "customer/me"), 401)
    assert_problem(storefront(api, shop_a, "get", "customer/me"), 401)
    assert_problem(storefront(api, shop_a, "get", "customer/me", HTTP_AUTHORIZATION="Bearer"), 401)
    assert_problem(storefront(api, shop_a, "get", "customer/me", HTTP_AUTHORIZATION="Basic abc"), 401)


def _ago(**delta: int) -> Any:
    import datetime as dt

    from django.utils import timezone

    return timezone.now() - dt.timedelta(**delta)


# --- order history: guest orders attach once verified; signed-in checkout links -------------------


def _guest_order(api, ctx: ShopContext, capture, email: str = SHOPPER, stock: int = 10) -> tuple[int, int]:
    variant = sellable_product(AdminClient(api, ctx), stock=stock)["variants"][0]["id"]
    cart_id = cart_with(api, ctx, variant, 2)
    with capture(execute=True):
        response = checkout(api, ctx, cart_id, email=email)
    assert response.status_code == 201, response.content
    return int(response.json()["number"]), variant


def test_guest_orders_attach_to_the_account_once_its_email_is_verified(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    guest_number, variant = _guest_order(api, shop_a, django_capture_on_commit_callbacks)
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    orders = as_customer(api, shop_a, pair["access"], "get", "customer/orders")
    assert orders.status_code == 200 and orders.json()["results"] == []  # not verified: not yet theirs

    cart_id = cart_with(api, shop_a, variant)
    with django_capture_on_commit_callbacks(execute=True):
        placed = checkout(api, shop_a, cart_id, email="gift@example.com", headers=bearer(pair["access"]))
    assert placed.status_code == 201, placed.content
    signed_in_number = placed.json()["number"]
    listed = as_customer(api, shop_a, pair["access"], "get", "customer/orders").json()["results"]
    assert [o["number"] for o in listed] == [signed_in_number]

    _verify(api, shop_a)
    listed = as_customer(api, shop_a, pair["access"], "get", "customer/orders").json()["results"]
    assert [o["number"] for o in listed] == [signed_in_number, guest_number]
    use_shop(shop_a.shop)
    customer = Customer.objects.get(email=SHOPPER)
    assert customer.orders_count == 2 and customer.name == "Ada"  # the account's name stays its own


def test_another_customers_orders_stay_out_of_the_account(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    _guest_order(api, shop_a, django_capture_on_commit_callbacks, email="grace@example.com")
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    _verify(api, shop_a)
    assert as_customer(api, shop_a, pair["access"], "get", "customer/orders").json()["results"] == []
    reorder = as_customer(api, shop_a, pair["access"], "post", "customer/orders/1001/reorder", {})
    assert assert_problem(reorder, 404)["code"] == "order_not_found"


# --- saved addresses ---------------------------------------------------------------------------------


def test_saved_addresses_with_one_default(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    other = account(api, shop_a, django_capture_on_commit_callbacks, email="grace@example.com")

    def call(method: str, path: str, body: Any = None, who: dict[str, str] = pair):
        return as_customer(api, shop_a, who["access"], method, path, body)

    first = call("post", "customer/addresses", ADDRESS)
    assert first.status_code == 201 and first.json()["is_default"] is True
    second = call(
        "post", "customer/addresses", {**ADDRESS, "city": "Paris", "country": "FR", "is_default": True}
    )
    assert second.json()["is_default"] is True
    listed = call("get", "customer/addresses").json()
    assert [(a["city"], a["is_default"]) for a in listed] == [("London", False), ("Paris", True)]

    changed = call(
        "patch", f"customer/addresses/{first.json()['id']}", {"line2": "Flat 2", "is_default": True}
    )
    assert changed.status_code == 200 and changed.json()["line2"] == "Flat 2"
    assert [a["is_default"] for a in call("get", "customer/addresses").json()] == [True, False]
    bad = call("patch", f"customer/addresses/{first.json()['id']}", {"country": "France"})
    assert assert_problem(bad, 400)["code"] == "validation_failed"

    # Another customer cannot see, change or delete them.
    for method in ("patch", "delete"):
        refused = call(method, f"customer/addresses/{first.json()['id']}", {"city": "X"}, who=other)
        assert assert_problem(refused, 404)["code"] == "customer_address_not_found"
    assert call("get", "customer/addresses", who=other).json() == []
    assert_problem(call("delete", f"customer/addresses/{2**70}"), 404)

    assert call("delete", f"customer/addresses/{first.json()['id']}").status_code == 204
    assert [(a["city"], a["is_default"]) for a in call("get", "customer/addresses").json()] == [
        ("Paris", True)
    ]


def test_the_number_of_saved_addresses_is_bounded(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    use_shop(shop_a.shop)
    customer = Customer.objects.get(email=SHOPPER)
    CustomerAddress.objects.bulk_create([CustomerAddress(customer=customer, **ADDRESS) for _ in range(20)])
    use_public()
    refused = as_customer(api, shop_a, pair["access"], "post", "customer/addresses", ADDRESS)
    assert assert_problem(refused, 409)["code"] == "customer_address_limit"


# --- re-order ---------------------------------------------------------------------------------------


def test_reorder_puts_the_lines_back_into_a_cart_and_names_what_cannot_go_back(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    admin = AdminClient(api, shop_a)
    mug = sellable_product(admin, stock=10, title="Mug")
    plate = sellable_product(admin, stock=1, title="Plate")
    cart_id = cart_with(api, shop_a, mug["variants"][0]["id"], 2)
    storefront(
        api, shop_a, "post", f"carts/{cart_id}/items", {"variant": plate["variants"][0]["id"], "quantity": 1}
    )
    with django_capture_on_commit_callbacks(execute=True):
        placed = checkout(api, shop_a, cart_id, headers=bearer(pair["access"]))
    number = placed.json()["number"]

    response = as_customer(api, shop_a, pair["access"], "post", f"customer/orders/{number}/reorder", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(line["title"], line["quantity"]) for line in body["cart"]["lines"]] == [("Mug", 2)]
    assert body["unavailable"] == [plate["variants"][0]["sku"]]  # the plate sold out
    # Into an existing cart: adds to it.
    again = as_customer(
        api, shop_a, pair["access"], "post", f"customer/orders/{number}/reorder", {"cart": body["cart"]["id"]}
    )
    assert again.json()["cart"]["id"] == body["cart"]["id"]
    assert again.json()["cart"]["lines"][0]["quantity"] == 4
    unknown_cart = as_customer(
        api, shop_a, pair["access"], "post", f"customer/orders/{number}/reorder", {"cart": "0" * 32}
    )
    assert assert_problem(unknown_cart, 404)["code"] == "cart_not_found"
    assert_problem(
        as_customer(api, shop_a, pair["access"], "post", f"customer/orders/{2**70}/reorder", {}), 404
    )


# --- password reset ------------------------------------------------------------------------------------


def test_password_reset_is_202_either_way_and_its_link_works_once(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        known = storefront(api, shop_a, "post", "customer/password-reset", {"email": "ADA@example.com"})
        unknown = storefront(api, shop_a, "post", "customer/password-reset", {"email": "nobody@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, b"")
    assert [m.to for m in mail.outbox] == [[SHOPPER]]
    token = _link(mail.outbox[0], "/account/reset")

    weak = storefront(
        api, shop_a, "post", "customer/password-reset/confirm", {"token": token, "password": "1"}
    )
    assert assert_problem(weak, 400)["code"] == "customer_password_weak"
    new_password = "a brand new passphrase"
    done = storefront(
        api, shop_a, "post", "customer/password-reset/confirm", {"token": token, "password": new_password}
    )
    assert done.status_code == 200 and done.json()["email_verified"] is True  # the link reached the inbox
    reused = storefront(
        api,
        shop_a,
        "post",
        "customer/password-reset/confirm",
        {"token": token, "password": "yet another one!"},
    )
    assert assert_problem(reused, 400)["code"] == "customer_link_invalid"
    # Every session from before is over; the new password signs in.
    assert_problem(as_customer(api, shop_a, pair["access"], "get", "customer/me"), 401)
    assert_problem(
        storefront(api, shop_a, "post", "customer/token/refresh", {"refresh": pair["refresh"]}), 401
    )
    assert_problem(
        storefront(api, shop_a, "post", "customer/token", {"email": SHOPPER, "password": PASSWORD}), 401
    )
    assert sign_in(api, shop_a, password=new_password)["access"]


def test_forged_expired_and_other_shops_reset_links_are_refused(
    api, shop_a: ShopContext, shop_b: ShopContext, django_capture_on_commit_callbacks, settings
) -> None:
    account(api, shop_a, django_capture_on_commit_callbacks)
    account(api, shop_b, django_capture_on_commit_callbacks)
    verification = next(m for m in _mails(SHOPPER, "Confirm your e-mail") if shop_a.host in m.body)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        storefront(api, shop_b, "post", "customer/password-reset", {"email": SHOPPER})
    token_of_b = _link(mail.outbox[0], "/account/reset")

    def confirm(ctx: ShopContext, token: str):
        return storefront(
            api,
            ctx,
            "post",
            "customer/password-reset/confirm",
            {"token": token, "password": "a fine new phrase"},
        )

    for token in (token_of_b, "x", token_of_b[:-3] + "abc", "\u00e9" * 40, "a:b:c"):
        assert assert_problem(confirm(shop_a, token), 400)["code"] == "customer_link_invalid", token
    # A verification link is no reset link.
    assert_problem(confirm(shop_a, _link(verification, "/account/verify")), 400)
    huge = confirm(shop_a, "x" * 10_000)
    assert assert_problem(huge, 400)["code"] == "validation_failed"

    settings.CUSTOMER_RESET_LINK_HOURS = 0
    time.sleep(1.1)
    expired = confirm(shop_b, token_of_b)
    problem = assert_problem(expired, 400)
    assert problem["code"] == "customer_link_invalid" and "expired" in str(problem["detail"])


def test_customer_sign_in_is_throttled_like_the_platform_login(
    api, shop_a: ShopContext, shop_b: ShopContext, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from tests.tenants.test_sign_in import HeldClock

    assert signup(api, shop_a, django_capture_on_commit_callbacks).status_code == 201
    settings.AUTH_ATTEMPTS_PER_ACCOUNT = 3
    settings.AUTH_ATTEMPTS_PER_ADDRESS = 100
    monkeypatch.setattr(ratelimits, "time", HeldClock(settings.AUTH_ATTEMPT_WINDOW_SECONDS))
    body = {"email": SHOPPER, "password": "wrong guess"}
    codes = [storefront(api, shop_a, "post", "customer/token", body).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    refused = storefront(api, shop_a, "post", "customer/token", {"email": SHOPPER, "password": PASSWORD})
    assert assert_problem(refused, 429)["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    # Counted per shop: the same e-mail in shop B has its own budget.
    assert storefront(api, shop_b, "post", "customer/token", body).status_code == 401
    # "Find my order" and password resets spend the same kind of budget.
    for path, payload in (
        ("orders/lookup", {"email": SHOPPER, "number": 1001}),
        ("customer/password-reset", {"email": SHOPPER}),
    ):
        answers = [storefront(api, shop_a, "post", path, payload).status_code for _ in range(4)]
        assert answers == [202, 202, 202, 429], (path, answers)


# --- the order's link, and "find my order" ----------------------------------------------------------


def test_confirmation_email_links_to_the_order_page_and_the_link_opens_it(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    number, _ = _guest_order(api, shop_a, django_capture_on_commit_callbacks)
    (confirmation,) = _mails(SHOPPER, f"Your order #{number}")
    token = _link(confirmation, f"/orders/{number}")
    opened = storefront(api, shop_a, "get", f"orders/{number}?token={token}")
    assert opened.status_code == 200 and opened.json()["number"] == number
    # Bound to the order and the shop.
    assert_problem(storefront(api, shop_a, "get", f"orders/{number + 1}?token={token}"), 404)
    assert_problem(storefront(api, shop_a, "get", f"orders/{number}?token={token[:-2]}xx"), 404)
    for hostile in ("\u00e9" * 40, "x" * 100, "%00", "%ED%A0%80", "x" * 101):
        response = storefront(api, shop_a, "get", f"orders/{number}?token={hostile}")
        assert assert_problem(response, response.status_code)["code"] in (
            "order_not_found",
            "validation_failed",
        )


def test_order_link_of_one_shop_opens_nothing_in_another(
    api, shop_a: ShopContext, shop_b: ShopContext, django_capture_on_commit_callbacks
) -> None:
    number_a, _ = _guest_order(api, shop_a, django_capture_on_commit_callbacks)
    number_b, _ = _guest_order(api, shop_b, django_capture_on_commit_callbacks)
    assert number_a == number_b  # both shops' first order
    (confirmation_a,) = [m for m in _mails(SHOPPER, f"Your order #{number_a}") if shop_a.host in m.body]
    token_a = _link(confirmation_a, f"/orders/{number_a}")
    assert_problem(storefront(api, shop_b, "get", f"orders/{number_b}?token={token_a}"), 404)


def test_find_my_order_answers_alike_and_mails_only_on_a_match(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    number, _ = _guest_order(api, shop_a, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for email, asked in (
            ("grace@example.com", number),  # wrong e-mail
            (SHOPPER, number + 7),  # no such order
            ("ada@b\u00fccher.example", number),  # not ASCII: compared as bytes, no match
            ("ADA@example.com ", number),  # the match (any case)
        ):
            response = storefront(api, shop_a, "post", "orders/lookup", {"email": email, "number": asked})
            answers.append((response.status_code, response.content, sorted(response.headers)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202
    (message,) = mail.outbox
    assert message.to == [SHOPPER] and f"#{number}" in message.subject
    token = _link(message, f"/orders/{number}")
    assert storefront(api, shop_a, "get", f"orders/{number}?token={token}").status_code == 200
    # Every request wrote the same kind of event, matched or not: the worker told them apart.
    use_shop(shop_a.shop)
    events = OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name, type="order.link_requested")
    assert events.count() == 4


@pytest.mark.parametrize(
    "body",
    [
        {"email": SHOPPER},
        {"email": SHOPPER, "number": 2**70},
        {"email": SHOPPER, "number": "1001; DROP"},
        {"email": "not an e-mail", "number": 1001},
        {"email": "a" * 300 + "@example.com", "number": 1001},
        {"email": SHOPPER, "number": 0},
        [],
        "text",
    ],
)
def test_find_my_order_refuses_bad_input(api, shop_a: ShopContext, body: Any) -> None:
    response = storefront(api, shop_a, "post", "orders/lookup", body)
    assert assert_problem(response, 400)["code"] in ("validation_failed", "parse_error", "invalid")
    use_shop(shop_a.shop)
    assert not OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name).exists()
    use_public()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("customer/signup", {"email": SHOPPER, "password": "x" * 10_000, "name": "Ada"}),
        ("customer/signup", {"email": SHOPPER, "password": PASSWORD, "name": "A" * 10_000}),
        ("customer/signup", {"email": SHOPPER, "password": 12345678, "name": "Ada"}),
        ("customer/signup", {"email": ["x"], "password": PASSWORD}),
        ("customer/token", {"email": SHOPPER, "password": None}),
        ("customer/token", {"email": SHOPPER, "password": "x" * 10_000}),
        ("customer/token/refresh", {"refresh": "x" * 10_000}),
        ("customer/token/refresh", {"refresh": 5}),
        ("customer/verify-email", {"token": {"a": 1}}),
        ("customer/password-reset", {"email": "x" * 300}),
        ("customer/password-reset/confirm", {"token": "t", "password": ["p"]}),
    ],
)
def test_account_endpoints_refuse_bad_input_and_change_nothing(
    api, shop_a: ShopContext, path: str, body: Any
) -> None:
    response = storefront(api, shop_a, "post", path, body)
    assert assert_problem(response, 400)["code"] == "validation_failed", response.content
    use_shop(shop_a.shop)
    assert not Customer.objects.exists()
    use_shop(shop_a.shop)
    assert not OutboxEvent.objects.filter(schema_name=shop_a.shop.schema_name).exists()
    use_public()


def test_signed_in_endpoints_refuse_bad_input(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    pair = account(api, shop_a, django_capture_on_commit_callbacks)
    cases = [
        ("patch", "customer/me", {"name": "A" * 10_000}),
        ("patch", "customer/me", {"name": 5}),
        ("post", "customer/addresses", {**ADDRESS, "country": "gb"}),
        ("post", "customer/addresses", {**ADDRESS, "name": "x" * 10_000}),
        ("post", "customer/addresses", {**ADDRESS, "is_default": "yes"}),
        ("post", "customer/orders/1001/reorder", {"cart": "not-a-cart"}),
    ]
    for method, path, body in cases:
        response = as_customer(api, shop_a, pair["access"], method, path, body)
        assert assert_problem(response, 400)["code"] == "validation_failed", (path, response.content)
    use_shop(shop_a.shop)
    assert not CustomerAddress.objects.exists()
    assert Customer.objects.get().name == "Ada"


def test_plain_options_on_customer_endpoints(api, shop_a: ShopContext) -> None:
    signed_in_only = ("customer/me", "customer/addresses", "customer/logout", "customer/email-change")
    for path in (
        "customer/signup",
        "customer/token",
        "customer/email-change/confirm",
        "orders/lookup",
        *signed_in_only,
    ):
        response = api.options(f"/api/storefront/v1/{path}", HTTP_HOST=shop_a.host)
        if path in signed_in_only:
            assert_problem(response, 401)
        else:
            assert response.status_code == 200 and "POST" in response["Allow"], (path, response.content)


def test_an_unknown_idempotency_principal_never_mixes_customers_and_members(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    """A signed-in customer's Idempotency-Keys live apart from a platform user's of the same id."""
    from tenants.conventions.idempotency import request_principal

    use_shop(shop_a.shop)
    customer = Customer(pk=shop_a.owner.pk, email=SHOPPER)

    class _Request:
        auth = None

        def __init__(self, user: Any) -> None:
            self.user = user

    assert request_principal(_Request(customer)) == f"customer:{customer.pk}"
    assert request_principal(_Request(shop_a.owner)) == f"user:{shop_a.owner.pk}"


def test_an_unused_uuid_is_not_a_token(api, shop_a: ShopContext) -> None:
    assert_problem(
        storefront(api, shop_a, "post", "customer/verify-email", {"token": str(uuid.uuid4())}), 400
    )


# --- e-mail change and signing out ----------------------------------------------------------

NEW_EMAIL = "ada.lovelace@example.com"


def _email_change(api, ctx: ShopContext, capture, access: str, body: Any):
    with capture(execute=True):
        return as_customer(api, ctx, access, "post", "customer/email-change", body)


def _email_change_confirm(api, ctx: ShopContext, capture, token: str):
    with capture(execute=True):
        return storefront(api, ctx, "post", "customer/email-change/confirm", {"token": token})


def test_email_change_by_a_link_to_the_new_address_that_works_once(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    pair = account(api, shop_a, capture)
    mail.outbox.clear()
    asked = _email_change(
        api, shop_a, capture, pair["access"], {"email": NEW_EMAIL.upper(), "password": PASSWORD}
    )
    assert asked.status_code == 202, asked.content
    assert [m.to for m in mail.outbox] == [[NEW_EMAIL]]  # the link goes to the new address only
    token = _link(mail.outbox[0], "/account/email")
    use_shop(shop_a.shop)
    assert Customer.objects.get().email == SHOPPER  # nothing moves before the link is followed

    mail.outbox.clear()
    done = _email_change_confirm(api, shop_a, capture, token)
    assert done.status_code == 200, done.content
    assert done.json()["email"] == NEW_EMAIL and done.json()["email_verified"] is True
    notice = _mails(SHOPPER, "was changed")
    assert len(notice) == 1 and NEW_EMAIL in notice[0].body  # the old address is told
    # Used once: the same link (or a copy) changes nothing again.
    reused = _email_change_confirm(api, shop_a, capture, token)
    assert assert_problem(reused, 400)["code"] == "customer_link_invalid"
    # The session goes on; the new e-mail signs in, the old one does not.
    assert as_customer(api, shop_a, pair["access"], "get", "customer/me").json()["email"] == NEW_EMAIL
    assert sign_in(api, shop_a, email=NEW_EMAIL)["access"]
    assert_problem(
        storefront(api, shop_a, "post", "customer/token", {"email": SHOPPER, "password": PASSWORD}), 401
    )
    use_shop(shop_a.shop)
    assert OutboxEvent.objects.filter(type="customer.email_changed").count() == 1


def test_email_change_refusals_change_nothing(
    api, shop_a: ShopContext, shop_b: ShopContext, django_capture_on_commit_callbacks, settings
) -> None:
    capture = django_capture_on_commit_callbacks
    pair = account(api, shop_a, capture)
    account(api, shop_a, capture, email="grace@example.com")
    pair_b = account(api, shop_b, capture)
    verification = next(m for m in _mails(SHOPPER, "Confirm your e-mail") if shop_a.host in m.body)
    mail.outbox.clear()

    def ask(body: Any, access: str = pair["access"], ctx: ShopContext = shop_a):
        return _email_change(api, ctx, capture, access, body)

    assert assert_problem(ask({"email": NEW_EMAIL, "password": "wrong"}), 400)["code"] == "password_incorrect"
    assert assert_problem(ask({"email": "grace@example.com", "password": PASSWORD}), 409)["code"] == (
        "customer_email_taken"
    )
    assert_problem(ask({"email": SHOPPER, "password": PASSWORD}), 400)
    for body in (
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "x" * 300 + "@example.com", "password": PASSWORD},
        {"email": NEW_EMAIL},
        {"email": NEW_EMAIL, "password": 12},
        [NEW_EMAIL],
    ):
        assert_problem(ask(body), 400)
    for raw in (
        b'{"email": "ada\\u0000@example.com", "password": "x"}',
        b'{"email": "\\ud800@example.com", "password": "x"}',
        b'{"email": "a@example.com", "password": "\\udfff"}',
    ):
        response = api.generic(
            "POST",
            "/api/storefront/v1/customer/email-change",
            raw,
            content_type="application/json",
            HTTP_HOST=shop_a.host,
            **bearer(pair["access"]),
        )
        assert_problem(response, 400)
    # Signed out, or signed in to another shop: 401.
    assert_problem(
        storefront(api, shop_a, "post", "customer/email-change", {"email": NEW_EMAIL, "password": PASSWORD}),
        401,
    )
    assert_problem(ask({"email": NEW_EMAIL, "password": PASSWORD}, access=pair_b["access"]), 401)
    assert mail.outbox == []
    use_shop(shop_a.shop)
    assert not OutboxEvent.objects.filter(type="customer.email_change_requested").exists()

    # A link of shop B, a forged, a huge and an expired link change nothing in shop A.
    assert (
        ask({"email": NEW_EMAIL, "password": PASSWORD}, access=pair_b["access"], ctx=shop_b).status_code
        == 202
    )
    token_of_b = _link(_mails(NEW_EMAIL, "Confirm your new e-mail")[0], "/account/email")
    for token in (token_of_b, "x", token_of_b[:-3] + "abc", "\u00e9" * 40):
        assert assert_problem(_email_change_confirm(api, shop_a, capture, token), 400)["code"] == (
            "customer_link_invalid"
        )
    assert assert_problem(_email_change_confirm(api, shop_a, capture, "x" * 10_000), 400)["code"] == (
        "validation_failed"
    )
    # A verification link is no e-mail-change link.
    assert_problem(_email_change_confirm(api, shop_a, capture, _link(verification, "/account/verify")), 400)
    settings.CUSTOMER_EMAIL_CHANGE_LINK_HOURS = 0
    time.sleep(1.1)
    expired = assert_problem(_email_change_confirm(api, shop_b, capture, token_of_b), 400)
    assert "expired" in str(expired["detail"])
    use_shop(shop_a.shop)
    assert (
        Customer.objects.filter(email=SHOPPER).exists()
        and not Customer.objects.filter(email=NEW_EMAIL).exists()
    )
    use_shop(shop_b.shop)
    assert Customer.objects.get().email == SHOPPER


def test_email_taken_meanwhile_and_a_password_reset_end_a_pending_change(
    api, shop_a: ShopContext, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    pair = account(api, shop_a, capture)
    mail.outbox.clear()
    _email_change(api, shop_a, capture, pair["access"], {"email": NEW_EMAIL, "password": PASSWORD})
    token = _link(mail.outbox[0], "/account/email")
    account(api, shop_a, capture, email=NEW_EMAIL)  # someone signs up with it meanwhile
    assert (
        assert_problem(_email_change_confirm(api, shop_a, capture, token), 409)["code"]
        == "customer_email_taken"
    )
    _email_change(api, shop_a, capture, pair["access"], {"email": "third@example.com", "password": PASSWORD})
    pending = _link(_mails("third@example.com", "Confirm your new e-mail")[0], "/account/email")
    with capture(execute=True):
        storefront(api, shop_a, "post", "customer/password-reset", {"email": SHOPPER})
    reset = _link(_mails(SHOPPER, "Reset your password")[-1], "/account/reset")
    storefront(
        api,
        shop_a,
        "post",
        "customer/password-reset/confirm",
        {"token": reset, "password": "a fine new phrase"},
    )
    assert (
        assert_problem(_email_change_confirm(api, shop_a, capture, pending), 400)["code"]
        == "customer_link_invalid"
    )


def test_logout_refuses_every_token_of_the_customer_in_every_process(
    api, shop_a: ShopContext, shop_b: ShopContext, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    first = account(api, shop_a, capture)
    second = sign_in(api, shop_a)  # another device
    other_shop = account(api, shop_b, capture)
    # Another shop's token signs nobody out here.
    assert_problem(as_customer(api, shop_a, other_shop["access"], "post", "customer/logout"), 401)
    assert_problem(storefront(api, shop_a, "post", "customer/logout"), 401)
    assert_problem(
        as_customer(api, shop_a, first["refresh"], "post", "customer/logout"), 401
    )  # not an access token
    assert as_customer(api, shop_a, second["access"], "get", "customer/me").status_code == 200

    out = as_customer(api, shop_a, first["access"], "post", "customer/logout")
    assert out.status_code == 204 and out.content == b""
    for pair in (first, second):
        assert_problem(as_customer(api, shop_a, pair["access"], "get", "customer/me"), 401)
        assert_problem(
            storefront(api, shop_a, "post", "customer/token/refresh", {"refresh": pair["refresh"]}), 401
        )
    assert_problem(as_customer(api, shop_a, first["access"], "post", "customer/logout"), 401)  # used up
    # The customer of the same e-mail in shop B is still signed in; signing in again works.
    still = as_customer(api, shop_b, other_shop["access"], "get", "customer/me")
    assert still.status_code == 200, still.content
    again = sign_in(api, shop_a)
    assert as_customer(api, shop_a, again["access"], "get", "customer/me").status_code == 200

"""
Platform accounts by e-mailed link (tenants.accounts): password reset, e-mail
change, staff invitations. The e-mails go through the outbox (public schema) and
tenants.mail; here the outbox is dispatched in-process and mail is kept in
memory (tests/tenants/test_account_emails.py runs a real worker).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from billing.models import Plan, Subscription
from tenants.models import Invitation, Membership, PlatformEmail, User
from tenants.outbox.models import OutboxEvent
from tenants.outbox.services import events_dispatch
from tests.conftest import PASSWORD, PLATFORM, ShopContext, assert_problem, bearer, make_user

pytestmark = pytest.mark.django_db

V1 = "/api/platform/v1"
RESET = f"{V1}/auth/password-reset"
RESET_CONFIRM = f"{V1}/auth/password-reset/confirm"
EMAIL_CHANGE = f"{V1}/auth/email-change"
EMAIL_CONFIRM = f"{V1}/auth/email-change/confirm"
ACCEPT = f"{V1}/invitations/accept"
NEW_PASSWORD = "another-long-passphrase-42"


def invitations(slug: str) -> str:
    return f"{V1}/shops/{slug}/invitations"


def post(api: Any, path: str, body: object, token: str | None = None, **extra: Any) -> Any:
    headers = bearer(token) if token else {}
    return api.post(path, body, format="json", **PLATFORM, **headers, **extra)


def dispatched() -> list[Any]:
    """Run the public schema's pending events (the worker's job) and return the e-mails sent."""
    mail.outbox.clear()
    events_dispatch()
    return list(mail.outbox)


def link_token(message: Any, page: str) -> str:
    (link,) = re.findall(r"https?://\S+/app/" + page + r"\?token=\S+", message.body)
    html = message.alternatives[0][0]
    assert link.replace("&", "&amp;") in html or link in html
    return parse_qs(urlparse(link).query)["token"][0]


def sign_in(api: Any, email: str, password: str) -> Any:
    return post(api, f"{V1}/auth/token", {"email": email, "password": password})


# --- Password reset -----------------------------------------------------------------


def test_a_password_reset_link_works_once_and_ends_every_session(api: Any) -> None:
    user = make_user("ada@example.com")
    refresh = RefreshToken.for_user(user)
    response = post(api, RESET, {"email": "ADA@example.com"})
    assert response.status_code == 202
    (message,) = dispatched()
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Storefleet password"
    assert "Storefleet" in message.from_email
    token = link_token(message, "reset-password")
    # The outbox row names the user, never the token.
    event = OutboxEvent.objects.get(schema_name="public", type="account.password_reset_requested")
    assert event.payload == {"user_id": user.pk}

    assert post(api, RESET_CONFIRM, {"token": token, "password": NEW_PASSWORD}).status_code == 204
    assert sign_in(api, "ada@example.com", NEW_PASSWORD).status_code == 200
    assert_problem(sign_in(api, "ada@example.com", PASSWORD), 401)
    # The old session's refresh token is revoked.
    assert_problem(post(api, f"{V1}/auth/token/refresh", {"refresh": str(refresh)}), 401)
    # Used once: the same link is dead.
    body = assert_problem(post(api, RESET_CONFIRM, {"token": token, "password": "yet-another-one-77"}), 400)
    assert body["code"] == "link_invalid"


def test_a_reset_for_an_unknown_address_answers_alike_and_sends_nothing(api: Any) -> None:
    response = post(api, RESET, {"email": "nobody@example.com"})
    assert response.status_code == 202 and response.content == b""
    assert dispatched() == []
    assert not OutboxEvent.objects.filter(schema_name="public").exists()


def test_an_expired_reset_link_is_refused(api: Any, settings: Any) -> None:
    make_user("ada@example.com")
    post(api, RESET, {"email": "ada@example.com"})
    token = link_token(dispatched()[0], "reset-password")
    settings.PASSWORD_RESET_TIMEOUT = -1
    body = assert_problem(post(api, RESET_CONFIRM, {"token": token, "password": NEW_PASSWORD}), 400)
    assert body["code"] == "link_invalid"
    assert sign_in(api, "ada@example.com", PASSWORD).status_code == 200


def test_a_weak_new_password_keeps_the_link(api: Any) -> None:
    make_user("ada@example.com")
    post(api, RESET, {"email": "ada@example.com"})
    token = link_token(dispatched()[0], "reset-password")
    assert_problem(post(api, RESET_CONFIRM, {"token": token, "password": "123"}), 400)
    assert post(api, RESET_CONFIRM, {"token": token, "password": NEW_PASSWORD}).status_code == 204


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "MQ.forged-token",
        "MQ.cn3b5h-0123456789abcdef0123456789abcdef",
        "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5.x-y",  # a huge user id
        "x" * 600,
    ],
)
def test_forged_reset_tokens_are_refused(api: Any, token: str) -> None:
    make_user("ada@example.com")
    response = post(api, RESET_CONFIRM, {"token": token, "password": NEW_PASSWORD})
    assert_problem(response, 400)
    assert sign_in(api, "ada@example.com", PASSWORD).status_code == 200


@pytest.mark.parametrize("body", [{}, {"email": "not-an-address"}, {"email": 12}, {"email": 1e300}])
def test_bad_reset_requests_are_refused(api: Any, body: object) -> None:
    assert_problem(post(api, RESET, body), 400)
    assert not OutboxEvent.objects.filter(schema_name="public").exists()


def test_password_reset_is_throttled_per_account_and_address(api: Any, settings: Any) -> None:
    settings.AUTH_ATTEMPTS_PER_ACCOUNT = 2
    settings.AUTH_ATTEMPTS_PER_ADDRESS = 3
    make_user("ada@example.com")
    for index in range(2):
        assert (
            post(api, RESET, {"email": "ada@example.com"}, REMOTE_ADDR=f"203.0.113.{index}").status_code
            == 202
        )
    refused = post(api, RESET, {"email": "ada@example.com"}, REMOTE_ADDR="203.0.113.9")
    assert_problem(refused, 429)
    assert int(refused["Retry-After"]) > 0
    # Guessing tokens: per address too.
    for _ in range(3):
        post(api, RESET_CONFIRM, {"token": "MQ.guess", "password": NEW_PASSWORD}, REMOTE_ADDR="203.0.113.50")
    guess = post(
        api, RESET_CONFIRM, {"token": "Mg.guess", "password": NEW_PASSWORD}, REMOTE_ADDR="203.0.113.50"
    )
    assert_problem(guess, 429)


def test_options_on_the_account_endpoints_describe_them(api: Any) -> None:
    for path in (RESET, RESET_CONFIRM, EMAIL_CONFIRM, ACCEPT):
        response = api.options(path, **PLATFORM)
        assert response.status_code == 200, (path, response.content)
        assert "POST" in response["Allow"]
    assert not OutboxEvent.objects.filter(schema_name="public").exists()


# --- E-mail change ------------------------------------------------------------------


def test_an_email_change_is_confirmed_by_a_link_to_the_new_address(api: Any) -> None:
    user = make_user("ada@example.com")
    token = str(RefreshToken.for_user(user).access_token)
    response = post(api, EMAIL_CHANGE, {"email": "ada@new.example", "password": PASSWORD}, token)
    assert response.status_code == 202, response.content
    user.refresh_from_db()
    assert user.email == "ada@example.com"  # unchanged until confirmed
    (message,) = dispatched()
    assert message.to == ["ada@new.example"]
    link = link_token(message, "confirm-email")
    confirmed = post(api, EMAIL_CONFIRM, {"token": link})
    assert confirmed.status_code == 200 and confirmed.json()["email"] == "ada@new.example"
    assert sign_in(api, "ada@new.example", PASSWORD).status_code == 200
    assert_problem(post(api, EMAIL_CONFIRM, {"token": link}), 400)  # once


def test_an_email_change_needs_the_password_and_a_free_address(api: Any) -> None:
    user = make_user("ada@example.com")
    make_user("taken@example.com")
    token = str(RefreshToken.for_user(user).access_token)
    wrong = assert_problem(
        post(api, EMAIL_CHANGE, {"email": "x@example.com", "password": "wrong"}, token), 400
    )
    assert wrong["code"] == "password_incorrect"
    taken = assert_problem(
        post(api, EMAIL_CHANGE, {"email": "taken@example.com", "password": PASSWORD}, token), 409
    )
    assert taken["code"] == "email_taken"
    assert_problem(post(api, EMAIL_CHANGE, {"email": "x@example.com", "password": PASSWORD}), 401)
    assert dispatched() == []


def test_a_forged_email_change_token_is_refused(api: Any) -> None:
    make_user("ada@example.com")
    for token in ("forged", "eyJ1IjoxLCJlIjoiZXZlQGV4YW1wbGUuY29tIn0:abc:def", "x" * 600):
        assert_problem(post(api, EMAIL_CONFIRM, {"token": token}), 400)
    assert User.objects.filter(email="ada@example.com").exists()


# --- Invitations --------------------------------------------------------------------


def invite(api: Any, ctx: ShopContext, email: str, role: str = "staff", user: User | None = None) -> Any:
    return post(api, invitations(ctx.shop.slug), {"email": email, "role": role}, ctx.token(user))


def test_an_invitation_creates_the_account_and_the_membership(api: Any, shop_a: ShopContext) -> None:
    response = invite(api, shop_a, "Grace@Example.com", "admin")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["email"] == "grace@example.com" and created["status"] == "pending"
    assert created["invited_by"] == shop_a.owner.email
    (message,) = dispatched()
    assert message.to == ["grace@example.com"]
    assert message.subject == f"Join {shop_a.shop.name} on Storefleet"
    token = link_token(message, "accept-invitation")

    missing = assert_problem(post(api, ACCEPT, {"token": token}), 400)
    assert "password" in missing["errors"]
    accepted = post(api, ACCEPT, {"token": token, "name": "Grace", "password": NEW_PASSWORD})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json() == {
        "shop": shop_a.shop.slug,
        "shop_name": shop_a.shop.name,
        "role": "admin",
        "email": "grace@example.com",
        "account_created": True,
    }
    grace = User.objects.get(email="grace@example.com")
    assert grace.name == "Grace" and grace.check_password(NEW_PASSWORD)
    assert Membership.objects.get(shop=shop_a.shop, user=grace).role == "admin"
    assert_problem(post(api, ACCEPT, {"token": token, "password": NEW_PASSWORD}), 400)  # once
    listed = api.get(invitations(shop_a.shop.slug), **PLATFORM, **bearer(shop_a.token())).json()
    assert [item["status"] for item in listed["results"]] == ["accepted"]


def test_an_existing_account_joins_without_its_password(api: Any, shop_a: ShopContext) -> None:
    grace = make_user("grace@example.com")
    invite(api, shop_a, "grace@example.com")
    token = link_token(dispatched()[0], "accept-invitation")
    accepted = post(api, ACCEPT, {"token": token})
    assert accepted.status_code == 200 and accepted.json()["account_created"] is False
    assert grace.memberships.get().shop == shop_a.shop
    grace.refresh_from_db()
    assert grace.check_password(PASSWORD)


def test_a_resend_kills_the_old_link_and_a_revoke_kills_the_new(api: Any, shop_a: ShopContext) -> None:
    invitation_id = invite(api, shop_a, "grace@example.com").json()["id"]
    first = link_token(dispatched()[0], "accept-invitation")
    resent = post(api, f"{invitations(shop_a.shop.slug)}/{invitation_id}/resend", None, shop_a.token())
    assert resent.status_code == 200, resent.content
    second = link_token(dispatched()[0], "accept-invitation")
    assert first != second
    assert_problem(post(api, ACCEPT, {"token": first, "password": NEW_PASSWORD}), 400)

    revoked = api.delete(
        f"{invitations(shop_a.shop.slug)}/{invitation_id}", **PLATFORM, **bearer(shop_a.token())
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = api.delete(
        f"{invitations(shop_a.shop.slug)}/{invitation_id}", **PLATFORM, **bearer(shop_a.token())
    )
    assert again.status_code == 200
    assert_problem(post(api, ACCEPT, {"token": second, "password": NEW_PASSWORD}), 400)
    closed = post(api, f"{invitations(shop_a.shop.slug)}/{invitation_id}/resend", None, shop_a.token())
    assert assert_problem(closed, 409)["code"] == "invitation_closed"
    assert not User.objects.filter(email="grace@example.com").exists()


def test_an_expired_invitation_is_refused_until_resent(api: Any, shop_a: ShopContext) -> None:
    invitation_id = invite(api, shop_a, "grace@example.com").json()["id"]
    token = link_token(dispatched()[0], "accept-invitation")
    Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_problem(post(api, ACCEPT, {"token": token, "password": NEW_PASSWORD}), 400)
    assert "expired" in body["detail"]
    listed = api.get(invitations(shop_a.shop.slug), **PLATFORM, **bearer(shop_a.token())).json()
    assert listed["results"][0]["status"] == "expired"
    post(api, f"{invitations(shop_a.shop.slug)}/{invitation_id}/resend", None, shop_a.token())
    token = link_token(dispatched()[0], "accept-invitation")
    assert post(api, ACCEPT, {"token": token, "password": NEW_PASSWORD}).status_code == 200


def test_inviting_again_resends_with_the_new_role(api: Any, shop_a: ShopContext) -> None:
    first = invite(api, shop_a, "grace@example.com").json()
    second = invite(api, shop_a, "grace@example.com", "admin").json()
    assert second["id"] == first["id"] and second["role"] == "admin"
    assert Invitation.objects.filter(shop=shop_a.shop).count() == 1


def test_invitations_respect_roles_members_and_seats(api: Any, shop_a: ShopContext) -> None:
    staff = make_user("staff@example.com")
    Membership.objects.create(shop=shop_a.shop, user=staff, role="staff")
    assert_problem(invite(api, shop_a, "x@example.com", user=staff), 403)
    assert_problem(api.get(invitations(shop_a.shop.slug), **PLATFORM, **bearer(shop_a.token(staff))), 403)
    admin = make_user("admin@example.com")
    Membership.objects.create(shop=shop_a.shop, user=admin, role="admin")
    assert_problem(invite(api, shop_a, "x@example.com", "owner", user=admin), 403)
    body = assert_problem(invite(api, shop_a, "staff@example.com"), 409)
    assert body["code"] == "already_a_member"
    # The plan's staff seats: refused at the invitation, and at acceptance when they filled meanwhile.
    plan = Subscription.objects.get(shop=shop_a.shop).plan
    Plan.objects.filter(pk=plan.pk).update(max_staff_seats=4)
    invitation = invite(api, shop_a, "grace@example.com")
    assert invitation.status_code == 201
    token = link_token(dispatched()[0], "accept-invitation")
    Plan.objects.filter(pk=plan.pk).update(max_staff_seats=3)
    assert_problem(invite(api, shop_a, "henry@example.com"), 402)
    assert_problem(post(api, ACCEPT, {"token": token, "password": NEW_PASSWORD}), 402)
    assert not User.objects.filter(email="grace@example.com").exists()  # rolled back with the membership
    assert sorted(shop_a.shop.memberships.values_list("user__email", flat=True)) == sorted(
        [shop_a.owner.email, "staff@example.com", "admin@example.com"]
    )


def test_a_member_of_another_shop_cannot_touch_its_invitations(
    api: Any, shop_a: ShopContext, shop_b: ShopContext
) -> None:
    invitation_id = invite(api, shop_a, "grace@example.com").json()["id"]
    other = shop_b.token()
    assert_problem(api.get(invitations(shop_a.shop.slug), **PLATFORM, **bearer(other)), 404)
    assert_problem(post(api, invitations(shop_a.shop.slug), {"email": "x@example.com"}, other), 404)
    # Shop B's owner, through shop B's own URL, still cannot reach shop A's invitation by its id.
    assert_problem(
        api.delete(f"{invitations(shop_b.shop.slug)}/{invitation_id}", **PLATFORM, **bearer(other)), 404
    )
    assert_problem(post(api, f"{invitations(shop_b.shop.slug)}/{invitation_id}/resend", None, other), 404)
    assert Invitation.objects.get(pk=invitation_id).status == "pending"


@pytest.mark.parametrize(
    "token",
    ["", "1", "1.", "x.abc", "99999999999999999999.abc", "1.deadbeef", "٣.abc", "1e400", "-1.abc"],
)
def test_forged_invitation_tokens_are_refused(api: Any, shop_a: ShopContext, token: str) -> None:
    invite(api, shop_a, "grace@example.com")
    assert_problem(post(api, ACCEPT, {"token": token, "password": NEW_PASSWORD}), 400)
    assert not User.objects.filter(email="grace@example.com").exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "grace@example.com", "role": "king"}, {"email": "x"}, {"email": ["a@b.com"]}, []],
)
def test_bad_invitations_are_refused(api: Any, shop_a: ShopContext, body: object) -> None:
    assert_problem(post(api, invitations(shop_a.shop.slug), body, shop_a.token()), 400)
    assert not Invitation.objects.exists()


def test_bad_invitation_ids_are_404(api: Any, shop_a: ShopContext) -> None:
    for invitation_id in ("0", "99999999999999999999999", "abc"):
        response = api.delete(
            f"{invitations(shop_a.shop.slug)}/{invitation_id}", **PLATFORM, **bearer(shop_a.token())
        )
        assert_problem(response, 404)


def test_sending_twice_for_one_event_sends_once(api: Any, shop_a: ShopContext) -> None:
    invite(api, shop_a, "grace@example.com")
    assert len(dispatched()) == 1
    OutboxEvent.objects.filter(schema_name="public").update(dispatched_at=None, claimed_at=None)
    assert dispatched() == []
    assert PlatformEmail.objects.filter(kind="invitation", recipient="grace@example.com").count() == 1


@pytest.mark.parametrize("path", [RESET, RESET_CONFIRM, EMAIL_CONFIRM, ACCEPT])
@pytest.mark.parametrize(
    "raw",
    [b'{"token": "MQ\\u0000.abc", "email": "a\\u0000@b.com", "password": "x"}', b'{"token": "\\udcff.abc"}'],
)
def test_tokens_with_nul_or_lone_surrogates_are_refused(
    api: Any, shop_a: ShopContext, path: str, raw: bytes
) -> None:
    invite(api, shop_a, "grace@example.com")
    events = OutboxEvent.objects.count()
    response = api.post(path, raw, content_type="application/json", **PLATFORM)
    assert assert_problem(response, 400)["code"] == "parse_error"
    assert OutboxEvent.objects.count() == events
    assert not User.objects.filter(email="grace@example.com").exists()


def test_the_relay_hands_over_the_public_schemas_stale_events(api: Any, monkeypatch: Any) -> None:
    from tenants.outbox import services as outbox

    woken: list[str] = []

    def wake(schema: str) -> bool:
        woken.append(schema)
        return True

    monkeypatch.setattr(outbox, "_dispatcher_wake", wake)
    make_user("ada@example.com")
    post(api, RESET, {"email": "ada@example.com"})
    OutboxEvent.objects.filter(schema_name="public").update(created_at=timezone.now() - timedelta(minutes=5))
    assert outbox.events_relay() == 1
    assert woken == ["public"]

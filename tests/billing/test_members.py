"""`GET, POST shops/{slug}/members` and `DELETE shops/{slug}/members/{id}`."""

from __future__ import annotations

import pytest

from tenants.models import Membership
from tests.billing.helpers import PlatformClient, set_limits
from tests.conftest import PLATFORM, assert_problem, make_user

pytestmark = pytest.mark.django_db


def roles(ctx) -> dict[str, str]:
    return dict(Membership.objects.filter(shop=ctx.shop).values_list("user__email", "role"))


def test_owner_adds_lists_and_removes_members(api, shop_a) -> None:
    make_user("Helper@Example.com")
    owner = PlatformClient(api, shop_a)
    added = owner.post("members", {"email": "HELPER@example.com", "role": "admin"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["email"], body["role"]) == ("helper@example.com", "admin")
    listed = owner.get("members").json()
    assert [m["email"] for m in listed["results"]] == ["helper@example.com", shop_a.owner.email]
    assert owner.delete(f"members/{body['id']}").status_code == 204
    assert roles(shop_a) == {shop_a.owner.email: "owner"}


def test_role_defaults_to_staff_and_any_member_may_list(api, shop_a) -> None:
    user = make_user("staffer@example.com")
    assert (
        PlatformClient(api, shop_a).post("members", {"email": "staffer@example.com"}).json()["role"]
        == "staff"
    )
    assert PlatformClient(api, shop_a, user).get("members").status_code == 200


def test_staff_cannot_manage_and_admins_cannot_touch_owners(api, shop_a) -> None:
    set_limits(max_staff_seats=10)
    staff, admin = make_user("staff@example.com"), make_user("admin@example.com")
    make_user("new@example.com")
    Membership.objects.create(user=staff, shop=shop_a.shop, role="staff")
    admin_membership = Membership.objects.create(user=admin, shop=shop_a.shop, role="admin")
    as_staff, as_admin = PlatformClient(api, shop_a, staff), PlatformClient(api, shop_a, admin)
    assert_problem(as_staff.post("members", {"email": "new@example.com"}), 403)
    assert_problem(as_staff.delete(f"members/{admin_membership.pk}"), 403)
    assert_problem(as_admin.post("members", {"email": "new@example.com", "role": "owner"}), 403)
    owner_id = Membership.objects.get(shop=shop_a.shop, role="owner").pk
    assert_problem(as_admin.delete(f"members/{owner_id}"), 403)
    assert as_admin.post("members", {"email": "new@example.com", "role": "staff"}).status_code == 201
    assert roles(shop_a)["new@example.com"] == "staff"


def test_the_last_owner_cannot_be_removed(api, shop_a) -> None:
    owner = PlatformClient(api, shop_a)
    own = Membership.objects.get(shop=shop_a.shop, user=shop_a.owner)
    body = assert_problem(owner.delete(f"members/{own.pk}"), 409)
    assert body["code"] == "last_owner"
    set_limits(max_staff_seats=3)
    co_owner = make_user("co@example.com")
    assert owner.post("members", {"email": "co@example.com", "role": "owner"}).status_code == 201
    assert owner.delete(f"members/{own.pk}").status_code == 204
    last = Membership.objects.get(shop=shop_a.shop, user=co_owner)
    assert_problem(PlatformClient(api, shop_a, co_owner).delete(f"members/{last.pk}"), 409)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nobody@example.com"},
        {"email": "not-an-email"},
        {"email": 5},
        {"email": "x@example.com", "role": "king"},
        {},
        [],
    ],
)
def test_bad_member_input_is_refused_and_changes_nothing(api, shop_a, body) -> None:
    make_user("x@example.com")
    assert_problem(PlatformClient(api, shop_a).post("members", body), 400)
    assert roles(shop_a) == {shop_a.owner.email: "owner"}


def test_malformed_json_and_duplicates(api, shop_a) -> None:
    owner = PlatformClient(api, shop_a)
    assert_problem(owner.raw("POST", "members", b'{"email":'), 400)
    assert_problem(owner.post("members", {"email": shop_a.owner.email}), 409)


def test_other_shops_members_and_unknown_ids_are_404(api, shop_a, shop_b) -> None:
    b_owner = Membership.objects.get(shop=shop_b.shop)
    owner = PlatformClient(api, shop_a)
    assert_problem(owner.delete(f"members/{b_owner.pk}"), 404)
    assert_problem(owner.delete("members/999999"), 404)
    outsider = PlatformClient(api, shop_a, shop_b.owner)
    assert_problem(outsider.get("members"), 404)
    assert_problem(outsider.post("members", {"email": shop_b.owner.email}), 404)
    assert_problem(api.get(f"/api/platform/v1/shops/{shop_a.shop.slug}/members", **PLATFORM), 401)
    assert Membership.objects.filter(pk=b_owner.pk).exists()

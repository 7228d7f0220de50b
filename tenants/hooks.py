"""
Explicit extension points for the apps above `tenants`.

`tenants` may not import billing (the layers point one way), yet provisioning a
shop must also start its subscription in the same transaction, and adding a
member must respect the plan's staff seats. So `tenants` calls the hooks listed
here at those moments, and billing registers its functions in its
`AppConfig.ready()`. A hook is a plain function run inside the caller's
transaction: raising a `DomainError` refuses the operation and rolls it back.

Unlike model signals, every hook point is named here and called from exactly
one service, so a reader of `tenants.services` sees where other apps join in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from tenants.models import Shop, User


class ShopProvisionedHook(Protocol):
    def __call__(self, *, shop: Shop, owner: User, options: Mapping[str, Any]) -> object: ...


class MembershipAddingHook(Protocol):
    def __call__(self, *, shop: Shop, role: str) -> object: ...


class ShopUpdatedHook(Protocol):
    def __call__(self, *, shop: Shop, changed: Sequence[str]) -> object: ...


# Extra read-only facts about shops that other apps own (e.g. billing's `plan`):
# given shop ids, return {shop id: {field: value}} for the shop representations.
ShopFactsHook = Callable[[list[int]], Mapping[int, Mapping[str, Any]]]

_shop_provisioned: list[ShopProvisionedHook] = []
_membership_adding: list[MembershipAddingHook] = []
_shop_updated: list[ShopUpdatedHook] = []
_shop_facts: list[ShopFactsHook] = []


def on_shop_provisioned(hook: ShopProvisionedHook) -> ShopProvisionedHook:
    """Run `hook(shop=, owner=, options=)` inside `shop_create`'s transaction, after the owner joins."""
    if hook not in _shop_provisioned:
        _shop_provisioned.append(hook)
    return hook


def on_membership_adding(hook: MembershipAddingHook) -> MembershipAddingHook:
    """Run `hook(shop=, role=)` inside `membership_add`'s transaction, before the membership is written."""
    if hook not in _membership_adding:
        _membership_adding.append(hook)
    return hook


def on_shop_updated(hook: ShopUpdatedHook) -> ShopUpdatedHook:
    """Run `hook(shop=, changed=)` inside `shop_update`'s transaction, after the changed fields are saved."""
    if hook not in _shop_updated:
        _shop_updated.append(hook)
    return hook


def on_shop_facts(hook: ShopFactsHook) -> ShopFactsHook:
    """Add `hook(shop_ids)`'s fields to every shop representation of the Platform API."""
    if hook not in _shop_facts:
        _shop_facts.append(hook)
    return hook


def shop_provisioned(*, shop: Shop, owner: User, options: Mapping[str, Any]) -> None:
    for hook in _shop_provisioned:
        hook(shop=shop, owner=owner, options=options)


def membership_adding(*, shop: Shop, role: str) -> None:
    for hook in _membership_adding:
        hook(shop=shop, role=role)


def shop_updated(*, shop: Shop, changed: Sequence[str]) -> None:
    for hook in _shop_updated:
        hook(shop=shop, changed=changed)


def shop_facts(shop_ids: list[int]) -> dict[int, dict[str, Any]]:
    facts: dict[int, dict[str, Any]] = {shop_id: {} for shop_id in shop_ids}
    for hook in _shop_facts:
        for shop_id, fields in hook(shop_ids).items():
            facts.setdefault(shop_id, {}).update(fields)
    return facts

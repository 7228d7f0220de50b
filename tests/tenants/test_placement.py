"""
Moving shops between Citus workers (tenants.placement): the plan, and the clear
refusal on plain PostgreSQL. The moves themselves run on a Citus cluster, in
tests/citus (make test-citus).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.placement import Node, PlacementUnavailable, ShopPlacement, rebalance_plan

A, B, C = Node("w1", 9701), Node("w2", 9702), Node("w3", 9703)


def _shop(slug: str, node: Node, load: int) -> ShopPlacement:
    return ShopPlacement(slug, f"shop_{slug}", node, load)


def test_the_plan_moves_the_busiest_shop_that_narrows_the_gap() -> None:
    placements = [_shop("big", A, 100), _shop("mid", A, 40), _shop("small", A, 10), _shop("b", B, 20)]
    moves = rebalance_plan(placements, [A, B], max_moves=10)
    # A=150, B=20 (gap 130): "big" moves (A=50, B=120, gap 70), then "b" back (A=70, B=100,
    # gap 30); no shop of B is lighter than 30, so the plan ends.
    assert [(m.slug, m.source, m.target, m.load) for m in moves] == [("big", A, B, 100), ("b", B, A, 20)]


def test_the_plan_is_empty_when_balanced_or_when_one_shop_is_the_whole_load() -> None:
    assert rebalance_plan([_shop("a", A, 10), _shop("b", B, 10)], [A, B], max_moves=5) == []
    # One huge shop: moving it only moves the imbalance.
    assert rebalance_plan([_shop("huge", A, 1000)], [A, B], max_moves=5) == []
    # Idle shops (no load) are never moved.
    assert rebalance_plan([_shop("a", A, 0), _shop("b", A, 0)], [A, B], max_moves=5) == []


def test_the_plan_fills_an_empty_worker_and_respects_max_moves() -> None:
    placements = [_shop(f"s{i}", A, 10) for i in range(6)]
    moves = rebalance_plan(placements, [A, B, C], max_moves=10)
    targets = [move.target for move in moves]
    assert targets.count(B) == 2 and targets.count(C) == 2
    assert len(rebalance_plan(placements, [A, B, C], max_moves=1)) == 1


def test_a_worker_is_host_and_port() -> None:
    assert Node.parse("10.0.0.5:5432") == Node("10.0.0.5", 5432)
    for bad in ("10.0.0.5", ":5432", "host:port", "host:"):
        with pytest.raises(PlacementUnavailable):
            Node.parse(bad)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "options"),
    [("shop_move", {"shop": "alpha"}), ("shops_rebalance", {}), ("shops_rebalance", {"dry_run": True})],
)
def test_on_plain_postgresql_the_commands_refuse_clearly(shop_a, command, options) -> None:
    with pytest.raises(CommandError, match="plain PostgreSQL"):
        call_command(command, **options)


@pytest.mark.django_db
def test_shops_rebalance_refuses_a_nonsense_move_limit() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("shops_rebalance", max_moves=0)

"""
Where shops live on a Citus cluster, and moving them between workers while they serve.

With Citus' schema-based sharding each shop's schema is a distributed schema: its
tables sit together on one worker. `citus_schema_move` copies them to another
worker by logical replication while the shop keeps serving, then holds the shop's
writes for the switch-over only. On plain PostgreSQL every shop is on the one
server and these functions refuse (PlacementUnavailable).

How busy a shop is comes from Citus' own per-tenant statistics
(`citus_stat_tenants`, queries in its current and previous period, which needs
`citus.stat_tenants_track = 'all'`), or from the size of its tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import InternalError, connection

from tenants.models import Shop
from tenants.schemas import use_public

Measure = Literal["queries", "bytes"]
Progress = Callable[[str], None]


class PlacementUnavailable(Exception):
    """Shops cannot be placed or moved on this database (plain PostgreSQL, one worker, stats off)."""


@dataclass(frozen=True, order=True)
class Node:
    name: str
    port: int

    def __str__(self) -> str:
        return f"{self.name}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> Node:
        name, _, port = text.rpartition(":")
        if not name or not port.isdigit():
            raise PlacementUnavailable(f"{text!r} is not a worker as host:port.")
        return cls(name, int(port))


@dataclass(frozen=True)
class ShopPlacement:
    slug: str
    schema_name: str
    node: Node
    load: int


@dataclass(frozen=True)
class Move:
    slug: str
    schema_name: str
    source: Node
    target: Node
    load: int
    seconds: float = 0.0


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def workers() -> list[Node]:
    """The cluster's active workers; refuses on a database that is not a Citus coordinator."""
    use_public()
    if not _rows("SELECT 1 FROM pg_extension WHERE extname = 'citus'"):
        raise PlacementUnavailable(
            "This database is plain PostgreSQL (no Citus extension): every shop lives on this "
            "one server, so there is no worker to move a shop to. See docs/scaling.md."
        )
    nodes = [Node(name, port) for name, port in _rows("SELECT * FROM citus_get_active_worker_nodes()")]
    if not nodes:
        raise PlacementUnavailable("This Citus coordinator has no active worker.")
    return sorted(nodes)


_SCHEMA_NODES_SQL = """
SELECT DISTINCT ON (n.nspname) n.nspname, dn.nodename, dn.nodeport, ds.colocationid
FROM pg_dist_schema ds
JOIN pg_namespace n ON n.oid = ds.schemaid
JOIN pg_dist_partition p ON p.colocationid = ds.colocationid
JOIN pg_dist_shard s ON s.logicalrelid = p.logicalrelid
JOIN pg_dist_placement pl ON pl.shardid = s.shardid
JOIN pg_dist_node dn ON dn.groupid = pl.groupid
WHERE n.nspname = ANY(%s)
ORDER BY n.nspname
"""

_QUERIES_SQL = """
SELECT colocation_id, sum(query_count_in_this_period + query_count_in_last_period)
FROM citus_stat_tenants(true) GROUP BY colocation_id
"""

_BYTES_SQL = """
SELECT colocation_id, sum(shard_size) FROM citus_shards
WHERE colocation_id = ANY(%s) GROUP BY colocation_id
"""


def schema_nodes(schema_names: list[str]) -> dict[str, Node]:
    """The worker of each of these schemas that is a distributed schema (others are left out)."""
    return {schema: Node(name, port) for schema, name, port, _ in _rows(_SCHEMA_NODES_SQL, [schema_names])}


def shop_placements(*, measure: Measure = "queries") -> list[ShopPlacement]:
    """Every shop's worker and load (queries lately, or bytes), busiest first."""
    workers()
    shops = dict(Shop.objects.values_list("schema_name", "slug"))
    found = _rows(_SCHEMA_NODES_SQL, [list(shops)])
    if measure == "queries":
        if _rows("SELECT current_setting('citus.stat_tenants_track')")[0][0] != "all":
            raise PlacementUnavailable(
                "citus.stat_tenants_track is not 'all' on this cluster, so Citus counts no "
                "queries per shop: set it on every node, or measure by bytes."
            )
        loads = dict(_rows(_QUERIES_SQL))
    else:
        loads = dict(_rows(_BYTES_SQL, [[row[3] for row in found]]))
    placements = [
        ShopPlacement(shops[schema], schema, Node(name, port), int(loads.get(colocation, 0) or 0))
        for schema, name, port, colocation in found
    ]
    return sorted(placements, key=lambda placement: (-placement.load, placement.slug))


def shop_placement(slug: str, *, measure: Measure = "bytes") -> ShopPlacement:
    """Where one shop lives; refuses an unknown slug or a shop whose schema is not distributed."""
    use_public()
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise PlacementUnavailable(f"No shop with the slug {slug!r}.")
    for placement in shop_placements(measure=measure):
        if placement.schema_name == shop.schema_name:
            return placement
    raise PlacementUnavailable(
        f"The schema of shop {slug!r} is not a distributed schema: run "
        f"SELECT citus_schema_distribute('{shop.schema_name}') on the coordinator first."
    )


# Citus drops a moved shop's old tables later, in the background. Moving it back onto
# that worker before they are gone fails ("orphaned shard ... leftover from the
# previous move"), as does the clean-up while a session still holds them: clean up
# and try again for a while.
_ORPHANED = "leftover from the previous move"
CLEANUP_ATTEMPTS = 15
CLEANUP_WAIT = 2.0


def _schema_move(schema_name: str, target: Node, progress: Progress = lambda line: None) -> float:
    started = time.monotonic()
    for attempt in range(1, CLEANUP_ATTEMPTS + 1):
        try:
            with connection.cursor() as cursor:
                # Not in a transaction: Citus copies the tables by logical replication,
                # then blocks the shop's writes only while it switches the placement over.
                cursor.execute(
                    "SELECT citus_schema_move(%s::regnamespace, %s, %s)",
                    [schema_name, target.name, target.port],
                )
            break
        except InternalError as error:
            if _ORPHANED not in str(error) or attempt == CLEANUP_ATTEMPTS:
                raise
            progress(f"{target} still holds this shop's tables from an earlier move; cleaning up…")
            time.sleep(CLEANUP_WAIT)
            with connection.cursor() as cursor:
                cursor.execute("CALL citus_cleanup_orphaned_resources()")
    return time.monotonic() - started


def _node_loads(placements: list[ShopPlacement], nodes: list[Node]) -> dict[Node, int]:
    loads = dict.fromkeys(nodes, 0)
    for placement in placements:
        loads[placement.node] = loads.get(placement.node, 0) + placement.load
    return loads


def shop_move(*, slug: str, to: Node | None = None, progress: Progress = lambda line: None) -> Move | None:
    """
    Move one shop's schema to `to` (default: the worker holding the fewest shop
    bytes, other than its own) while it serves; None when it is there already.
    """
    nodes = workers()
    placement = shop_placement(slug)
    if to is None:
        others = [node for node in nodes if node != placement.node]
        if not others:
            raise PlacementUnavailable(f"Shop {slug!r} is on the only worker; there is nowhere to move it.")
        loads = _node_loads(shop_placements(measure="bytes"), others)
        to = min(others, key=lambda node: (loads.get(node, 0), node))
    elif to not in nodes:
        raise PlacementUnavailable(f"{to} is not an active worker ({', '.join(map(str, nodes))}).")
    if to == placement.node:
        progress(f"Shop {slug} ({placement.schema_name}) is on {to} already; nothing to move.")
        return None
    progress(
        f"Moving shop {slug} ({placement.schema_name}, {placement.load:,} bytes) "
        f"from {placement.node} to {to}…"
    )
    seconds = _schema_move(placement.schema_name, to, progress)
    progress(f"Moved shop {slug} to {to} in {seconds:.1f} s.")
    return Move(slug, placement.schema_name, placement.node, to, placement.load, seconds)


def rebalance_plan(placements: list[ShopPlacement], nodes: list[Node], *, max_moves: int) -> list[Move]:
    """
    Moves that even out the workers' loads: each takes the busiest shop of the most
    loaded worker that still narrows its gap to the least loaded one, and moves it
    there. Stops when no move narrows the gap, or after `max_moves`.
    """
    loads = _node_loads(placements, nodes)
    where = {placement.schema_name: placement.node for placement in placements}
    moves: list[Move] = []
    while len(moves) < max_moves:
        busiest = max(nodes, key=lambda node: (loads[node], node))
        idlest = min(nodes, key=lambda node: (loads[node], node))
        gap = loads[busiest] - loads[idlest]
        # Moving a shop of load L makes the gap |gap - 2L|: smaller only when 0 < L < gap.
        candidates = [
            placement
            for placement in placements
            if where[placement.schema_name] == busiest and 0 < placement.load < gap
        ]
        if not candidates:
            break
        shop = max(candidates, key=lambda placement: (placement.load, placement.slug))
        moves.append(Move(shop.slug, shop.schema_name, busiest, idlest, shop.load))
        where[shop.schema_name] = idlest
        loads[busiest] -= shop.load
        loads[idlest] += shop.load
    return moves


def shops_rebalance(
    *,
    measure: Measure = "queries",
    max_moves: int = 10,
    dry_run: bool = False,
    progress: Progress = lambda line: None,
) -> list[Move]:
    """Move the busiest shops off the most loaded workers, one at a time, online; return the moves."""
    nodes = workers()
    if len(nodes) < 2:
        raise PlacementUnavailable("This cluster has one worker; there is nothing to balance.")
    placements = shop_placements(measure=measure)
    loads = _node_loads(placements, nodes)
    unit = "queries" if measure == "queries" else "bytes"
    for node in nodes:
        shops = sum(1 for placement in placements if placement.node == node)
        progress(f"{node}: {shops} shops, {loads[node]:,} {unit}")
    plan = rebalance_plan(placements, nodes, max_moves=max_moves)
    if not plan:
        progress("Balanced: no move would narrow the gap between workers.")
        return []
    done: list[Move] = []
    for number, move in enumerate(plan, start=1):
        line = (
            f"[{number}/{len(plan)}] shop {move.slug} ({move.load:,} {unit}): {move.source} -> {move.target}"
        )
        if dry_run:
            progress(line + " (dry run)")
            done.append(move)
            continue
        progress(line + "…")
        seconds = _schema_move(move.schema_name, move.target, progress)
        progress(f"[{number}/{len(plan)}] moved in {seconds:.1f} s")
        done.append(Move(move.slug, move.schema_name, move.source, move.target, move.load, seconds))
    return done

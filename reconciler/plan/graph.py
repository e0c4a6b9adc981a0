"""Deterministic dependency order: topological, ties broken by address; cycles name their path."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from reconciler.model.changes import Action, Change
from reconciler.model.errors import PlanError


def topological_order(nodes: Iterable[str], depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Every node after the nodes it depends on; among ready nodes the smallest address first.

    Dependencies on nodes outside ``nodes`` are ignored (they exist already or are not ours).
    """
    members = set(nodes)
    needs: dict[str, set[str]] = {n: set() for n in members}
    users: dict[str, list[str]] = {n: [] for n in members}
    for node in members:
        for dep in depends_on.get(node, ()):
            if dep in members and dep != node:
                needs[node].add(dep)
                users[dep].append(node)
            elif dep == node:
                raise PlanError(f"dependency cycle: {node} -> {node}", address=node)
    ready = [n for n, deps in needs.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for user in users[node]:
            needs[user].discard(node)
            if not needs[user]:
                heapq.heappush(ready, user)
    if len(order) < len(members):
        cycle = find_cycle({n: sorted(needs[n]) for n in members if needs[n]})
        raise PlanError(
            "dependency cycle: " + " -> ".join(cycle),
            address=cycle[0],
            hint="break the cycle: an asset cannot depend, even indirectly, on itself",
        )
    return order


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """A cycle in ``graph`` (node -> dependencies) as a path that ends where it starts."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and dep in graph:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return sorted(graph)[:1] * 2


def order_changes(
    changes: Sequence[Change], depends_on: Mapping[str, Sequence[str]]
) -> tuple[Change, ...]:
    """Creates, updates and replaces in dependency order (over the whole desired graph, so an
    unchanged asset in the middle still orders its neighbours), then deletes, each after the
    deletes its ``depends_on`` names (what used it: an index goes before its endpoint)."""
    forward = {c.address: c for c in changes if c.action is not Action.DELETE}
    deletes = {c.address: c for c in changes if c.action is Action.DELETE}
    nodes = set(depends_on) | set(forward)
    ranked = [a for a in topological_order(nodes, depends_on) if a in forward]
    delete_order = topological_order(deletes, {a: c.depends_on for a, c in deletes.items()})
    return tuple(forward[a] for a in ranked) + tuple(deletes[a] for a in delete_order)

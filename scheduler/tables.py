"""Tables for in-person events: no table holds two meetings in one slot, few table changes.

Slots are filled in time order. In each slot the meetings are matched to tables by a
min-cost flow whose cost counts the participants who would have to leave the table they sat
at last; so a participant who stays busy keeps their table and partners come to them, and a
meeting of two newcomers takes a table nobody is sitting at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from itertools import pairwise

from ortools.graph.python import min_cost_flow

from scheduler.problem import Problem

# A participant changing tables costs CHANGE plus their number of meetings still to come (so
# of two seated participants the one with fewer left moves: the busy one keeps their table);
# taking the last table of someone idle costs 1, to keep newcomers off a table its regular
# will want back.
CHANGE = 1000


def assign_tables(problem: Problem, assignments: Mapping[str, int], tables: int) -> dict[str, int]:
    """Map every assigned meeting to a table 0..tables-1, minimising table changes greedily by slot.

    Raise ValueError when a slot holds more meetings than there are tables.
    """
    by_slot: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for m in problem.meetings:
        s = assignments.get(m.id)
        if s is not None:
            by_slot[s].append((m.id, m.a, m.b))
    for s, meetings in sorted(by_slot.items()):
        if len(meetings) > tables:
            raise ValueError(f"slot {s} holds {len(meetings)} meetings but there are only {tables} tables")
    left: dict[str, int] = defaultdict(int)  # participant -> meetings still to come
    for meetings in by_slot.values():
        for _, a, b in meetings:
            left[a] += 1
            left[b] += 1
    last: dict[str, int] = {}  # participant -> table they sat at last
    regulars: dict[int, set[str]] = defaultdict(set)  # table -> participants who sat there last
    out: dict[str, int] = {}
    for s in sorted(by_slot):
        meetings = by_slot[s]
        chosen = _match_slot(meetings, tables, last, regulars, left)
        for (mid, a, b), table in zip(meetings, chosen, strict=True):
            out[mid] = table
            for p in (a, b):
                left[p] -= 1
                if p in last:
                    regulars[last[p]].discard(p)
                last[p] = table
                regulars[table].add(p)
    return out


def _match_slot(
    meetings: list[tuple[str, str, str]],
    tables: int,
    last: Mapping[str, int],
    regulars: Mapping[int, set[str]],
    left: Mapping[str, int],
) -> list[int]:
    """Table per meeting of one slot, by min-cost flow (meetings -> tables)."""
    n = len(meetings)
    source, pool, sink = n + tables, n + tables + 1, n + tables + 2
    busy = {p for _, a, b in meetings for p in (a, b)}

    def squat(table: int) -> int:
        # Someone not meeting now sat here last: taking their table may force them to move later.
        return 1 if any(p not in busy for p in regulars.get(table, ())) else 0

    flow = min_cost_flow.SimpleMinCostFlow()
    for i, (_, a, b) in enumerate(meetings):
        flow.add_arc_with_capacity_and_unit_cost(source, i, 1, 0)
        seated = [p for p in (a, b) if p in last]
        for table in {last[p] for p in seated}:
            cost = sum(CHANGE + left[p] for p in seated if last[p] != table) + squat(table)
            flow.add_arc_with_capacity_and_unit_cost(i, n + table, 1, cost)
        flow.add_arc_with_capacity_and_unit_cost(i, pool, 1, sum(CHANGE + left[p] for p in seated))
    for table in range(tables):
        flow.add_arc_with_capacity_and_unit_cost(pool, n + table, 1, squat(table))
        flow.add_arc_with_capacity_and_unit_cost(n + table, sink, 1, 0)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("table assignment flow failed")
    chosen = [-1] * n
    via_pool: list[int] = []
    for arc in range(flow.num_arcs()):
        if not flow.flow(arc):
            continue
        tail, head = flow.tail(arc), flow.head(arc)
        if tail < n and head >= n and head < n + tables:
            chosen[tail] = head - n
        elif tail < n and head == pool:
            via_pool.append(tail)
    # Meetings routed through the pool take the tables the pool sends flow to, in any order.
    free = sorted(
        flow.head(arc) - n
        for arc in range(flow.num_arcs())
        if flow.tail(arc) == pool and flow.flow(arc) and n <= flow.head(arc) < n + tables
    )
    for i, table in zip(via_pool, free, strict=True):
        chosen[i] = table
    return chosen


def naive_tables(problem: Problem, assignments: Mapping[str, int]) -> dict[str, int]:
    """Tables 0, 1, ... in meeting order within each slot: what a spreadsheet would do."""
    used: dict[int, int] = defaultdict(int)
    out = {}
    for m in problem.meetings:
        s = assignments.get(m.id)
        if s is not None:
            out[m.id] = used[s]
            used[s] += 1
    return out


def table_changes(problem: Problem, assignments: Mapping[str, int], tables_of: Mapping[str, int]) -> int:
    """Times any participant sits at a different table than at their previous meeting."""
    seats: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m in problem.meetings:
        s = assignments.get(m.id)
        if s is not None:
            seats[m.a].append((s, tables_of[m.id]))
            seats[m.b].append((s, tables_of[m.id]))
    changes = 0
    for visits in seats.values():
        visits.sort()
        changes += sum(1 for (_, x), (_, y) in pairwise(visits) if x != y)
    return changes

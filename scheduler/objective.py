"""What the large-event search maximises, shared by its placement, LNS and annealing steps."""

from __future__ import annotations

from scheduler.greedy import State

# Cost of one unit of spread excess in annealing: far above any gain in breaks, so never traded.
SPREAD_COST = 1000


def objective_key(state: State) -> tuple[int, int, int]:
    """What the search maximises: break-spread rule first (hard), then weight, then -breaks."""
    spread = state.ix.problem.rules.break_spread
    excess = 0 if spread is None else spread_excess(state.pbreaks, spread)
    return (-excess, state.weight, -state.breaks)


def spread_excess(pbreaks: list[int], spread: int) -> int:
    """How far the break counts exceed the allowed spread (0 when the rule holds)."""
    return max(0, max(pbreaks, default=0) - min(pbreaks, default=0) - spread)

from __future__ import annotations

from clockevents.agenda.statistics import describe


def test_describe_lists_figures_and_unplaced_meetings() -> None:
    figures = {
        "solver_status": "optimal",
        "seconds": 0.4,
        "requested_meetings": 3,
        "placed_meetings": 2,
        "requested_weight": 6,
        "placed_weight": 4,
        "breaks": 1,
        "meetings_per_participant": {"min": 1, "median": 1, "max": 2},
        "unplaced": [{"a": "Ada (Acme)", "b": "Carla (Stone)", "reason": "no room left"}],
    }

    assert describe(figures).splitlines() == [
        "placed 2 of 3 meetings (weight 4 of 6), 1 breaks",
        "meetings per participant: min 1, median 1, max 2",
        "solver: optimal in 0.4 s",
        "not placed (1):",
        "  - Ada (Acme) & Carla (Stone): no room left",
    ]

"""Problem validation, break counting and the hard-rule checker."""

from __future__ import annotations

import pytest

from scheduler.problem import (
    Meeting,
    Participant,
    Problem,
    ProblemError,
    breaks_by_participant,
    check_solution,
    count_breaks,
    validate,
)
from tests.unit.scheduler.helpers import make


def test_count_breaks_counts_idle_runs_between_first_and_last():
    assert count_breaks([0, 2, 3, 6]) == 2


def test_count_breaks_ignores_idle_slots_at_either_end():
    assert count_breaks([3, 4, 5]) == 0


def test_count_breaks_long_gap_is_one_break():
    assert count_breaks([0, 9]) == 1


def test_count_breaks_empty_is_zero():
    assert count_breaks([]) == 0


def test_breaks_by_participant_counts_both_sides():
    problem = make(5, [("a", "b"), ("a", "c")])
    assert breaks_by_participant(problem, {"m0": 0, "m1": 3}) == {"a": 1, "b": 0, "c": 0}


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        (Problem(3, (Participant("a"),), (Meeting("m", "a", "zz"),)), "unknown participant 'zz'"),
        (
            Problem(3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b", fixed_slot=3),)),
            "fixed slot 3 out of range",
        ),
        (Problem(3, (Participant("a", frozenset({5})),), ()), "unavailable slot 5 out of range"),
        (Problem(3, (Participant("a"), Participant("a")), ()), "duplicate participant id 'a'"),
        (
            Problem(
                3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b"), Meeting("m", "b", "a"))
            ),
            "duplicate meeting id 'm'",
        ),
        (Problem(3, (Participant("a"),), (Meeting("m", "a", "a"),)), "with itself"),
        (
            Problem(3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b", after=("q",)),)),
            "unknown meeting 'q'",
        ),
        (
            Problem(3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b", session=0),)),
            "session 0 is not an index",
        ),
        (
            Problem(3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b", weight=0),)),
            "weight 0 must be >= 1",
        ),
        (make(3, [("a", "b")], sessions=((0, 3),)), "session 0 [0, 3] is outside"),
    ],
)
def test_validate_malformed_raises_naming_the_problem(problem, message):
    with pytest.raises(ProblemError) as info:
        validate(problem)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_validate_precedence_cycle_names_the_cycle():
    problem = make(4, [("a", "b"), ("a", "c"), ("b", "c")], after={0: ("m2",), 1: ("m0",), 2: ("m1",)})
    with pytest.raises(ProblemError) as info:
        validate(problem)
    assert str(info.value) == "precedence cycle: m0 -> m2 -> m1 -> m0"


def test_validate_well_formed_returns_none():
    assert validate(make(4, [("a", "b")], after={}, fixed_slot={0: 2})) is None


def test_check_solution_reports_double_booking():
    problem = make(3, [("a", "b"), ("a", "c")])
    assert check_solution(problem, {"m0": 1, "m1": 1}) == ["a has meetings m0 and m1 in slot 1"]


def test_check_solution_reports_precedence_and_capacity():
    problem = make(3, [("a", "b"), ("c", "d")], capacity=1, after={1: ("m0",)})
    assert check_solution(problem, {"m0": 1, "m1": 1}) == [
        "meeting m1 in slot 1 not after m0 in slot 1",
        "slot 1 holds 2 > 1",
    ]

"""Reasons given for meetings left out of a schedule."""

from __future__ import annotations

from scheduler import solve
from scheduler.problem import Rules
from tests.unit.scheduler.helpers import make


def reasons(problem, **kw) -> dict[str, str]:
    solution = solve(problem, time_limit=10, workers=1, **kw)
    return {u.meeting: u.reason for u in solution.unscheduled}


def test_unplaced_no_shared_free_slot_names_both_participants():
    problem = make(2, [("4", "9"), ("4", "5")], unavailable={"4": {0}, "9": {1}})
    assert reasons(problem) == {"m0": "participants 4 and 9 share no free slot"}


def test_unplaced_overloaded_participant_counts_meetings_and_free_slots():
    pairs = [("9", str(i)) for i in range(4)]
    problem = make(3, pairs, unavailable={"9": {2}})
    assert set(reasons(problem).values()) == {"9 has 4 accepted meetings for 2 free slots"}
    assert len(reasons(problem)) == 2


def test_unplaced_fixed_slot_where_participant_is_unavailable():
    problem = make(3, [("a", "b")], unavailable={"b": {1}}, fixed_slot={0: 1})
    assert reasons(problem) == {"m0": "fixed to slot 1 where participant b is unavailable"}


def test_unplaced_successor_of_unplaced_meeting_names_it():
    problem = make(3, [("a", "b"), ("a", "c")], unavailable={"a": {0, 1, 2}}, after={1: ("m0",)})
    assert reasons(problem) == {
        "m0": "participants a and b share no free slot",
        "m1": "participants a and c share no free slot",
    }


def test_unplaced_after_unplaced_predecessor_says_so():
    problem = make(3, [("a", "b"), ("c", "d")], unavailable={"b": {0, 1, 2}}, after={1: ("m0",)})
    assert reasons(problem) == {
        "m0": "participants a and b share no free slot",
        "m1": "comes after meeting m0, which is not placed",
    }


def test_unplaced_lower_weight_meeting_gets_generic_reason():
    # One slot, a is in both meetings: the heavier one wins.
    problem = make(1, [("a", "b"), ("a", "c")], weight={0: 1, 1: 5})
    assert reasons(problem) == {"m0": "a has 2 accepted meetings for 1 free slots"}


def test_unplaced_capacity_full_gets_room_reason():
    problem = make(1, [("a", "b"), ("c", "d")], capacity=1, weight={1: 2})
    assert reasons(problem) == {"m0": "1 slots of 1 tables hold fewer meetings than were accepted"}


def test_unplaced_crowded_slots_get_generic_reason():
    # A triangle of meetings needs three slots; with two, the lightest meeting gives way.
    problem = make(2, [("a", "b"), ("b", "c"), ("a", "c")], weight={1: 2, 2: 2})
    assert reasons(problem) == {
        "m0": "no slot left free for both a and b once higher-weight meetings were placed"
    }


def test_unplaced_infeasible_schedule_all_lists_every_meeting():
    problem = make(2, [("a", "b"), ("a", "c"), ("a", "d")], rules=Rules(schedule_all=True))
    assert reasons(problem) == {
        "m0": "a has 3 accepted meetings for 2 free slots",
        "m1": "a has 3 accepted meetings for 2 free slots",
        "m2": "a has 3 accepted meetings for 2 free slots",
    }

"""The clockevents-problem/1 and clockevents-solution/1 JSON formats."""

from __future__ import annotations

import json

import pytest

from scheduler.io import dump_problem, dump_solution, load_problem, load_solution, solution_to_dict
from scheduler.problem import Meeting, Participant, Problem, ProblemError, Rules, Solution, Unscheduled

PROBLEM = Problem(
    slots=6,
    participants=(Participant("1", frozenset({2, 3})), Participant("2"), Participant("3")),
    meetings=(
        Meeting("10", "1", "2", session=1),
        Meeting("11", "2", "3", fixed_slot=4, weight=3),
        Meeting("12", "1", "3", after=("10", "11")),
    ),
    sessions=((0, 2), (3, 5)),
    capacity=None,
    rules=Rules(schedule_all=True, break_spread=2),
    name="round trip",
)


def test_problem_round_trip_through_text_is_identical():
    assert load_problem(dump_problem(PROBLEM)) == PROBLEM


def test_problem_round_trip_through_file_is_identical(tmp_path):
    path = tmp_path / "p.json"
    dump_problem(PROBLEM, path)
    assert load_problem(path) == PROBLEM


def test_dump_problem_writes_the_documented_fields():
    data = json.loads(dump_problem(PROBLEM))
    assert data["format"] == "clockevents-problem/1"
    assert data["sessions"] == [[0, 2], [3, 5]]
    assert data["capacity"] is None
    assert data["participants"][0] == {"id": "1", "unavailable": [2, 3]}
    assert data["meetings"][2] == {
        "id": "12",
        "a": "1",
        "b": "3",
        "session": None,
        "fixed_slot": None,
        "after": ["10", "11"],
        "weight": 1,
    }
    assert data["rules"] == {"schedule_all": True, "break_spread": 2}


def test_load_problem_defaults_optional_fields():
    text = json.dumps(
        {
            "format": "clockevents-problem/1",
            "slots": 3,
            "participants": [{"id": "a"}, {"id": "b"}],
            "meetings": [{"id": "m", "a": "a", "b": "b"}],
        }
    )
    assert load_problem(text) == Problem(3, (Participant("a"), Participant("b")), (Meeting("m", "a", "b"),))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "input is not valid JSON"),
        ('{"format": "other/1"}', "unsupported format 'other/1'"),
        ('{"format": "clockevents-problem/1", "participants": [], "meetings": []}', "lacks field 'slots'"),
        (
            '{"format": "clockevents-problem/1", "slots": "9", "participants": [], "meetings": []}',
            "field 'slots' has the wrong type",
        ),
    ],
)
def test_load_problem_malformed_raises_one_line(text, message):
    with pytest.raises(ProblemError) as info:
        load_problem(text)
    assert message in str(info.value)


def test_load_problem_missing_file_names_the_file(tmp_path):
    with pytest.raises(ProblemError) as info:
        load_problem(tmp_path / "absent.json")
    assert str(info.value) == f"problem file not found: {tmp_path / 'absent.json'}"


def test_solution_round_trip_is_identical():
    solution = Solution(
        status="feasible",
        scheduled=2,
        weight=4,
        breaks=1,
        breaks_lower_bound=0,
        seconds=0.25,
        assignments={"10": 3, "11": 4},
        unscheduled=[Unscheduled("12", "participants 1 and 3 share no free slot")],
    )
    assert load_solution(dump_solution(solution)) == solution


def test_solution_dict_lists_assignments_and_reasons():
    solution = Solution("optimal", 1, 1, 0, 0, 0.5, {"7": 2}, [Unscheduled("8", "why")])
    data = solution_to_dict(solution)
    assert data["format"] == "clockevents-solution/1"
    assert data["assignments"] == [{"meeting": "7", "slot": 2}]
    assert data["unscheduled"] == [{"meeting": "8", "reason": "why"}]

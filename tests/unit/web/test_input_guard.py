from __future__ import annotations

import pytest

from clockevents.errors import NotFound
from web.input_guard import MAX_ID, NUL_MESSAGE, check_path_ids, nul_fields


def test_check_path_ids_accepts_the_id_range_and_other_types() -> None:
    check_path_ids({"run_id": 1, "meeting_id": MAX_ID, "slug": "demo", "flag": True})


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 10**30])
def test_check_path_ids_out_of_range_is_not_found(value: int) -> None:
    with pytest.raises(NotFound) as info:
        check_path_ids({"slug": "demo", "run_id": value})
    assert info.value.message == f"Nothing found for run_id {value}."


def test_nul_fields_names_query_parameters() -> None:
    assert nul_fields("q=a%00b&page=2&x=%00", b"", "") == {"q": NUL_MESSAGE, "x": NUL_MESSAGE}


def test_nul_fields_names_top_level_json_fields() -> None:
    body = (
        b'{"name": "a\\u0000", "tags": ["ok", "b\\u0000"], "nested": {"deep": {"x": "\\u0000"}}, "fine": "y"}'
    )
    assert nul_fields("", body, "application/json") == {
        "name": NUL_MESSAGE,
        "tags": NUL_MESSAGE,
        "nested": NUL_MESSAGE,
    }


def test_nul_fields_json_list_or_broken_json() -> None:
    assert nul_fields("", b'["\\u0000"]', "application/json") == {"body": NUL_MESSAGE}
    assert nul_fields("", b'{"a": "\\u0000', "application/json") == {}


def test_nul_fields_names_form_fields() -> None:
    assert nul_fields("", b"email=a%40b.it&name=N%00&x=1", "application/x-www-form-urlencoded") == {
        "name": NUL_MESSAGE
    }


def test_nul_fields_clean_input_is_empty() -> None:
    assert nul_fields("q=abc", b'{"name": "\\\\u0000 is fine as text"}', "application/json") == {}

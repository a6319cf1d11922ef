from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clockevents.events.validation import Invalid, check_transition, clean_event_fields

VALID = {
    "slug": "clock-2027",
    "title": "  CLOCK   2027 ",
    "timezone": "Europe/Rome",
    "starts_on": "2027-03-10",
    "ends_on": "2027-03-11",
}


def test_clean_event_fields_valid_minimum() -> None:
    values, errors = clean_event_fields(VALID)
    assert errors == {}
    assert values == {
        "slug": "clock-2027",
        "title": "CLOCK 2027",
        "timezone": "Europe/Rome",
        "starts_on": date(2027, 3, 10),
        "ends_on": date(2027, 3, 11),
    }


def test_clean_event_fields_missing_required_on_create() -> None:
    _, errors = clean_event_fields({})
    assert set(errors) == {"slug", "title", "timezone", "starts_on", "ends_on"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "Clock 2027", "Use lowercase letters, digits and hyphens (at most 64), e.g. clock-2026."),
        ("slug", "-clock", "Use lowercase letters, digits and hyphens (at most 64), e.g. clock-2026."),
        ("slug", "a" * 65, "Use lowercase letters, digits and hyphens (at most 64), e.g. clock-2026."),
        ("title", "x" * 201, "Use at most 200 characters."),
        ("description", 5, "Enter text."),
        ("timezone", "Europe/Atlantis", "Unknown time zone; use an IANA name such as Europe/Rome."),
        ("timezone", "../etc/passwd", "Unknown time zone; use an IANA name such as Europe/Rome."),
        ("starts_on", "10/03/2027", "Enter a date as YYYY-MM-DD."),
        ("ends_on", "2027-03-09", "The last day cannot come before the first."),
        ("ends_on", "2027-05-01", "An event lasts at most 31 days."),
        ("registration_opens_at", "tomorrow", "Enter a date and time, e.g. 2026-12-01T09:00."),
        ("status", "archived", "Choose a status: draft, open, live, closed."),
        ("status", "live", "An event that is draft cannot become live: it can only move on to open."),
        ("meeting_minutes", 4, "Enter a number from 5 to 240."),
        ("meeting_minutes", "twenty", "Enter a whole number."),
        ("gap_minutes", -1, "Enter a number from 0 to 120."),
        ("tables", True, "Enter a whole number."),
        ("tables", 0, "Enter a number from 1 to 10000."),
        ("format", "zoom", "Choose a format: virtual, in_person, hybrid."),
        ("requires_approval", "maybe", "Enter true or false."),
        ("participant_types", [], "Choose at least one participant type."),
        (
            "participant_types",
            ["startup"],
            "Unknown type 'startup'; choose from business, research, finance, public_body, other.",
        ),
        (
            "opportunity_kinds",
            ["offer", "9 lives"],
            "'9 lives': start with a letter; letters, digits, spaces, - and _ only.",
        ),
        ("opportunity_kinds", " , ", "Keep at least one opportunity kind."),
    ],
)
def test_clean_event_fields_each_wrong_field(field: str, value: object, message: str) -> None:
    _, errors = clean_event_fields({**VALID, field: value})
    assert errors == {field: message}


def test_clean_event_fields_registration_window_order() -> None:
    _, errors = clean_event_fields(
        {**VALID, "registration_opens_at": "2027-02-01T10:00", "registration_closes_at": "2027-02-01T10:00"}
    )
    assert errors == {"registration_closes_at": "Registration must close after it opens."}


def test_clean_event_fields_naive_moment_is_in_event_zone() -> None:
    values, errors = clean_event_fields(
        {**VALID, "timezone": "America/New_York", "registration_opens_at": "2027-01-15T09:00"}
    )
    assert errors == {}
    assert values["registration_opens_at"] == datetime(2027, 1, 15, 14, 0, tzinfo=UTC)


def test_clean_event_fields_aware_moment_kept() -> None:
    values, _ = clean_event_fields({**VALID, "registration_closes_at": "2027-01-15T09:00:00Z"})
    assert values["registration_closes_at"] == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def test_clean_event_fields_kinds_normalised_and_deduplicated() -> None:
    values, _ = clean_event_fields({**VALID, "opportunity_kinds": "Offer, request, offer,  Joint  venture"})
    assert values["opportunity_kinds"] == ["offer", "request", "joint venture"]


def test_clean_event_fields_edit_checks_merged_dates() -> None:
    current = {
        "status": "open",
        "timezone": "Europe/Rome",
        "starts_on": date(2027, 3, 10),
        "ends_on": date(2027, 3, 11),
    }
    values, errors = clean_event_fields({"starts_on": "2027-03-12"}, current=current)
    assert errors == {"ends_on": "The last day cannot come before the first."}
    values, errors = clean_event_fields({"title": "Renamed"}, current=current)
    assert (values, errors) == ({"title": "Renamed"}, {})


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("draft", "draft"), ("draft", "open"), ("open", "live"), ("live", "closed"), ("closed", "closed")],
)
def test_check_transition_forward_allowed(current: str, wanted: str) -> None:
    check_transition(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("open", "draft"), ("live", "open"), ("closed", "live"), ("draft", "closed"), ("open", "closed")],
)
def test_check_transition_backwards_or_skipping_refused(current: str, wanted: str) -> None:
    with pytest.raises(Invalid):
        check_transition(current, wanted)

"""Form helpers shared by the registration pages: the wizard state and the slot checkboxes."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from clockevents.events.models import Event, Slot
from clockevents.registration.validation import OrganisationInput, RegistrationInput, timezones
from web.forms import words
from web.templating import PARTICIPANT_TYPE_LABELS

ORG_FIELDS = ("name", "kind", "country", "city", "website", "description", "size")
TEXT_FIELDS = (
    "org_choice",
    *(f"organisation.{f}" for f in ORG_FIELDS),
    "cluster_id",
    "participant_type",
    "job_title",
    "pitch",
    "keywords",
    "sectors",
    "languages",
    "timezone",
)
STEP_TITLES = {1: "Organisation", 2: "Profile", 3: "Availability", 4: "Confirm"}
PROFILE_FIELDS = {
    "cluster_id",
    "participant_type",
    "job_title",
    "pitch",
    "keywords",
    "sectors",
    "languages",
    "timezone",
}


def step_of(field: str) -> int:
    """The wizard step that shows ``field`` (used to send the user back to the first error)."""
    if field == "organisation_id" or field.startswith("organisation."):
        return 1
    if field in PROFILE_FIELDS:
        return 2
    return 3


def read_state(params: Mapping[str, Any]) -> dict[str, Any]:
    """The wizard's values as typed, from a form or a query string (a multi-dict either way)."""
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        raw = params.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else ""
    getall = getattr(params, "getall", None)
    slots = getall("unavailable_slots", []) if getall else []
    values["unavailable_slots"] = [s.strip() for s in slots if isinstance(s, str) and s.strip()]
    values["listed"] = params.get("listed") == "1"
    # Typing a new organisation's name without ticking "new" still means a new organisation.
    if not values["org_choice"] and values["organisation.name"]:
        values["org_choice"] = "new"
    return values


def int_or_invalid(value: str) -> int:
    # A tampered, non-numeric choice becomes an id no row has, so the service reports it.
    return int(value) if value.isdigit() else -1


def to_input(values: dict[str, Any]) -> RegistrationInput:
    """Turn the wizard's values into the service's input."""
    choice = values["org_choice"]
    data = RegistrationInput(
        cluster_id=int_or_invalid(values["cluster_id"]) if values["cluster_id"] else None,
        participant_type=values["participant_type"],
        job_title=values["job_title"],
        pitch=values["pitch"],
        keywords=words(values["keywords"]),
        sectors=words(values["sectors"]),
        languages=words(values["languages"]),
        timezone=values["timezone"],
        unavailable_slots=[int_or_invalid(s) for s in values["unavailable_slots"]],
        listed=values["listed"],
    )
    if choice == "new":
        data.organisation = OrganisationInput(**{f: values[f"organisation.{f}"] for f in ORG_FIELDS})
    elif choice:
        data.organisation_id = int_or_invalid(choice)
    return data


def type_options(event: Event) -> list[tuple[str, str]]:
    return [(t, PARTICIPANT_TYPE_LABELS.get(t, t)) for t in event.participant_types or []]


def timezone_options() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(timezones())]


def slot_days(
    slots: list[Slot], zone: str, checked: list[str], event_zone: str = ""
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Slots grouped by local day in ``zone``, each with its local time range and checked state.

    When the event runs in another zone, each label also gives the event's time, so the
    participant and the organisers speak of the same slot.
    """
    tz = ZoneInfo(zone if zone in timezones() else "UTC")
    home = ZoneInfo(event_zone) if event_zone and event_zone != zone and event_zone in timezones() else None
    chosen = set(checked)
    rows = []
    for s in slots:
        label = f"{s.starts_at.astimezone(tz):%H:%M}\u2013{s.ends_at.astimezone(tz):%H:%M}"
        if home is not None:
            label += f" ({s.starts_at.astimezone(home):%H:%M} event time)"
        rows.append(
            {
                "index": s.index,
                "day": s.starts_at.astimezone(tz).strftime("%A %d %B"),
                "label": label,
                "checked": str(s.index) in chosen,
            }
        )
    return [(day, list(items)) for day, items in groupby(rows, key=lambda r: r["day"])]

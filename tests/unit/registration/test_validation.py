from __future__ import annotations

from clockevents.events.models import Cluster, Event
from clockevents.registration.validation import (
    OpportunityInput,
    OrganisationInput,
    check_cluster,
    check_languages,
    check_slots,
    check_tags,
    check_timezone,
    check_type,
    check_website,
    clean_tags,
    validate_opportunity,
    validate_organisation,
)


def event() -> Event:
    return Event(participant_types=["business", "research"], opportunity_kinds=["offer", "request"])


def clusters() -> list[Cluster]:
    return [Cluster(id=1, name="Nautical"), Cluster(id=2, name="Stone")]


def test_validate_organisation_cleans_good_input() -> None:
    errors: dict[str, str] = {}
    org = validate_organisation(
        OrganisationInput(
            name="  Blue   Yachts ",
            kind="business",
            country="it",
            city=" Pisa ",
            website="https://b.example/x",
            size="250+",
        ),
        errors,
    )
    assert errors == {}
    assert (org.name, org.country, org.city, org.website, org.size) == (
        "Blue Yachts",
        "IT",
        "Pisa",
        "https://b.example/x",
        "250+",
    )


def test_validate_organisation_reports_every_field_with_prefix() -> None:
    errors: dict[str, str] = {}
    validate_organisation(
        OrganisationInput(
            name="",
            kind="pirate",
            country="ZZ",
            city="c" * 121,
            website="javascript:alert(1)",
            description="d" * 2001,
            size="5",
        ),
        errors,
        prefix="organisation.",
    )
    assert errors == {
        "organisation.name": "Enter the organisation's name.",
        "organisation.kind": "Choose business, research, finance, public body or other.",
        "organisation.country": "Enter a two-letter country code such as IT or FR.",
        "organisation.city": "Use at most 120 characters.",
        "organisation.website": "Enter a web address starting with http:// or https://.",
        "organisation.description": "Use at most 2000 characters.",
        "organisation.size": "Choose 1-9, 10-49, 50-249 or 250+.",
    }


def test_validate_organisation_name_too_long() -> None:
    errors: dict[str, str] = {}
    validate_organisation(OrganisationInput(name="n" * 201, kind="other", country="FR"), errors)
    assert errors == {"name": "Use at most 200 characters."}


def test_check_website_accepts_empty_and_http() -> None:
    errors: dict[str, str] = {}
    assert check_website("", errors) == ""
    assert check_website("http://a.example", errors) == "http://a.example"
    assert errors == {}
    for bad in ("ftp://a.example", "https://", "www.a.example", "https://a b.example"):
        errors = {}
        check_website(bad, errors)
        assert errors == {"website": "Enter a web address starting with http:// or https://."}, bad


def test_check_cluster_by_id_name_and_missing() -> None:
    errors: dict[str, str] = {}
    assert check_cluster(clusters(), 2, "", errors) == 2
    assert check_cluster(clusters(), None, " stone ", errors) == 2
    assert errors == {}
    check_cluster(clusters(), None, "", errors)
    assert errors == {"cluster_id": "Choose your cluster."}
    errors = {}
    check_cluster(clusters(), 7, "", errors)
    assert errors == {"cluster_id": "Choose one of the event's clusters."}
    errors = {}
    check_cluster(clusters(), None, "Fashion", errors)
    assert errors == {"cluster_id": "Choose one of the event's clusters."}
    errors = {}
    assert check_cluster([], None, "", errors) is None
    assert errors == {}


def test_check_type_must_be_admitted_by_event() -> None:
    errors: dict[str, str] = {}
    assert check_type(event(), "research", errors) == "research"
    check_type(event(), "finance", errors)
    assert errors == {"participant_type": "Choose one of the participant types this event admits."}


def test_check_tags_dedupes_and_limits() -> None:
    assert clean_tags([" a ", "A", "b  c", ""]) == ["a", "b c"]
    errors: dict[str, str] = {}
    check_tags([f"t{i}" for i in range(21)], "keywords", errors)
    assert errors == {"keywords": "Give at most 20."}
    errors = {}
    check_tags(["x" * 61], "sectors", errors)
    assert errors == {"sectors": "Keep each one under 60 characters."}


def test_check_languages_wants_iso_codes() -> None:
    errors: dict[str, str] = {}
    assert check_languages(["EN", " it", "en"], errors) == ["en", "it"]
    assert errors == {}
    check_languages(["English"], errors)
    assert errors == {"languages": "Use ISO 639 language codes such as en, it, fr."}


def test_check_timezone_is_iana() -> None:
    errors: dict[str, str] = {}
    assert check_timezone("America/New_York", errors) == "America/New_York"
    check_timezone("CEST+2", errors)
    assert errors == {"timezone": "Choose a time zone such as Europe/Rome."}


def test_check_slots_must_exist_in_grid() -> None:
    errors: dict[str, str] = {}
    assert check_slots([3, 1, 3], {1, 2, 3}, errors) == [1, 3]
    assert errors == {}
    check_slots([4], {1, 2, 3}, errors)
    assert errors == {"unavailable_slots": "Choose slots of this event."}


def test_validate_opportunity_reports_every_field() -> None:
    cleaned, errors = validate_opportunity(
        event(), OpportunityInput(kind="gift", title="", description="d" * 2001, keywords=["k"] * 1)
    )
    assert errors == {
        "kind": "Choose one of: offer, request.",
        "title": "Give the opportunity a title.",
        "description": "Use at most 2000 characters.",
    }
    cleaned, errors = validate_opportunity(event(), OpportunityInput(kind="offer", title=" Sensors  kit "))
    assert (cleaned.title, errors) == ("Sensors kit", {})

"""Input shapes for registration and their validation: every wrong field reported at once.

The web layer (forms, JSON) and the CSV import fill these dataclasses; the services validate
them here before anything is written, so a bad row never leaves half a registration behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from clockevents.events.models import PARTICIPANT_TYPES, Cluster, Event
from clockevents.registration.models import ORGANISATION_SIZES, PARTICIPANT_STATUSES

ORGANISATION_KINDS = PARTICIPANT_TYPES
PITCH_MAX = 600
JOB_TITLE_MAX = 120
ORG_NAME_MAX = 200
CITY_MAX = 120
WEBSITE_MAX = 300
ORG_DESCRIPTION_MAX = 2000
TAG_MAX = 60
TAGS_MAX = 20
LANGUAGES_MAX = 10
OPPORTUNITY_TITLE_MAX = 200
OPPORTUNITY_DESCRIPTION_MAX = 2000

# ISO 3166-1 alpha-2, plus XK (Kosovo), which European programmes use.
_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")


@dataclass
class OrganisationInput:
    """An organisation's fields as typed (strings; validated by ``validate_organisation``)."""

    name: str = ""
    kind: str = ""
    country: str = ""
    city: str = ""
    website: str = ""
    description: str = ""
    size: str = ""


@dataclass
class RegistrationInput:
    """Everything one registration needs: an existing organisation or a new one, and the profile.

    Set ``organisation_id`` to join an existing organisation, else fill ``organisation``.
    The cluster is given by id or, for imports, by name (``cluster_name``).
    ``listed`` is the consent to appear in the directory; it is never assumed.
    """

    organisation_id: int | None = None
    organisation: OrganisationInput | None = None
    cluster_id: int | None = None
    cluster_name: str = ""
    participant_type: str = ""
    job_title: str = ""
    pitch: str = ""
    keywords: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    timezone: str = ""
    unavailable_slots: list[int] = field(default_factory=list)
    listed: bool = False


@dataclass
class ParticipantUpdate:
    """A partial profile change: ``None`` leaves a field as it is."""

    cluster_id: int | None = None
    participant_type: str | None = None
    job_title: str | None = None
    pitch: str | None = None
    keywords: list[str] | None = None
    sectors: list[str] | None = None
    languages: list[str] | None = None
    timezone: str | None = None
    unavailable_slots: list[int] | None = None
    listed: bool | None = None
    status: str | None = None


@dataclass
class OpportunityInput:
    kind: str = ""
    title: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)


MAX_ID = 2**31 - 1


def is_id(value: int | None) -> bool:
    """Whether ``value`` can be a row id (PostgreSQL rejects integers beyond 32 bits outright)."""
    return value is not None and 0 < value <= MAX_ID


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def no_nul(value: str | None) -> str:
    """Drop NUL characters: PostgreSQL text cannot hold them, and no person types one."""
    return (value or "").replace("\x00", "")


def clean(value: str | None) -> str:
    """Trim and collapse inner whitespace runs of a one-line value."""
    return " ".join(no_nul(value).split())


def clean_tags(values: list[str]) -> list[str]:
    """Trim each tag and drop empty ones and case-insensitive repeats, keeping the order."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        tag = clean(value)
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out


def check_tags(values: list[str], name: str, errors: dict[str, str]) -> list[str]:
    tags = clean_tags(values)
    if len(tags) > TAGS_MAX:
        errors[name] = f"Give at most {TAGS_MAX}."
    elif any(len(t) > TAG_MAX for t in tags):
        errors[name] = f"Keep each one under {TAG_MAX} characters."
    return tags


def check_languages(values: list[str], errors: dict[str, str], name: str = "languages") -> list[str]:
    codes = [c.lower() for c in clean_tags(values)]
    if len(codes) > LANGUAGES_MAX:
        errors[name] = f"Give at most {LANGUAGES_MAX} languages."
    elif any(not LANGUAGE_RE.match(c) for c in codes):
        errors[name] = "Use ISO 639 language codes such as en, it, fr."
    return codes


def check_text(value: str, name: str, limit: int, errors: dict[str, str], *, required: str = "") -> str:
    """Return the trimmed ``value``; record a message if missing (when ``required``) or too long."""
    value = no_nul(value).strip()
    if required and not value:
        errors[name] = required
    elif len(value) > limit:
        errors[name] = f"Use at most {limit} characters."
    return value


def check_website(value: str, errors: dict[str, str], name: str = "website") -> str:
    value = no_nul(value).strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        errors[name] = "Enter a web address starting with http:// or https://."
    elif len(value) > WEBSITE_MAX:
        errors[name] = f"Use at most {WEBSITE_MAX} characters."
    return value


def validate_organisation(
    data: OrganisationInput, errors: dict[str, str], prefix: str = ""
) -> OrganisationInput:
    """Return the cleaned organisation, adding a message per wrong field (keys ``prefix + field``)."""
    p = prefix
    name = clean(data.name)
    if not name:
        errors[p + "name"] = "Enter the organisation's name."
    elif len(name) > ORG_NAME_MAX:
        errors[p + "name"] = f"Use at most {ORG_NAME_MAX} characters."
    kind = (data.kind or "").strip()
    if kind not in ORGANISATION_KINDS:
        errors[p + "kind"] = "Choose business, research, finance, public body or other."
    country = (data.country or "").strip().upper()
    if country not in COUNTRIES:
        errors[p + "country"] = "Enter a two-letter country code such as IT or FR."
    city = clean(data.city)
    if len(city) > CITY_MAX:
        errors[p + "city"] = f"Use at most {CITY_MAX} characters."
    website = check_website(data.website, errors, p + "website")
    description = check_text(data.description, p + "description", ORG_DESCRIPTION_MAX, errors)
    size = (data.size or "").strip()
    if size and size not in ORGANISATION_SIZES:
        errors[p + "size"] = "Choose 1-9, 10-49, 50-249 or 250+."
    return OrganisationInput(
        name=name, kind=kind, country=country, city=city, website=website, description=description, size=size
    )


def check_cluster(
    clusters: list[Cluster], cluster_id: int | None, cluster_name: str, errors: dict[str, str]
) -> int | None:
    """Resolve the cluster (by id, else by name) among the event's ``clusters``."""
    if not clusters:
        return None
    if cluster_id is None and clean(cluster_name):
        wanted = clean(cluster_name).lower()
        cluster_id = next((c.id for c in clusters if c.name.lower() == wanted), None)
        if cluster_id is None:
            errors["cluster_id"] = "Choose one of the event's clusters."
            return None
    if cluster_id is None:
        errors["cluster_id"] = "Choose your cluster."
    elif cluster_id not in {c.id for c in clusters}:
        errors["cluster_id"] = "Choose one of the event's clusters."
    return cluster_id


def check_type(event: Event, value: str, errors: dict[str, str]) -> str:
    value = (value or "").strip()
    if value not in (event.participant_types or []):
        errors["participant_type"] = "Choose one of the participant types this event admits."
    return value


def check_timezone(value: str, errors: dict[str, str]) -> str:
    value = (value or "").strip()
    if value not in timezones():
        errors["timezone"] = "Choose a time zone such as Europe/Rome."
    return value


def check_slots(values: list[int], slot_indexes: set[int], errors: dict[str, str]) -> list[int]:
    try:
        wanted = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        errors["unavailable_slots"] = "Choose slots of this event."
        return []
    if any(v not in slot_indexes for v in wanted):
        errors["unavailable_slots"] = "Choose slots of this event."
    return wanted


def check_status(value: str, errors: dict[str, str]) -> str:
    if value not in PARTICIPANT_STATUSES:
        errors["status"] = "Choose pending, approved or rejected."
    return value


def validate_opportunity(event: Event, data: OpportunityInput) -> tuple[OpportunityInput, dict[str, str]]:
    """Return the cleaned opportunity and a message per wrong field."""
    errors: dict[str, str] = {}
    kind = (data.kind or "").strip()
    if kind not in (event.opportunity_kinds or []):
        errors["kind"] = "Choose one of: " + ", ".join(event.opportunity_kinds or []) + "."
    title = clean(data.title)
    if not title:
        errors["title"] = "Give the opportunity a title."
    elif len(title) > OPPORTUNITY_TITLE_MAX:
        errors["title"] = f"Use at most {OPPORTUNITY_TITLE_MAX} characters."
    description = check_text(data.description, "description", OPPORTUNITY_DESCRIPTION_MAX, errors)
    keywords = check_tags(data.keywords, "keywords", errors)
    return OpportunityInput(kind=kind, title=title, description=description, keywords=keywords), errors

"""API shapes of the registration context (msgspec structs) and their conversions.

Every input field has a default, so the service, not the decoder, reports each wrong field.
"""

from __future__ import annotations

import msgspec

from clockevents.registration.models import Opportunity, Organisation
from clockevents.registration.validation import OrganisationInput, RegistrationInput


class OrganisationIn(msgspec.Struct):
    name: str | None = None
    kind: str | None = None
    country: str | None = None
    city: str | None = None
    website: str | None = None
    description: str | None = None
    size: str | None = None


class RegistrationIn(msgspec.Struct):
    """Join an existing organisation (``organisation_id``) or create one (``organisation``)."""

    organisation_id: int | None = None
    organisation: OrganisationIn | None = None
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


class ParticipantPatch(msgspec.Struct):
    """Fields left out stay as they are; only staff may set ``status``."""

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


class OpportunityIn(msgspec.Struct):
    kind: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] | None = None


class OrganisationOut(msgspec.Struct):
    id: int
    name: str
    kind: str
    country: str
    city: str
    website: str
    description: str
    size: str


class OpportunityOut(msgspec.Struct):
    id: int
    participant_id: int
    kind: str
    title: str
    description: str
    keywords: list[str]


class ParticipantOut(msgspec.Struct):
    id: int
    event: str
    user_id: int | None
    name: str
    organisation: OrganisationOut
    cluster_id: int | None
    cluster: str | None
    participant_type: str
    job_title: str
    pitch: str
    keywords: list[str]
    sectors: list[str]
    languages: list[str]
    timezone: str
    unavailable_slots: list[int]
    listed: bool
    status: str
    opportunities: list[OpportunityOut]


class MemberOut(msgspec.Struct):
    participant_id: int
    name: str
    event: str
    event_title: str
    job_title: str
    status: str


class OrganisationPageOut(msgspec.Struct):
    organisation: OrganisationOut
    can_edit: bool
    members: list[MemberOut]


def organisation_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=org.id,
        name=org.name,
        kind=org.kind,
        country=org.country,
        city=org.city,
        website=org.website,
        description=org.description,
        size=org.size,
    )


def opportunity_out(item: Opportunity) -> OpportunityOut:
    return OpportunityOut(
        id=item.id,
        participant_id=item.participant_id,
        kind=item.kind,
        title=item.title,
        description=item.description,
        keywords=list(item.keywords or []),
    )


def registration_input(data: RegistrationIn) -> RegistrationInput:
    org = data.organisation
    return RegistrationInput(
        organisation_id=data.organisation_id,
        organisation=OrganisationInput(**{k: v or "" for k, v in msgspec.structs.asdict(org).items()})
        if org is not None
        else None,
        cluster_id=data.cluster_id,
        participant_type=data.participant_type or "",
        job_title=data.job_title or "",
        pitch=data.pitch or "",
        keywords=data.keywords or [],
        sectors=data.sectors or [],
        languages=data.languages or [],
        timezone=data.timezone or "",
        unavailable_slots=data.unavailable_slots or [],
        listed=bool(data.listed),
    )

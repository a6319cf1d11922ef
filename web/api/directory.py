"""Directory API: search participants and opportunities; CSV export and import for organisers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from clockevents.events.models import Event
from clockevents.events.services import get_event
from clockevents.registration import csvio, directory
from clockevents.registration.directory import DirectoryFilters, OpportunityCard, ParticipantCard
from clockevents.registration.models import Organisation

# Litestar appends "; charset=utf-8" to text media types itself.
CSV_MEDIA_TYPE = "text/csv"


class OrganisationOut(msgspec.Struct):
    id: int
    name: str
    kind: str
    country: str
    city: str


class ClusterOut(msgspec.Struct):
    id: int
    name: str


class OpportunityBrief(msgspec.Struct):
    id: int
    kind: str
    title: str


class ParticipantSummary(msgspec.Struct):
    id: int
    name: str
    organisation: OrganisationOut
    cluster: ClusterOut | None
    type: str
    job_title: str
    pitch: str
    keywords: list[str]
    opportunities: list[OpportunityBrief]
    status: str
    listed: bool


class ParticipantPage(msgspec.Struct):
    items: list[ParticipantSummary]
    total: int
    page: int
    per_page: int


class OpportunityParticipant(msgspec.Struct):
    id: int
    name: str
    type: str
    cluster: ClusterOut | None


class OpportunityOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    description: str
    keywords: list[str]
    participant: OpportunityParticipant
    organisation: OrganisationOut


class OpportunityPage(msgspec.Struct):
    items: list[OpportunityOut]
    total: int
    page: int
    per_page: int


class ImportOut(msgspec.Struct):
    imported: int
    accounts_created: int
    accounts_linked: int
    participant_ids: list[int]


def organisation_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut(id=org.id, name=org.name, kind=org.kind, country=org.country, city=org.city)


def participant_summary(card: ParticipantCard) -> ParticipantSummary:
    p = card.participant
    return ParticipantSummary(
        id=p.id,
        name=card.person_name,
        organisation=organisation_out(card.organisation),
        cluster=ClusterOut(id=card.cluster.id, name=card.cluster.name) if card.cluster else None,
        type=p.participant_type,
        job_title=p.job_title,
        pitch=p.pitch,
        keywords=list(p.keywords or []),
        opportunities=[OpportunityBrief(id=o.id, kind=o.kind, title=o.title) for o in p.opportunities],
        status=p.status,
        listed=p.listed,
    )


def opportunity_out(card: OpportunityCard) -> OpportunityOut:
    o, p = card.opportunity, card.participant
    return OpportunityOut(
        id=o.id,
        kind=o.kind,
        title=o.title,
        description=o.description,
        keywords=list(o.keywords or []),
        participant=OpportunityParticipant(
            id=p.id,
            name=card.person_name,
            type=p.participant_type,
            cluster=ClusterOut(id=card.cluster.id, name=card.cluster.name) if card.cluster else None,
        ),
        organisation=organisation_out(card.organisation),
    )


# Query values arrive as text so the service can name every bad one (not a bare 400).
_Q = QueryParameter(
    name="q", default=None, required=False, description="Words that must all appear (any case)."
)
_KIND = QueryParameter(name="kind", default=None, required=False, description="Opportunity kind.")
_CLUSTER = QueryParameter(name="cluster", default=None, required=False, description="Cluster id.")
_COUNTRY = QueryParameter(
    name="country", default=None, required=False, description="ISO country code of the organisation."
)
_TYPE = QueryParameter(name="type", default=None, required=False, description="Participant type.")
_STATUS = QueryParameter(
    name="status", default=None, required=False, description="Staff only: pending, approved, rejected."
)
_PAGE = QueryParameter(name="page", default=None, required=False, description="Page number, from 1.")
_PER_PAGE = QueryParameter(
    name="per_page", default=None, required=False, description="Items per page (default 20, max 100)."
)


@dataclass(frozen=True)
class DirectorySearch:
    """The event and the parsed filters of one directory search."""

    event: Event
    filters: DirectoryFilters


async def provide_search(
    slug: str,
    db: AsyncSession,
    user: User | None,
    q: str | None = _Q,
    kind: str | None = _KIND,
    cluster: str | None = _CLUSTER,
    country: str | None = _COUNTRY,
    participant_type: str | None = _TYPE,
    status: str | None = _STATUS,
    page: str | None = _PAGE,
    per_page: str | None = _PER_PAGE,
) -> DirectorySearch:
    """Parse the query; for bad values, a caller who may not look gets 401/403, not the 400."""
    event = await get_event(db, slug)
    try:
        filters = directory.parse_filters(
            event,
            q=q,
            kind=kind,
            cluster=cluster,
            country=country,
            participant_type=participant_type,
            status=status,
            page=page,
            per_page=per_page,
        )
    except ValidationFailed:
        await directory.directory_access(db, event, user)
        raise
    return DirectorySearch(event, filters)


_SEARCH = {"search": Provide(provide_search)}


@get(
    "/events/{slug:str}/participants",
    operation_id="listEventParticipants",
    tags=["directory"],
    dependencies=_SEARCH,
)
async def list_participants(db: AsyncSession, user: User | None, search: DirectorySearch) -> ParticipantPage:
    """Search the event's directory (registered participants and staff only)."""
    result = await directory.search_participants(db, search.event, user, search.filters)
    items = [participant_summary(c) for c in result.items]
    return ParticipantPage(items=items, total=result.total, page=result.page, per_page=result.per_page)


@get(
    "/events/{slug:str}/opportunities",
    operation_id="listEventOpportunities",
    tags=["directory"],
    dependencies=_SEARCH,
)
async def list_opportunities(db: AsyncSession, user: User | None, search: DirectorySearch) -> OpportunityPage:
    """Search the opportunities of the event's visible participants (title, description, keywords)."""
    result = await directory.search_opportunities(db, search.event, user, search.filters)
    items = [opportunity_out(c) for c in result.items]
    return OpportunityPage(items=items, total=result.total, page=result.page, per_page=result.per_page)


def csv_response(slug: str, body: str) -> Response[str]:
    return Response(
        body,
        media_type=CSV_MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{slug}-participants.csv"'},
    )


@get(
    "/events/{slug:str}/participants.csv",
    operation_id="exportEventParticipants",
    tags=["directory"],
    media_type=CSV_MEDIA_TYPE,
)
async def export_csv(slug: str, db: AsyncSession, user: User | None) -> Response[str]:
    """Download the participants the caller manages as CSV (staff only; partners: own cluster)."""
    event = await get_event(db, slug)
    return csv_response(event.slug, await csvio.export_participants(db, event, user))


async def uploaded_csv(request: Request[Any, Any, Any]) -> bytes:
    """The CSV sent as the body (text/csv) or as the ``file`` field of a multipart form."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed({"file": "Choose a CSV file to upload."})
        return await upload.read()
    return await request.body()


@post(
    "/events/{slug:str}/participants/import",
    operation_id="importEventParticipants",
    tags=["directory"],
    status_code=HTTP_201_CREATED,
)
async def import_csv(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> ImportOut:
    """Import participants from CSV (the export's columns); every row or none, per-row messages."""
    event = await get_event(db, slug)
    result = await csvio.import_participants(db, event, user, await uploaded_csv(request))
    return ImportOut(
        imported=len(result.participants),
        accounts_created=result.accounts_created,
        accounts_linked=result.accounts_linked,
        participant_ids=[p.id for p in result.participants],
    )


routes = [list_participants, list_opportunities, export_csv, import_csv]

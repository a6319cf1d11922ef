"""The event directory: who is registered and what they offer or seek, searchable and filtered.

Visibility is decided here, never in a controller: the public part of the directory (approved
participants who consented to be listed) is open to everyone registered for the event and to its
staff; staff also see pending, rejected and unlisted participants within their scope (organisers:
the whole event; cluster partners: their own cluster).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Text, and_, cast, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, selectinload

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from clockevents.events.models import Cluster, Event
from clockevents.events.permissions import Access, access_for, require_staff
from clockevents.registration.models import PARTICIPANT_STATUSES, Opportunity, Organisation, Participant
from clockevents.registration.search import normalise

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 200
# More words than this add cost and no precision; the rest are ignored.
MAX_QUERY_WORDS = 8
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class DirectoryFilters:
    """A validated directory query (build it with ``parse_filters``)."""

    q: str = ""
    kind: str | None = None
    cluster_id: int | None = None
    country: str | None = None
    participant_type: str | None = None
    status: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def words(self) -> list[str]:
        return normalise(self.q).split()[:MAX_QUERY_WORDS]


@dataclass(frozen=True)
class DirectoryPage(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ParticipantCard:
    """One participant as the directory shows it (organisation and opportunities loaded)."""

    participant: Participant
    person_name: str
    cluster: Cluster | None
    email: str = ""  # shown to staff only (the participant admin), never in the public directory

    @property
    def organisation(self) -> Organisation:
        return self.participant.organisation


@dataclass(frozen=True)
class OpportunityCard:
    """One opportunity with the participant and organisation behind it."""

    opportunity: Opportunity
    participant: Participant
    person_name: str
    cluster: Cluster | None

    @property
    def organisation(self) -> Organisation:
        return self.participant.organisation


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _positive_int(value: str | None, name: str, errors: dict[str, str], message: str) -> int | None:
    if _blank(value):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[name] = message
        return None
    # Beyond a 32-bit id the database would fail, not answer "nothing found".
    if not -MAX_NUMBER <= number <= MAX_NUMBER:
        errors[name] = message
        return None
    return number


def parse_filters(
    event: Event,
    *,
    q: str | None = None,
    kind: str | None = None,
    cluster: str | None = None,
    country: str | None = None,
    participant_type: str | None = None,
    status: str | None = None,
    page: str | None = None,
    per_page: str | None = None,
) -> DirectoryFilters:
    """Validate raw query values (as typed); raise ValidationFailed with a message per bad one."""
    errors: dict[str, str] = {}
    text = (q or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        errors["q"] = f"Use at most {MAX_QUERY_LENGTH} characters."
    elif "\x00" in text:  # PostgreSQL refuses NUL in text: say so rather than fail
        errors["q"] = "Remove the control characters."
    kinds = event.opportunity_kinds or []
    kind_value = None if _blank(kind) else str(kind).strip()
    if kind_value is not None and kind_value not in kinds:
        errors["kind"] = "Choose one of: " + ", ".join(kinds) + "."
    cluster_id = _positive_int(cluster, "cluster", errors, "Choose one of the event's clusters.")
    country_value = None if _blank(country) else str(country).strip().upper()
    if country_value is not None and (len(country_value) != 2 or not country_value.isalpha()):
        errors["country"] = "Enter a two-letter country code such as IT or FR."
    types = event.participant_types or []
    type_value = None if _blank(participant_type) else str(participant_type).strip()
    if type_value is not None and type_value not in types:
        errors["type"] = "Choose one of: " + ", ".join(types) + "."
    status_value = None if _blank(status) else str(status).strip()
    if status_value is not None and status_value not in PARTICIPANT_STATUSES:
        errors["status"] = "Choose pending, approved or rejected."
    page_value = _positive_int(page, "page", errors, "Enter a page number (1 or more).")
    if page_value is not None and page_value < 1:
        errors["page"] = "Enter a page number (1 or more)."
    size = _positive_int(per_page, "per_page", errors, f"Enter a number from 1 to {MAX_PER_PAGE}.")
    if size is not None and not 1 <= size <= MAX_PER_PAGE:
        errors["per_page"] = f"Enter a number from 1 to {MAX_PER_PAGE}."
    if errors:
        raise ValidationFailed(errors)
    return DirectoryFilters(
        q=text,
        kind=kind_value,
        cluster_id=cluster_id,
        country=country_value,
        participant_type=type_value,
        status=status_value,
        page=page_value or 1,
        per_page=size or DEFAULT_PER_PAGE,
    )


async def directory_access(db: AsyncSession, event: Event, user: User | None) -> Access:
    """Return the caller's access if they may see the directory: staff or registered (not rejected).

    Raises NotAuthenticated for anonymous callers and PermissionDenied for outsiders.
    """
    if user is None:
        raise NotAuthenticated()
    access = await access_for(db, event, user)
    if access.is_staff:
        return access
    registered = await db.scalar(
        select(Participant.id).where(
            Participant.event_id == event.id,
            Participant.user_id == user.id,
            Participant.status != "rejected",
        )
    )
    if registered is None:
        raise PermissionDenied("Only the event's participants and organisers can see its directory.")
    return access


def managed_by(access: Access) -> ColumnElement[bool]:
    """Participants the caller manages: the whole event for organisers, one cluster for a partner."""
    if access.is_organiser:
        return true()
    if access.role == "cluster_partner":
        if access.cluster_id is None:
            return false()
        return Participant.cluster_id == access.cluster_id
    return false()


def _visible(access: Access) -> ColumnElement[bool]:
    public = and_(Participant.status == "approved", Participant.listed.is_(True))
    if access.is_organiser:
        return true()
    return or_(public, managed_by(access))


def like_pattern(word: str) -> str:
    """A LIKE pattern matching ``word`` anywhere, with LIKE's wildcards taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _participant_conditions(
    event: Event, access: Access, filters: DirectoryFilters, *, manage: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Participant.event_id == event.id,
        managed_by(access) if manage else _visible(access),
    ]
    for word in filters.words:
        conditions.append(Participant.search_text.like(like_pattern(word), escape="\\"))
    if filters.kind is not None:
        conditions.append(
            exists(
                select(Opportunity.id).where(
                    Opportunity.participant_id == Participant.id, Opportunity.kind == filters.kind
                )
            )
        )
    if filters.cluster_id is not None:
        conditions.append(Participant.cluster_id == filters.cluster_id)
    if filters.country is not None:
        conditions.append(Organisation.country == filters.country)
    if filters.participant_type is not None:
        conditions.append(Participant.participant_type == filters.participant_type)
    if filters.status is not None:
        conditions.append(Participant.status == filters.status)
    return conditions


def _check_status_filter(access: Access, filters: DirectoryFilters) -> None:
    if filters.status is not None and not access.is_staff:
        raise ValidationFailed({"status": "Only the event's organisers may filter by status."})


def org_order(db: AsyncSession) -> Sequence[ColumnElement[Any]]:
    """Organisation name, case-folded, compared byte-wise so SQLite and PostgreSQL agree."""
    name: ColumnElement[Any] = func.lower(Organisation.name)
    if db.get_bind().dialect.name == "postgresql":
        name = name.collate("C")
    return (name,)


async def _count(db: AsyncSession, query: Select[Any]) -> int:
    return int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def _page_ids(
    db: AsyncSession, query: Select[Any], tie_breaker: Any, filters: DirectoryFilters
) -> tuple[list[int], int]:
    """The ids on the requested page, in order, and the number of matches.

    Only narrow rows (id, sort key) are sorted, and the count rides along as a window function,
    so the page costs one scan; the full rows of those few ids are loaded afterwards.
    """
    rows = (
        await db.execute(
            query.add_columns(func.count().over())
            .order_by(*org_order(db), tie_breaker)
            .offset((filters.page - 1) * filters.per_page)
            .limit(filters.per_page)
        )
    ).all()
    if rows:
        return [int(r[0]) for r in rows], int(rows[0][1])
    # Past the last page (or nothing matches): the window count came back empty.
    return [], 0 if filters.page == 1 else await _count(db, query)


async def search_participants(
    db: AsyncSession,
    event: Event,
    user: User | None,
    filters: DirectoryFilters,
    *,
    manage: bool = False,
) -> DirectoryPage[ParticipantCard]:
    """One page of the participants ``user`` may see, ordered by organisation name, then id.

    With ``manage`` (the organisers' participant admin) the caller must be staff and sees exactly
    the participants they manage, whatever their status or consent.
    """
    if manage:
        access = await require_staff(db, event, user)
    else:
        access = await directory_access(db, event, user)
    _check_status_filter(access, filters)
    conditions = _participant_conditions(event, access, filters, manage=manage)
    base = select(Participant.id).join(Organisation, Organisation.id == Participant.organisation_id)
    ids, total = await _page_ids(db, base.where(*conditions), Participant.id, filters)
    rows = (
        await db.execute(
            select(Participant, User.name, User.email, Cluster)
            .join(Participant.organisation)
            .outerjoin(User, User.id == Participant.user_id)
            .outerjoin(Cluster, Cluster.id == Participant.cluster_id)
            .where(Participant.id.in_(ids))
            .options(contains_eager(Participant.organisation), selectinload(Participant.opportunities))
        )
    ).all()
    found = {
        p.id: ParticipantCard(participant=p, person_name=n or "", cluster=c, email=e or "")
        for p, n, e, c in rows
    }
    items = [found[i] for i in ids if i in found]
    return DirectoryPage(items=items, total=total, page=filters.page, per_page=filters.per_page)


def _opportunity_word(word: str) -> ColumnElement[bool]:
    """``word`` in the opportunity's title, description or keywords (any case)."""
    pattern = like_pattern(word)
    options = [
        func.lower(Opportunity.title).like(pattern, escape="\\"),
        func.lower(Opportunity.description).like(pattern, escape="\\"),
        func.lower(cast(Opportunity.keywords, Text)).like(pattern, escape="\\"),
    ]
    # JSON text may hold non-ASCII letters as \\u escapes; match that spelling as well.
    escaped = json.dumps(word)[1:-1]
    if escaped != word:
        options.append(func.lower(cast(Opportunity.keywords, Text)).like(like_pattern(escaped), escape="\\"))
    return or_(*options)


async def search_opportunities(
    db: AsyncSession, event: Event, user: User | None, filters: DirectoryFilters
) -> DirectoryPage[OpportunityCard]:
    """One page of the opportunities of participants ``user`` may see.

    ``q`` searches the opportunity's title, description and keywords; the other filters apply
    to the opportunity (kind) or to its participant (cluster, country, type, status).
    """
    access = await directory_access(db, event, user)
    _check_status_filter(access, filters)
    conditions: list[ColumnElement[bool]] = [
        Opportunity.event_id == event.id,
        Participant.event_id == event.id,
        _visible(access),
    ]
    conditions += [_opportunity_word(word) for word in filters.words]
    if filters.kind is not None:
        conditions.append(Opportunity.kind == filters.kind)
    if filters.cluster_id is not None:
        conditions.append(Participant.cluster_id == filters.cluster_id)
    if filters.country is not None:
        conditions.append(Organisation.country == filters.country)
    if filters.participant_type is not None:
        conditions.append(Participant.participant_type == filters.participant_type)
    if filters.status is not None:
        conditions.append(Participant.status == filters.status)
    base = (
        select(Opportunity.id)
        .join(Participant, Participant.id == Opportunity.participant_id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
    )
    ids, total = await _page_ids(db, base.where(*conditions), Opportunity.id, filters)
    rows = (
        await db.execute(
            select(Opportunity, Participant, User.name, Cluster)
            .join(Participant, Participant.id == Opportunity.participant_id)
            .join(Participant.organisation)
            .outerjoin(User, User.id == Participant.user_id)
            .outerjoin(Cluster, Cluster.id == Participant.cluster_id)
            .where(Opportunity.id.in_(ids))
            .options(contains_eager(Participant.organisation))
        )
    ).all()
    found = {
        o.id: OpportunityCard(opportunity=o, participant=p, person_name=n or "", cluster=c)
        for o, p, n, c in rows
    }
    items = [found[i] for i in ids if i in found]
    return DirectoryPage(items=items, total=total, page=filters.page, per_page=filters.per_page)


async def event_clusters(db: AsyncSession, event: Event) -> list[Cluster]:
    """The event's clusters in their display order."""
    result = await db.scalars(
        select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position, Cluster.id)
    )
    return list(result)


async def filter_choices(db: AsyncSession, event: Event, access: Access) -> dict[str, list[tuple[str, str]]]:
    """The options the directory's filter selects offer: kinds, clusters, countries, types.

    Countries come from the participants ``access`` may see, so hidden ones leave no trace.
    """
    clusters = await event_clusters(db, event)
    countries = await db.scalars(
        select(Organisation.country)
        .join(Participant, Participant.organisation_id == Organisation.id)
        .where(Participant.event_id == event.id, _visible(access))
        .distinct()
        .order_by(Organisation.country)
    )
    return {
        "kind": [(k, k.replace("_", " ").capitalize()) for k in event.opportunity_kinds or []],
        "cluster": [(str(c.id), c.name) for c in clusters],
        "country": [(c, c) for c in countries],
        "type": [(t, t.replace("_", " ").capitalize()) for t in event.participant_types or []],
        "status": [(s, s.capitalize()) for s in PARTICIPANT_STATUSES],
    }

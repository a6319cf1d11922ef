"""Events API: events, their slot grid, clusters and organisers' roles."""

from __future__ import annotations

from litestar import delete, get, patch, post, put
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events import grid, services, team
from clockevents.events.schemas import (
    ClusterIn,
    ClusterOut,
    EventIn,
    EventOut,
    EventSummary,
    GridIn,
    GridOut,
    RoleIn,
    RoleOut,
    cluster_out,
    event_out,
    event_summary,
    given,
    grid_out,
    role_out,
)
from web.api.schemas import Page
from web.auth import requires_login

TAGS = ["events"]


async def _event_out(db: AsyncSession, slug: str) -> EventOut:
    event = await services.get_event(db, slug)
    return event_out(event, await team.list_clusters(db, event))


@get("/events", operation_id="listEvents", tags=TAGS)
async def list_events(
    db: AsyncSession,
    user: User | None,
    q: str | None = Parameter(default=None, max_length=200),
    status: str | None = None,
    page: int = Parameter(default=1, ge=1, le=100000),
) -> Page[EventSummary]:
    """Events the caller may see (public ones, plus drafts they organise), soonest first."""
    events, total = await services.list_events(db, user, q=q, status=status, page=page)
    return Page(items=[event_summary(e) for e in events], total=total, page=page, per_page=services.PER_PAGE)


@post(
    "/events",
    operation_id="createEvent",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def create_event(data: JSONBody[EventIn], db: AsyncSession, user: User) -> EventOut:
    """Create an event (platform administrators); the caller becomes its owner."""
    event = await services.create_event(db, user, given(data))
    return event_out(event, [])


@get("/events/{slug:str}", operation_id="getEvent", tags=TAGS)
async def get_event(slug: str, db: AsyncSession, user: User | None) -> EventOut:
    """One event with its clusters (a draft only for its organisers)."""
    event = await services.get_visible_event(db, slug, user)
    return event_out(event, await team.list_clusters(db, event))


@patch("/events/{slug:str}", operation_id="updateEvent", tags=TAGS, guards=[requires_login])
async def update_event(slug: str, data: JSONBody[EventIn], db: AsyncSession, user: User) -> EventOut:
    """Change the fields sent (owner and organisers); status moves forward only."""
    event = await services.get_visible_event(db, slug, user)
    await services.update_event(db, event, user, given(data))
    return await _event_out(db, event.slug)


@get("/events/{slug:str}/grid", operation_id="getSlotGrid", tags=TAGS)
async def get_grid(slug: str, db: AsyncSession, user: User | None) -> GridOut:
    """Sessions per day and the slots laid out from them, in UTC and in the event's zone."""
    event = await services.get_visible_event(db, slug, user)
    sessions, slots = await grid.get_grid(db, event)
    return grid_out(event, sessions, slots)


@put("/events/{slug:str}/grid", operation_id="replaceSlotGrid", tags=TAGS, guards=[requires_login])
async def put_grid(slug: str, data: JSONBody[GridIn], db: AsyncSession, user: User) -> GridOut:
    """Replace the sessions and lay the slots out again (not once the event is live)."""
    event = await services.get_visible_event(db, slug, user)
    rows = [given(s) for s in data.sessions or []]
    await grid.save_grid(db, event, user, rows)
    sessions, slots = await grid.get_grid(db, event)
    return grid_out(event, sessions, slots)


@get("/events/{slug:str}/clusters", operation_id="listClusters", tags=TAGS)
async def list_clusters(slug: str, db: AsyncSession, user: User | None) -> list[ClusterOut]:
    """The event's co-organising clusters, in their order."""
    event = await services.get_visible_event(db, slug, user)
    return [cluster_out(c) for c in await team.list_clusters(db, event)]


@post(
    "/events/{slug:str}/clusters",
    operation_id="addCluster",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def add_cluster(slug: str, data: JSONBody[ClusterIn], db: AsyncSession, user: User) -> ClusterOut:
    """Add a co-organising cluster (owner and organisers)."""
    event = await services.get_visible_event(db, slug, user)
    return cluster_out(await team.add_cluster(db, event, user, data.name, data.description or ""))


@patch(
    "/events/{slug:str}/clusters/{cluster_id:int}",
    operation_id="updateCluster",
    tags=TAGS,
    guards=[requires_login],
)
async def update_cluster(
    slug: str, cluster_id: int, data: JSONBody[ClusterIn], db: AsyncSession, user: User
) -> ClusterOut:
    """Rename a cluster or change its description."""
    event = await services.get_visible_event(db, slug, user)
    cluster = await team.update_cluster(db, event, user, cluster_id, data.name, data.description)
    return cluster_out(cluster)


@delete(
    "/events/{slug:str}/clusters/{cluster_id:int}",
    operation_id="removeCluster",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_204_NO_CONTENT,
)
async def remove_cluster(slug: str, cluster_id: int, db: AsyncSession, user: User) -> None:
    """Remove a cluster; 409 while it still has participants."""
    event = await services.get_visible_event(db, slug, user)
    await team.remove_cluster(db, event, user, cluster_id)


@get("/events/{slug:str}/roles", operation_id="listEventRoles", tags=TAGS, guards=[requires_login])
async def list_roles(slug: str, db: AsyncSession, user: User) -> list[RoleOut]:
    """Who organises the event (its staff only)."""
    event = await services.get_visible_event(db, slug, user)
    return [role_out(v) for v in await team.list_roles(db, event, user)]


@post(
    "/events/{slug:str}/roles",
    operation_id="addEventRole",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_201_CREATED,
)
async def add_role(slug: str, data: JSONBody[RoleIn], db: AsyncSession, user: User) -> RoleOut:
    """Give an existing account a role: owner, organiser or cluster_partner (with cluster_id)."""
    event = await services.get_visible_event(db, slug, user)
    row = await team.add_role(db, event, user, email=data.email, role=data.role, cluster_id=data.cluster_id)
    views = await team.list_roles(db, event, user)
    return role_out(next(v for v in views if v.id == row.id))


@delete(
    "/events/{slug:str}/roles/{role_id:int}",
    operation_id="removeEventRole",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_204_NO_CONTENT,
)
async def remove_role(slug: str, role_id: int, db: AsyncSession, user: User) -> None:
    """Take a role away (owners only; the last owner stays)."""
    event = await services.get_visible_event(db, slug, user)
    await team.remove_role(db, event, user, role_id)


routes = [
    list_events,
    create_event,
    get_event,
    update_event,
    get_grid,
    put_grid,
    list_clusters,
    add_cluster,
    update_cluster,
    remove_cluster,
    list_roles,
    add_role,
    remove_role,
]

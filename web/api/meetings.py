"""Meetings API: change a published meeting (cancel, move) and export an event's meetings as CSV."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.changes import cancel_meeting, move_meeting
from clockevents.agenda.models import Meeting
from clockevents.agenda.views import export_csv
from clockevents.events.models import Slot
from clockevents.events.services import get_event
from web.auth import requires_login

TAGS = ["meetings"]


class CancelIn(msgspec.Struct):
    reason: Any = None  # optional text; the service reports a wrong type per field


class MoveIn(msgspec.Struct):
    slot: Any = None  # slot index (0-based, as in the agenda)
    table: Any = None  # table / virtual room number, 1..event.tables


class MeetingChanged(msgspec.Struct):
    id: int
    uid: str
    status: str
    slot: int | None  # the slot's index, as in the agenda and in PATCH
    slot_id: int | None
    table: int | None
    sequence: int
    cancel_reason: str
    cancelled_at: str | None


async def changed_out(db: AsyncSession, meeting: Meeting) -> MeetingChanged:
    slot = await db.get(Slot, meeting.slot_id) if meeting.slot_id is not None else None
    return MeetingChanged(
        id=meeting.id,
        uid=meeting.uid,
        status=meeting.status,
        slot=slot.index if slot else None,
        slot_id=meeting.slot_id,
        table=meeting.table,
        sequence=meeting.sequence,
        cancel_reason=meeting.cancel_reason,
        cancelled_at=meeting.cancelled_at.isoformat() if meeting.cancelled_at else None,
    )


@post(
    "/meetings/{meeting_id:int}/cancel",
    operation_id="cancelMeeting",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def cancel(
    meeting_id: int, db: AsyncSession, user: User, data: JSONBody[CancelIn | None] = None
) -> MeetingChanged:
    """Cancel a meeting (either participant, or staff covering either side); the other side is told."""
    meeting = await cancel_meeting(db, meeting_id, user, data.reason if data else None)
    return await changed_out(db, meeting)


@patch("/meetings/{meeting_id:int}", operation_id="moveMeeting", tags=TAGS, guards=[requires_login])
async def move(meeting_id: int, data: JSONBody[MoveIn], db: AsyncSession, user: User) -> MeetingChanged:
    """Move a meeting to another slot and/or table (organisers), checked against every hard rule."""
    meeting = await move_meeting(db, meeting_id, user, slot=data.slot, table=data.table)
    return await changed_out(db, meeting)


@get(
    "/events/{slug:str}/meetings.csv",
    operation_id="exportEventMeetingsCsv",
    tags=TAGS,
    guards=[requires_login],
    media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/* types
)
async def meetings_csv(slug: str, db: AsyncSession, user: User) -> Response[str]:
    """All meetings of the event as CSV (staff; cluster partners: their cluster's)."""
    event = await get_event(db, slug)
    body = await export_csv(db, event, user)
    return Response(
        body,
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{event.slug}-meetings.csv"'},
    )


routes = [cancel, move, meetings_csv]

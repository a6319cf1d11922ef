"""Meeting rooms: who may enter, what a newcomer is shown, and presence with attendance.

The WebSocket handler (web/live) calls these; it holds no rule of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.db import claim, utcnow
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Event, Slot
from clockevents.events.permissions import access_for
from clockevents.live.hub import LiveHub
from clockevents.live.messages import event_channel, iso, meeting_channel
from clockevents.live.models import Attendance, RoomNote
from clockevents.matchmaking.parties import Party, load_parties

CHAT_MAX = 2000
NOTE_MAX = 10_000
JOIN_OPENS_BEFORE = timedelta(minutes=5)
RECONNECT_GRACE = timedelta(seconds=20)


@dataclass(frozen=True)
class RoomAccess:
    """The caller inside one meeting room."""

    meeting: Meeting
    event: Event
    user: User
    role: str  # "participant" | "organiser"
    participant_id: int | None
    parties: dict[int, Party]

    @property
    def channel(self) -> str:
        return meeting_channel(self.meeting.id)

    @property
    def who(self) -> dict[str, Any]:
        party = self.parties.get(self.participant_id) if self.participant_id else None
        return {
            "participant_id": self.participant_id,
            "user_id": self.user.id,
            "name": party.name if party and party.name else self.user.name,
            "role": self.role,
        }

    @property
    def partner_id(self) -> int | None:
        if self.participant_id is None:
            return None
        return self.meeting.b_id if self.participant_id == self.meeting.a_id else self.meeting.a_id


# The statements of a room's way in, built once: building one (and its cache key) cost more
# CPU than running it.
_ROOM = (
    select(Meeting, Event)
    .join(Event, Event.id == Meeting.event_id)
    .where(Meeting.id == bindparam("meeting_id"))
)
_NEXT_MEETING = (
    select(Meeting, Slot)
    .join(Slot, Slot.id == Meeting.slot_id)
    .where(
        Meeting.event_id == bindparam("event_id"),
        Meeting.status == "scheduled",
        Meeting.published_at.is_not(None),
        (Meeting.a_id == bindparam("participant_id")) | (Meeting.b_id == bindparam("participant_id")),
        Slot.starts_at >= bindparam("after", type_=Slot.starts_at.type),
    )
    .order_by(Slot.starts_at)
    .limit(1)
)

_SLOT_AND_NOTE = (
    select(Slot, RoomNote)
    .outerjoin(RoomNote, RoomNote.meeting_id == bindparam("meeting_id"))
    .where(Slot.id == bindparam("slot_id"))
)
_OPEN_ATTENDANCE = insert(Attendance).returning(Attendance.id)


async def room_access(db: AsyncSession, user: User | None, meeting_id: int) -> RoomAccess:
    """Let in the meeting's two participants and the event's organisers; refuse everyone else."""
    if user is None:
        raise NotAuthenticated()
    row = (await db.execute(_ROOM, {"meeting_id": meeting_id})).first()
    if row is None:
        raise NotFound("No such meeting room.")
    meeting, event = row
    if meeting.status != "scheduled" or meeting.published_at is None or meeting.slot_id is None:
        raise NotFound("No such meeting room.")
    parties = await load_parties(db, [meeting.a_id, meeting.b_id])
    mine = [pid for pid, party in parties.items() if party.user_id == user.id]
    if mine:
        return RoomAccess(meeting, event, user, "participant", mine[0], parties)
    access = await access_for(db, event, user)
    if access.is_organiser or (
        access.is_staff and any(access.covers_cluster(p.cluster_id) for p in parties.values())
    ):
        return RoomAccess(meeting, event, user, "organiser", None, parties)
    raise PermissionDenied("Only the meeting's two participants and the organisers may enter this room.")


def _meeting_card(meeting: Meeting, slot: Slot, partner: Party | None) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "starts_at": iso(slot.starts_at),
        "ends_at": iso(slot.ends_at),
        "join_opens_at": iso(slot.starts_at - JOIN_OPENS_BEFORE),
        "partner": partner.name if partner else "",
        "organisation": partner.organisation if partner else "",
        "table": meeting.table,
        "room_url": f"/meetings/{meeting.id}/room",
    }


async def next_meeting(
    db: AsyncSession, event_id: int, participant_id: int, after: datetime
) -> tuple[Meeting, Slot] | None:
    """The participant's first published meeting starting at or after ``after``."""
    row = (
        await db.execute(
            _NEXT_MEETING, {"event_id": event_id, "participant_id": participant_id, "after": after}
        )
    ).first()
    return (row[0], row[1]) if row else None


def presence_states(room: RoomAccess, presence: list[dict[str, Any]]) -> dict[str, str]:
    """Each party's last presence state in the room ("absent" when never there)."""
    states = {str(room.meeting.a_id): "absent", str(room.meeting.b_id): "absent"}
    for message in presence:
        pid = message.get("who", {}).get("participant_id")
        if pid is not None and str(pid) in states:
            states[str(pid)] = message["state"]
    return states


async def snapshot(
    hub: LiveHub, db: AsyncSession, room: RoomAccess, ice_servers: list[dict[str, Any]]
) -> dict[str, Any]:
    """What a newcomer sees first: the meeting, both parties, presence, chat, notes, the next meeting."""
    seq, recent = await hub.recent(db, room.channel, {"note": 1, "chat": 200, "presence": None})
    row = (
        await db.execute(_SLOT_AND_NOTE, {"slot_id": room.meeting.slot_id, "meeting_id": room.meeting.id})
    ).one()
    slot, note = row[0], row[1]
    note_message = next(iter(recent["note"]), None)
    chat = recent["chat"]
    presence = recent["presence"]
    organisers = {m["who"]["user_id"]: m for m in presence if m.get("who", {}).get("role") == "organiser"}
    nxt = None
    if room.participant_id is not None:
        found = await next_meeting(db, room.event.id, room.participant_id, slot.ends_at)
        if found is not None:
            nm, ns = found
            partner_id = nm.b_id if nm.a_id == room.participant_id else nm.a_id
            parties = await load_parties(db, [partner_id])
            nxt = _meeting_card(nm, ns, parties.get(partner_id))
    return {
        "type": "snapshot",
        "seq": seq,
        "ephemeral": True,
        "server_time": iso(utcnow()),
        "me": room.who,
        "polite": room.participant_id is not None
        and room.participant_id == max(room.meeting.a_id, room.meeting.b_id),
        "meeting": {
            "id": room.meeting.id,
            "status": room.meeting.status,
            "table": room.meeting.table,
            "starts_at": iso(slot.starts_at),
            "ends_at": iso(slot.ends_at),
            "event": {"slug": room.event.slug, "title": room.event.title, "timezone": room.event.timezone},
        },
        "parties": [
            {"participant_id": p.id, "name": p.name, "organisation": p.organisation}
            for p in (room.parties.get(room.meeting.a_id), room.parties.get(room.meeting.b_id))
            if p is not None
        ],
        "presence": presence_states(room, presence),
        "organisers": [
            {"user_id": uid, "name": m["who"]["name"]}
            for uid, m in organisers.items()
            if m["state"] == "joined"
        ],
        "chat": chat,
        "note": {
            "text": note.text if note else "",
            "seq": note_message["seq"] if note_message else 0,
            "by": note_message["by"] if note_message else None,
            "at": note_message["at"] if note_message else None,
        },
        "next_meeting": nxt,
        "ice_servers": ice_servers,
    }


def check_chat(data: dict[str, Any]) -> str:
    text = data.get("text")
    stripped = text.strip() if isinstance(text, str) else ""
    if not stripped:
        raise ValidationFailed({"text": "A chat message needs some text."})
    if len(text) > CHAT_MAX:
        raise ValidationFailed({"text": f"A chat message holds at most {CHAT_MAX} characters."})
    return stripped


def _speaker(room: RoomAccess) -> dict[str, Any]:
    """Who a chat message is from, as its payload says."""
    who = room.who
    return {"participant_id": who["participant_id"], "user_id": who["user_id"], "name": who["name"]}


async def post_chat(hub: LiveHub, room: RoomAccess, data: dict[str, Any]) -> dict[str, Any]:
    payload = {"from": _speaker(room), "text": check_chat(data)}
    return await hub.post(room.channel, room.event.id, "chat", payload, user_id=room.user.id)


def chat_poster(
    hub: LiveHub, room: RoomAccess
) -> Callable[[dict[str, Any]], asyncio.Future[dict[str, Any]] | None]:
    """``post_chat`` without waiting for the message to be stored (``LiveHub.post_nowait``), for
    one connection: who speaks, and where, worked out once instead of for every message."""
    speaker, channel, author = _speaker(room), room.channel, room.user.id

    def post(data: dict[str, Any]) -> asyncio.Future[dict[str, Any]] | None:
        payload = {"from": dict(speaker), "text": check_chat(data)}
        return hub.post_nowait(channel, "chat", payload, user_id=author)

    return post


async def save_note(hub: LiveHub, db: AsyncSession, room: RoomAccess, data: dict[str, Any]) -> dict[str, Any]:
    text = data.get("text")
    if not isinstance(text, str):
        raise ValidationFailed({"text": "The notes must be text."})
    if len(text) > NOTE_MAX:
        raise ValidationFailed({"text": f"The notes hold at most {NOTE_MAX} characters."})
    async with db.begin():
        note = await db.get(RoomNote, room.meeting.id)
        if note is None:
            db.add(
                RoomNote(
                    meeting_id=room.meeting.id, text=text, updated_by_id=room.user.id, updated_at=utcnow()
                )
            )
        else:
            note.text, note.updated_by_id, note.updated_at = text, room.user.id, utcnow()
    return await hub.post(
        room.channel,
        room.event.id,
        "note",
        {"text": text, "by": {"user_id": room.user.id, "name": room.who["name"]}},
        user_id=room.user.id,
    )


async def _post_presence(hub: LiveHub, room: RoomAccess, state: str) -> None:
    payload = {"who": room.who, "state": state}
    await hub.post(room.channel, room.event.id, "presence", payload, user_id=room.user.id)
    # The event channel tells the parties' dashboards and the organisers' monitor.
    await hub.post(
        event_channel(room.event.id),
        room.event.id,
        "presence",
        {
            **payload,
            "meeting_id": room.meeting.id,
            "audience": {
                "participants": [room.meeting.a_id, room.meeting.b_id],
                "cluster_ids": sorted(
                    {p.cluster_id for p in room.parties.values() if p.cluster_id is not None}
                ),
            },
        },
        user_id=room.user.id,
    )


async def enter(hub: LiveHub, db: AsyncSession, room: RoomAccess) -> int:
    """Record the arrival (an attendance interval opens) and tell the room; return the interval id."""
    async with db.begin():
        now = utcnow()
        attendance_id: int = await db.scalar(
            _OPEN_ATTENDANCE,
            {
                "meeting_id": room.meeting.id,
                "participant_id": room.participant_id,
                "user_id": room.user.id,
                "role": room.role,
                "joined_at": now,
                "seen_at": now,
            },
        )
    await _post_presence(hub, room, "joined")
    return attendance_id


async def _still_here(db: AsyncSession, room: RoomAccess, except_id: int | None = None) -> bool:
    query = select(Attendance.id).where(
        Attendance.meeting_id == room.meeting.id,
        Attendance.user_id == room.user.id,
        Attendance.left_at.is_(None),
    )
    if except_id is not None:
        query = query.where(Attendance.id != except_id)
    return (await db.scalar(query.limit(1))) is not None


async def leave(
    hub: LiveHub, db: AsyncSession, room: RoomAccess, attendance_id: int, *, dropped: bool
) -> bool:
    """Close the attendance interval. Returns True when a "left" must follow after the grace period.

    A clean close says "left" at once; a dropped connection says "reconnecting", and
    :func:`confirm_left` says "left" after the grace period if the party has not come back.
    Another open connection of the same person (a second tab) keeps them present.
    """
    async with db.begin():
        await db.execute(update(Attendance).where(Attendance.id == attendance_id).values(left_at=utcnow()))
        present = await _still_here(db, room)
        if dropped and not present:
            await db.execute(
                update(Attendance).where(Attendance.id == attendance_id).values(pending_left=True)
            )
    if present:
        return False
    await _post_presence(hub, room, "reconnecting" if dropped else "left")
    return dropped


async def confirm_left(hub: LiveHub, db: AsyncSession, room: RoomAccess, attendance_id: int) -> bool:
    """After the grace period: say "left" unless the party came back; True when it was said.

    The worker's own timer and any worker's sweep (clockevents.live.keeper) may both ask; the
    claim is one UPDATE, so whichever comes first says it and the other finds nothing to do.
    """
    # Whatever the session read before (the room's access) ends with the claim's commit.
    claimed = await claim(
        db,
        update(Attendance)
        .where(Attendance.id == attendance_id, Attendance.pending_left.is_(True))
        .values(pending_left=False),
    )
    if not claimed or await _still_here(db, room):
        return False
    await _post_presence(hub, room, "left")
    return True

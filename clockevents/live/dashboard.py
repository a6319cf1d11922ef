"""The event's live channel: the participant's dashboard, announcements, the organiser's monitor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.models import Meeting
from clockevents.db import utcnow
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Cluster, Event, Slot
from clockevents.events.permissions import Access, access_for
from clockevents.live.attendance import HELD_AFTER, summaries
from clockevents.live.hub import LiveHub
from clockevents.live.messages import event_channel, iso, meeting_channel
from clockevents.live.models import Attendance
from clockevents.live.rooms import _meeting_card, next_meeting
from clockevents.matchmaking.parties import load_parties, own_participant
from clockevents.registration.models import Participant

ANNOUNCEMENT_MAX = 1000
NO_SHOW_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class EventAccess:
    event: Event
    user: User
    access: Access
    participant: Participant | None

    @property
    def channel(self) -> str:
        return event_channel(self.event.id)

    @property
    def is_organiser(self) -> bool:
        return self.access.is_staff

    def sees(self, message: dict[str, Any]) -> bool:
        """Whether this caller receives ``message`` of the event channel."""
        audience = message.get("audience")
        if self.access.is_organiser or audience is None:
            return True
        if self.access.is_staff:
            # A cluster partner sees what concerns their own cluster's participants only.
            if "participants" in audience:
                mine = self.participant is not None and self.participant.id in audience["participants"]
                return mine or self.access.cluster_id in audience.get("cluster_ids", [])
            if audience.get("organisers"):
                return False  # the whole event's organisers only
            return audience.get("cluster_id") in (None, self.access.cluster_id)
        if self.participant is None:
            return False
        if "participants" in audience:
            return self.participant.id in audience["participants"]
        if "cluster_id" in audience:
            return audience["cluster_id"] == self.participant.cluster_id
        return False


async def event_access(db: AsyncSession, user: User | None, slug: str) -> EventAccess:
    if user is None:
        raise NotAuthenticated()
    event = await db.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        raise NotFound("No such event.")
    access = await access_for(db, event, user)
    participant = await own_participant(db, event, user)
    if participant is not None and participant.status != "approved":
        participant = None
    if participant is None and not access.is_staff:
        raise PermissionDenied("Only the event's approved participants and organisers follow it live.")
    return EventAccess(event, user, access, participant)


def strip(message: dict[str, Any]) -> dict[str, Any]:
    if "audience" in message:
        message = {k: v for k, v in message.items() if k != "audience"}
    return message


async def _partner_state(hub: LiveHub, db: AsyncSession, meeting_id: int, partner_id: int) -> str:
    state = "absent"
    for message in await hub.history(db, meeting_channel(meeting_id), types=["presence"]):
        if message.get("who", {}).get("participant_id") == partner_id:
            state = message["state"]
    return state


async def _card(
    hub: LiveHub, db: AsyncSession, me: Participant, found: tuple[Meeting, Slot] | None
) -> dict[str, Any] | None:
    if found is None:
        return None
    meeting, slot = found
    partner_id = meeting.b_id if meeting.a_id == me.id else meeting.a_id
    parties = await load_parties(db, [partner_id])
    card = _meeting_card(meeting, slot, parties.get(partner_id))
    card["partner_state"] = await _partner_state(hub, db, meeting.id, partner_id)
    return card


async def snapshot(
    hub: LiveHub, db: AsyncSession, who: EventAccess, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    seq = await hub.last_seq(db, who.channel)
    current = nxt = None
    if who.participant is not None:
        # The meeting running now (or the first one to come), then the one after it.
        running = await next_meeting(db, who.event.id, who.participant.id, now - timedelta(hours=24))
        while running is not None and running[1].ends_at <= now:
            running = await next_meeting(db, who.event.id, who.participant.id, running[1].ends_at)
        if running is not None and running[1].starts_at <= now:
            current = await _card(hub, db, who.participant, running)
            nxt = await _card(
                hub,
                db,
                who.participant,
                await next_meeting(db, who.event.id, who.participant.id, running[1].ends_at),
            )
        else:
            nxt = await _card(hub, db, who.participant, running)
    announcements = [
        strip(m)
        for m in await hub.history(db, who.channel, types=["announcement"], limit=100, newest=True)
        if who.sees(m)
    ][-20:]
    return {
        "type": "snapshot",
        "seq": seq,
        "ephemeral": True,
        "server_time": iso(now),
        "me": {
            "participant_id": who.participant.id if who.participant else None,
            "user_id": who.user.id,
            "name": who.user.name,
            "is_organiser": who.is_organiser,
        },
        "event": {"slug": who.event.slug, "title": who.event.title, "timezone": who.event.timezone},
        "current": current,
        "next": nxt,
        "announcements": announcements,
    }


async def announce(hub: LiveHub, db: AsyncSession, who: EventAccess, data: dict[str, Any]) -> dict[str, Any]:
    """Post an announcement to everyone, or to one cluster's participants."""
    if not who.access.is_staff:
        raise PermissionDenied("Only organisers post announcements.")
    text = data.get("text")
    errors: dict[str, str] = {}
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "An announcement needs some text."
    elif len(text) > ANNOUNCEMENT_MAX:
        errors["text"] = f"An announcement holds at most {ANNOUNCEMENT_MAX} characters."
    cluster_id = data.get("cluster_id")
    cluster = None
    if cluster_id not in (None, ""):
        if not isinstance(cluster_id, int) or isinstance(cluster_id, bool):
            errors["cluster_id"] = "Choose a cluster of this event."
        else:
            cluster = await db.get(Cluster, cluster_id)
            if cluster is None or cluster.event_id != who.event.id:
                errors["cluster_id"] = "Choose a cluster of this event."
    else:
        cluster_id = None
    if not errors and not who.access.is_organiser and cluster_id != who.access.cluster_id:
        errors["cluster_id"] = "A cluster partner announces to their own cluster only."
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(text, str)
    payload: dict[str, Any] = {
        "text": text.strip(),
        "cluster_id": cluster_id,
        "cluster": cluster.name if cluster else None,
        "by": who.user.name,
    }
    if cluster_id is not None:
        payload["audience"] = {"cluster_id": cluster_id}
    return strip(await hub.post(who.channel, who.event.id, "announcement", payload, user_id=who.user.id))


def room_state(
    slot: Slot, now: datetime, present: set[int], joined: set[int], together: float, parties: tuple[int, int]
) -> str:
    """The monitor's word for a room (see docs/live-protocol.md)."""
    both = set(parties)
    if now >= slot.ends_at:
        return "held" if together >= HELD_AFTER.total_seconds() else "no_show"
    if both <= present:
        return "in_progress"
    if together > 0:
        return "ended_early"
    if now - slot.starts_at >= NO_SHOW_AFTER and not both <= joined:
        return "no_show"
    if present:
        return "one_waiting"
    return "waiting_for_both"


async def monitor(
    db: AsyncSession, event: Event, user: User | None, now: datetime | None = None
) -> dict[str, Any]:
    """Every room of the current slot (else the next one) with its state, and totals."""
    if user is None:
        raise NotAuthenticated()
    access = await access_for(db, event, user)
    if not access.is_staff:
        raise PermissionDenied("Only the event's organisers see the live monitor.")
    now = now or utcnow()
    slot = await db.scalar(
        select(Slot).where(Slot.event_id == event.id, Slot.ends_at > now).order_by(Slot.starts_at).limit(1)
    )
    rooms: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    if slot is not None:
        meetings = list(
            (
                await db.scalars(
                    select(Meeting)
                    .where(
                        Meeting.slot_id == slot.id,
                        Meeting.status == "scheduled",
                        Meeting.published_at.is_not(None),
                    )
                    .order_by(Meeting.table, Meeting.id)
                )
            ).all()
        )
        parties = await load_parties(db, [pid for m in meetings for pid in (m.a_id, m.b_id)])
        if not access.is_organiser:
            meetings = [
                m
                for m in meetings
                if any(access.covers_cluster(parties[p].cluster_id) for p in (m.a_id, m.b_id) if p in parties)
            ]
        open_rows = (
            await db.execute(
                select(Attendance.meeting_id, Attendance.participant_id).where(
                    Attendance.meeting_id.in_([m.id for m in meetings]), Attendance.left_at.is_(None)
                )
            )
        ).all()
        present: dict[int, set[int]] = {}
        for meeting_id, pid in open_rows:
            if pid is not None:
                present.setdefault(meeting_id, set()).add(pid)
        attended = await summaries(db, [m.id for m in meetings], now)
        for m in meetings:
            summary = attended.get(m.id)
            state = room_state(
                slot,
                now,
                present.get(m.id, set()),
                set(summary.first_join) if summary else set(),
                summary.together_seconds if summary else 0.0,
                (m.a_id, m.b_id),
            )
            totals[state] = totals.get(state, 0) + 1
            rooms.append(
                {
                    "meeting_id": m.id,
                    "table": m.table,
                    "state": state,
                    "parties": [
                        {
                            "participant_id": p,
                            "name": parties[p].name if p in parties else "",
                            "organisation": parties[p].organisation if p in parties else "",
                            "present": p in present.get(m.id, set()),
                        }
                        for p in (m.a_id, m.b_id)
                    ],
                    "together_seconds": round(summary.together_seconds) if summary else 0,
                    "room_url": f"/meetings/{m.id}/room",
                }
            )
    return {
        "slot": {"id": slot.id, "starts_at": iso(slot.starts_at), "ends_at": iso(slot.ends_at)}
        if slot
        else None,
        "server_time": iso(now),
        "rooms": rooms,
        "totals": {"rooms": len(rooms), **totals},
    }

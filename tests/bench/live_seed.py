"""The live benchmark's event: participants with API tokens and one published meeting per pair,
written with bulk inserts into a scratch database."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def inserted_ids(db: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` of ``model`` in one statement; return their ids in the order of ``rows``."""
    return list(
        (await db.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)).all()
    )


async def seed(database_url: str, rooms: int) -> list[tuple[int, str, str]]:
    """An event with ``rooms`` published meetings in one slot; return (meeting id, token a, token b)."""
    from clockevents.accounts.models import AuthToken, User
    from clockevents.accounts.services import TOKEN_PREFIX, hash_token
    from clockevents.agenda.models import Meeting, MeetingSeat, TableBooking
    from clockevents.db import create_engine, create_session_factory, utcnow
    from clockevents.matchmaking.models import MeetingRequest
    from clockevents.registration.models import Organisation, Participant
    from tests.factories.agenda import slot_at
    from tests.factories.events import make_event

    engine = create_engine(database_url)
    n = rooms * 2
    try:
        async with create_session_factory(engine)() as db:
            organiser = User(email="organiser@bench.example", name="Bench Organiser", password_hash="!")
            db.add(organiser)
            await db.flush()
            event = await make_event(db, organiser, slug="live-bench")
            slot = await slot_at(db, event, 0)
            user_ids = await inserted_ids(
                db,
                User,
                [
                    {"email": f"p{i}@bench.example", "name": f"Person {i}", "password_hash": "!"}
                    for i in range(n)
                ],
            )
            org_ids = await inserted_ids(
                db,
                Organisation,
                [{"name": f"Organisation {i}", "kind": "business", "country": "IT"} for i in range(n)],
            )
            participant_ids = await inserted_ids(
                db,
                Participant,
                [
                    {
                        "event_id": event.id,
                        "user_id": uid,
                        "organisation_id": oid,
                        "participant_type": "business",
                        "status": "approved",
                    }
                    for uid, oid in zip(user_ids, org_ids, strict=True)
                ],
            )
            tokens = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(n)]
            await db.execute(
                insert(AuthToken),
                [
                    {
                        "user_id": uid,
                        "kind": "api",
                        "name": "bench",
                        "token_hash": hash_token(t),
                        "prefix": t[:10],
                    }
                    for uid, t in zip(user_ids, tokens, strict=True)
                ],
            )
            pairs = [(participant_ids[2 * r], participant_ids[2 * r + 1]) for r in range(rooms)]
            request_ids = await inserted_ids(
                db,
                MeetingRequest,
                [
                    {"event_id": event.id, "sender_id": a, "receiver_id": b, "status": "accepted"}
                    for a, b in pairs
                ],
            )
            now = utcnow()
            meeting_ids = await inserted_ids(
                db,
                Meeting,
                [
                    {
                        "event_id": event.id,
                        "request_id": rid,
                        "a_id": a,
                        "b_id": b,
                        "slot_id": slot.id,
                        "table": r + 1,
                        "status": "scheduled",
                        "uid": f"meeting-{uuid.uuid4()}@clockevents",
                        "published_at": now,
                    }
                    for r, (rid, (a, b)) in enumerate(zip(request_ids, pairs, strict=True))
                ],
            )
            await db.execute(
                insert(MeetingSeat),
                [
                    {"meeting_id": mid, "participant_id": pid, "slot_id": slot.id}
                    for mid, (a, b) in zip(meeting_ids, pairs, strict=True)
                    for pid in (a, b)
                ],
            )
            await db.execute(
                insert(TableBooking),
                [
                    {"meeting_id": mid, "slot_id": slot.id, "table": r + 1}
                    for r, mid in enumerate(meeting_ids)
                ],
            )
            await db.commit()
    finally:
        await engine.dispose()
    return [(mid, tokens[2 * r], tokens[2 * r + 1]) for r, mid in enumerate(meeting_ids)]

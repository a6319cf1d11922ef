"""Feed tokens and the feed use cases: creation, rotation, revocation, and what a feed holds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import icalendar
import pytest
import vobject
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda import feeds
from clockevents.agenda.feed_models import CalendarFeedToken
from clockevents.errors import NotAuthenticated, NotFound, PermissionDenied
from tests.factories.accounts import make_user
from tests.factories.agenda import slot_at
from tests.integration.agenda import calendar_scenario

BASE = "https://events.example.org"


def _events(body: bytes) -> list[tuple[str, int, str, datetime]]:
    cal = icalendar.Calendar.from_ical(body)
    return [
        (str(e["UID"]), int(e["SEQUENCE"]), str(e["STATUS"]), e.decoded("DTSTART").astimezone(UTC))
        for e in cal.walk("VEVENT")
    ]


def test_feed_links_https_and_webcal() -> None:
    links = feeds.feed_links("https://events.example.org/", "abc")

    assert (links.https, links.webcal) == (
        "https://events.example.org/calendar/abc.ics",
        "webcal://events.example.org/calendar/abc.ics",
    )


def test_new_token_has_at_least_128_random_bits() -> None:
    tokens = {feeds.new_token() for _ in range(50)}

    assert len(tokens) == 50
    # 6 bits per URL-safe base64 character.
    assert min(len(t) for t in tokens) * 6 >= 128


async def test_token_for_stores_token_and_its_sha256(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)

    row = await feeds.token_for(db, s.bob.id)
    again = await feeds.token_for(db, s.bob.id)

    assert again.token == row.token
    assert row.token_hash == hashlib.sha256(row.token.encode()).hexdigest()


async def test_links_for_participant_uses_base_url(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)

    links = await feeds.links_for(db, s.event, s.bob_user, base_url=BASE)

    row = await db.scalar(select(CalendarFeedToken).where(CalendarFeedToken.participant_id == s.bob.id))
    assert row is not None
    assert links.https == f"{BASE}/calendar/{row.token}.ics"


async def test_links_for_not_registered_is_denied(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    stranger = await make_user(db)

    with pytest.raises(PermissionDenied):
        await feeds.links_for(db, s.event, stranger, base_url=BASE)
    with pytest.raises(NotAuthenticated):
        await feeds.links_for(db, s.event, None, base_url=BASE)


async def test_feed_by_token_lists_own_published_meetings(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    row = await feeds.token_for(db, s.bob.id)

    body = await feeds.feed_by_token(db, row.token, base_url=BASE)

    assert _events(body) == [
        (s.bob_anna.uid, 0, "CONFIRMED", datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),
        (s.bob_carla.uid, 0, "CONFIRMED", datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),
    ]


async def test_feed_by_token_unknown_and_malformed_are_the_same_not_found(db: AsyncSession) -> None:
    await calendar_scenario.build(db)
    messages = []
    for token in ("nope", "", "x" * 200):
        with pytest.raises(NotFound) as caught:
            await feeds.feed_by_token(db, token, base_url=BASE)
        messages.append(caught.value.message)

    assert messages == [feeds.FEED_NOT_FOUND] * 3


async def test_rotate_stops_old_token_at_once(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    old = (await feeds.links_for(db, s.event, s.bob_user, base_url=BASE)).https
    old_token = old.rsplit("/", 1)[1].removesuffix(".ics")

    new = await feeds.rotate(db, s.event, s.bob_user, base_url=BASE)

    new_token = new.https.rsplit("/", 1)[1].removesuffix(".ics")
    assert new_token != old_token
    with pytest.raises(NotFound):
        await feeds.feed_by_token(db, old_token, base_url=BASE)
    assert len(_events(await feeds.feed_by_token(db, new_token, base_url=BASE))) == 2


async def test_revoke_stops_feed_and_next_request_gets_new_token(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token

    await feeds.revoke(db, s.bob.id)

    with pytest.raises(NotFound) as caught:
        await feeds.feed_by_token(db, token, base_url=BASE)
    assert caught.value.message == feeds.FEED_NOT_FOUND
    assert (await feeds.token_for(db, s.bob.id)).token != token


async def test_feed_before_publication_is_empty_and_valid(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    for meeting in (s.bob_anna, s.bob_carla):
        meeting.published_at = None
    await db.commit()

    body = await feeds.agenda_ics(db, s.event, s.bob_user, base_url=BASE)

    assert _events(body) == []
    assert vobject.readOne(body.decode()).x_wr_calname.value == "Autumn Matchmaking"


async def test_feed_uid_sequence_status_across_publish_move_cancel(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token
    published = _events(await feeds.feed_by_token(db, token, base_url=BASE))[1]

    # A move as the agenda services write it: new slot, same UID, higher sequence.
    meeting = s.bob_carla
    meeting.slot_id = (await slot_at(db, s.event, 9)).id
    meeting.sequence += 1
    await db.commit()
    moved = _events(await feeds.feed_by_token(db, token, base_url=BASE))[1]
    meeting.status = "cancelled"
    meeting.cancelled_at = datetime.now(UTC)
    meeting.sequence += 1
    await db.commit()
    cancelled = _events(await feeds.feed_by_token(db, token, base_url=BASE))[1]

    assert [published, moved, cancelled] == [
        (meeting.uid, 0, "CONFIRMED", datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),
        (meeting.uid, 1, "CONFIRMED", datetime(2026, 10, 25, 9, 30, tzinfo=UTC)),
        (meeting.uid, 2, "CANCELLED", datetime(2026, 10, 25, 9, 30, tzinfo=UTC)),
    ]


async def test_feed_last_modified_follows_the_change(db: AsyncSession) -> None:
    s = await calendar_scenario.build(db)
    token = (await feeds.token_for(db, s.bob.id)).token
    s.bob_anna.sequence += 1
    s.bob_anna.table = 5
    await db.commit()
    await db.refresh(s.bob_anna)

    body = await feeds.feed_by_token(db, token, base_url=BASE)

    vevent = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    expected = s.bob_anna.updated_at.astimezone(UTC).replace(microsecond=0)
    assert vevent.decoded("LAST-MODIFIED") == expected
    assert str(vevent["LOCATION"]) == f"{BASE}/meetings/{s.bob_anna.id}/room"

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.passwords import verify_password
from clockevents.demo import DemoOptions, database_is_empty, seed_demo
from clockevents.events.models import Cluster, Event, EventRole, Slot
from clockevents.registration.models import Opportunity, Organisation, Participant

OPTIONS = DemoOptions(participants=12, seed=7, password="demo-password")


async def _count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model)) or 0


async def test_seed_demo_creates_event_clusters_grid_and_participants(db: AsyncSession) -> None:
    assert await database_is_empty(db)
    report = await seed_demo(db, OPTIONS)
    await db.commit()
    assert report.created
    event = await db.scalar(select(Event).where(Event.slug == "clock-demo"))
    assert event is not None
    assert (event.title, event.status, event.timezone) == (
        "CLOCK cross-cluster matchmaking day",
        "open",
        "Europe/Rome",
    )
    assert (event.ends_on - event.starts_on).days == 1
    clusters = (await db.scalars(select(Cluster.name).order_by(Cluster.position))).all()
    assert list(clusters) == [
        "Advanced Materials",
        "ICT & Railway",
        "Nautical",
        "Stone",
        "Fashion",
        "Interiors & Design",
        "Smart City",
    ]
    # 09:00-12:30 holds 8 slots of 20+5 minutes and 14:00-17:00 holds 7, on two days.
    assert await _count(db, Slot) == 30
    assert await _count(db, Participant) == 12
    statuses = (await db.scalars(select(Participant.status).distinct())).all()
    assert list(statuses) == ["approved"]
    assert 12 <= await _count(db, Opportunity) <= 36
    assert await db.scalar(select(func.count(func.distinct(Participant.cluster_id)))) == 7
    empty_search = await db.scalar(
        select(func.count()).select_from(Participant).where(Participant.search_text == "")
    )
    assert empty_search == 0


async def test_seed_demo_accounts_share_the_password(db: AsyncSession) -> None:
    await seed_demo(db, OPTIONS)
    await db.commit()
    organiser = await db.scalar(select(User).where(User.email == "organiser@clock-demo.example"))
    assert organiser is not None and organiser.is_admin
    role = await db.scalar(select(EventRole.role).where(EventRole.user_id == organiser.id))
    assert role == "owner"
    last = await db.scalar(select(User).where(User.email == "participant12@clock-demo.example"))
    assert last is not None
    assert verify_password(last.password_hash, "demo-password")
    assert await _count(db, User) == 13


async def test_seed_demo_twice_changes_nothing(db: AsyncSession) -> None:
    await seed_demo(db, OPTIONS)
    await db.commit()
    before = [await _count(db, m) for m in (User, Event, Participant, Opportunity, Slot)]
    again = await seed_demo(db, OPTIONS)
    await db.commit()
    assert not again.created
    assert [await _count(db, m) for m in (User, Event, Participant, Opportunity, Slot)] == before
    assert again.describe().splitlines()[0] == "demo event clock-demo already present (12 participants)"


async def _people(db: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await db.execute(
        select(User.name, Organisation.name, Participant.pitch)
        .join(Participant, Participant.user_id == User.id)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .order_by(User.email)
    )
    return [tuple(r) for r in rows.all()]


async def test_seed_demo_same_seed_same_people(db: AsyncSession) -> None:
    await seed_demo(db, OPTIONS)
    await db.commit()
    first = await _people(db)
    for model in (Participant, Organisation, Event, User):
        await db.execute(delete(model))
    await db.commit()
    db.expunge_all()  # the bulk deletes bypassed the session: forget the objects it still holds
    await seed_demo(db, OPTIONS)
    await db.commit()
    assert await _people(db) == first
    assert len({pitch for _, _, pitch in first}) > 1


def test_describe_lists_logins() -> None:
    from clockevents.demo import DemoReport, _logins

    text = DemoReport(created=True, logins=_logins(120), password="pw-123456789", participants=120).describe(
        "http://127.0.0.1:8765"
    )
    assert text.splitlines() == [
        "demo event clock-demo created (120 participants)",
        "open http://127.0.0.1:8765/events/clock-demo",
        "logins (password: pw-123456789):",
        "  organiser@clock-demo.example  (owner, platform admin)",
        "  participant1@clock-demo.example",
        "  participant2@clock-demo.example",
        "  participant3@clock-demo.example",
        "  … participant120@clock-demo.example",
    ]


async def test_seed_demo_accepted_requests_about_five_per_participant(db: AsyncSession) -> None:
    from clockevents.matchmaking.models import MeetingRequest

    await seed_demo(db, DemoOptions(participants=60, seed=3, password="demo-password"))
    await db.commit()
    rows = (
        await db.execute(select(MeetingRequest.sender_id, MeetingRequest.receiver_id, MeetingRequest.status))
    ).all()
    assert len(rows) == 150  # 60 participants x 5 meetings / 2 sides
    assert {status for _, _, status in rows} == {"accepted"}
    pairs = [frozenset((a, b)) for a, b, _ in rows]
    assert all(len(p) == 2 for p in pairs)  # nobody meets themselves
    assert len(set(pairs)) == len(pairs)  # no pair twice, in either direction
    asked: dict[int, int] = {}
    for _, receiver, _ in rows:
        asked[receiver] = asked.get(receiver, 0) + 1
    # Popularity is skewed: the most asked-for participant is asked far more than average.
    assert max(asked.values()) >= 3 * (len(rows) / 60)

"""The demo event ``clock-demo``: seven clusters, a two-day grid and N realistic participants.

Idempotent: when the event exists nothing changes. Fast enough for thousands of participants:
the shared password is hashed once, rows are added in bulk, and search text is built in memory.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents import demo_data as data
from clockevents.accounts.models import User
from clockevents.accounts.passwords import hash_password
from clockevents.db import utcnow
from clockevents.events.grid import SessionSpec, materialise
from clockevents.events.models import Cluster, Event, EventRole, Slot
from clockevents.matchmaking.models import MeetingRequest
from clockevents.registration.models import Opportunity, Organisation, Participant
from clockevents.registration.search import build_search_text

ORGANISER_EMAIL = "organiser@clock-demo.example"
PARTICIPANT_EMAIL = "participant{n}@clock-demo.example"
TIMEZONE = "Europe/Rome"
SESSIONS = ((time(9, 0), time(12, 30), "Morning"), (time(14, 0), time(17, 0), "Afternoon"))


@dataclass(frozen=True)
class DemoOptions:
    participants: int = 120
    seed: int = 2026
    password: str = "demo-password"


@dataclass
class DemoReport:
    created: bool
    logins: list[str] = field(default_factory=list)
    password: str = "demo-password"
    participants: int = 0

    def describe(self, base_url: str = "http://127.0.0.1:8000") -> str:
        """What was done, where to look and how to log in."""
        head = "demo event clock-demo created" if self.created else "demo event clock-demo already present"
        lines = [
            f"{head} ({self.participants} participants)",
            f"open {base_url}/events/clock-demo",
            f"logins (password: {self.password}):"
            if self.created
            else "logins (password as when it was seeded):",
        ]
        lines += [f"  {login}" for login in self.logins]
        return "\n".join(lines)


def _logins(participants: int) -> list[str]:
    shown = [f"{ORGANISER_EMAIL}  (owner, platform admin)"]
    shown += [PARTICIPANT_EMAIL.format(n=n) for n in range(1, min(participants, 3) + 1)]
    if participants > 3:
        shown.append("… " + PARTICIPANT_EMAIL.format(n=participants))
    return shown


async def database_is_empty(db: AsyncSession) -> bool:
    return (await db.scalar(select(func.count()).select_from(User))) == 0


async def demo_present(db: AsyncSession) -> bool:
    """Whether the demo event exists (so ``run`` can point at it)."""
    return await db.scalar(select(Event.id).where(Event.slug == data.DEMO_SLUG)) is not None


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _website(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return f"https://www.{slug}.example"


class _Maker:
    """Draws one participant at a time from the vocabulary, all from one seeded generator."""

    def __init__(self, rng: random.Random, slot_count: int) -> None:
        self.rng = rng
        self.slot_count = slot_count
        self.used_names: set[str] = set()

    def organisation(self, kind: str, cluster: str, country: str, city: str) -> Organisation:
        rng = self.rng
        vocab = data.CLUSTERS[cluster]
        topic = rng.choice(vocab["sectors"]).title()
        if kind == "business":
            name = f"{rng.choice(vocab['stems'])} {rng.choice(vocab['endings'])}"
            name += f" {data.COMPANY_FORMS.get(country, 'Ltd')}"
        else:
            patterns = {
                "research": data.RESEARCH_NAMES,
                "finance": data.FINANCE_NAMES,
                "public_body": data.PUBLIC_BODY_NAMES,
            }.get(kind, data.OTHER_NAMES)
            if country != "IT":
                patterns = [p for p in patterns if not any(m in p for m in data.ITALIAN_ONLY)]
            name = rng.choice(patterns).format(city=city, topic=topic)
        if name in self.used_names:  # keep the directory readable: no two identical names
            name = f"{name} ({city})"
        n = 2
        base = name
        while name in self.used_names:
            name = f"{base} {n}"
            n += 1
        self.used_names.add(name)
        first, second = rng.sample(vocab["keywords"], 2)
        description = (
            f"{name} is based in {city} and works on {first} and {second} "
            f"for the {rng.choice(vocab['sectors'])} sector."
        )
        return Organisation(
            name=name,
            kind=kind,
            country=country,
            city=city,
            website=_website(name),
            description=description,
            size=rng.choice(data.SIZES[kind]),
        )

    def opportunities(self, event_id: int, cluster: str) -> list[Opportunity]:
        rng = self.rng
        items: list[Opportunity] = []
        titles: set[str] = set()
        for _ in range(rng.randint(1, 3)):
            kind = _weighted(rng, data.OPPORTUNITY_KIND_WEIGHTS)
            title = rng.choice(data.OPPORTUNITIES[cluster][kind])
            if title in titles:
                continue
            titles.add(title)
            items.append(
                Opportunity(
                    event_id=event_id,
                    kind=kind,
                    title=title,
                    description=rng.choice(data.OPPORTUNITY_DESCRIPTIONS),
                    keywords=rng.sample(data.CLUSTERS[cluster]["keywords"], 2),
                )
            )
        return items

    def unavailable(self) -> list[int]:
        if self.slot_count == 0 or self.rng.random() > 0.15:
            return []
        return sorted(self.rng.sample(range(self.slot_count), min(self.slot_count, self.rng.randint(1, 4))))


async def _organiser(db: AsyncSession, password_hash: str) -> User:
    user = await db.scalar(select(User).where(User.email == ORGANISER_EMAIL))
    if user is None:
        user = User(
            email=ORGANISER_EMAIL, name="Olivia Organiser", password_hash=password_hash, is_admin=True
        )
        db.add(user)
        await db.flush()
    user.is_admin = True
    return user


async def _event(db: AsyncSession, owner: User) -> Event:
    zone = ZoneInfo(TIMEZONE)
    starts_on = datetime.now(zone).date() + timedelta(days=21)
    closes = datetime.combine(starts_on - timedelta(days=2), time(18, 0), tzinfo=zone)
    event = Event(
        slug=data.DEMO_SLUG,
        title=data.DEMO_TITLE,
        description=data.DEMO_DESCRIPTION,
        timezone=TIMEZONE,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=1),
        registration_opens_at=utcnow() - timedelta(days=1),
        registration_closes_at=closes.astimezone(UTC),
        status="open",
        meeting_minutes=20,
        gap_minutes=5,
        tables=40,
        format="virtual",
        requires_approval=True,
        created_by_id=owner.id,
    )
    db.add(event)
    await db.flush()
    db.add(EventRole(event_id=event.id, user_id=owner.id, role="owner"))
    db.add_all(Cluster(event_id=event.id, name=name, position=i) for i, name in enumerate(data.CLUSTERS))
    specs = [
        SessionSpec(starts_on + timedelta(days=d), start, end, name)
        for d in range(2)
        for start, end, name in SESSIONS
    ]
    await materialise(db, event, specs)
    return event


async def _participant_users(
    db: AsyncSession, count: int, password_hash: str, rng: random.Random
) -> list[tuple[User, str]]:
    """participant1..N with the country each comes from, reusing accounts that already exist."""
    emails = [PARTICIPANT_EMAIL.format(n=n) for n in range(1, count + 1)]
    existing: dict[str, User] = {}
    for start in range(0, count, 500):  # keep IN lists short for both databases
        chunk = emails[start : start + 500]
        existing.update({u.email: u for u in await db.scalars(select(User).where(User.email.in_(chunk)))})
    people: list[tuple[User, str]] = []
    for email in emails:
        country = _weighted(rng, data.COUNTRIES)
        name = f"{rng.choice(data.FIRST_NAMES[country])} {rng.choice(data.LAST_NAMES[country])}"
        user = existing.get(email)
        if user is None:
            user = User(email=email, name=name, password_hash=password_hash, timezone=data.TIMEZONES[country])
            db.add(user)
        people.append((user, country))
    await db.flush()
    return people


REQUEST_MESSAGES = (
    "Your offer matches what we are looking for; could we meet?",
    "We would like to explore a joint project with you.",
    "Interested in your technology for our next product line.",
    "Could we discuss a pilot in our district?",
    "We are looking for partners for a Horizon Europe proposal.",
)


def _meeting_requests(
    db: AsyncSession, event_id: int, participants: list[Participant], rng: random.Random
) -> int:
    """Add accepted requests: about five per participant, skewed towards popular ones.

    One in ten participants is "popular" and is asked six times as often, so some of them
    are asked for more meetings than they have free slots — as at a real brokerage event,
    and what the agenda builder's unplaced reasons are for.
    """
    if len(participants) < 2:
        return 0
    weights = [6.0 if rng.random() < 0.1 else 1.0 for _ in participants]
    pairs: set[tuple[int, int]] = set()
    target = round(len(participants) * 5 / 2)  # each meeting counts for two participants
    attempts = 0
    while len(pairs) < target and attempts < target * 20:
        attempts += 1
        sender = rng.randrange(len(participants))
        receiver = rng.choices(range(len(participants)), weights=weights)[0]
        key = (min(sender, receiver), max(sender, receiver))
        if sender == receiver or key in pairs:
            continue
        a, b = participants[sender], participants[receiver]
        if a.cluster_id == b.cluster_id and rng.random() < 0.6:
            continue  # a cluster of clusters mostly meets across clusters
        pairs.add(key)
        db.add(
            MeetingRequest(
                event_id=event_id,
                sender_id=a.id,
                receiver_id=b.id,
                message=rng.choice(REQUEST_MESSAGES),
                status="accepted",
                origin="participant",
                priority=rng.choices((1, 2, 3), weights=(6, 3, 1))[0],
                responded_at=utcnow(),
                created_by_id=a.user_id,
            )
        )
    return len(pairs)


async def seed_demo(db: AsyncSession, options: DemoOptions) -> DemoReport:
    """Create the demo event with ``options.participants`` participants, unless it exists."""
    existing = await db.scalar(select(Event).where(Event.slug == data.DEMO_SLUG))
    if existing is not None:
        count = await db.scalar(
            select(func.count()).select_from(Participant).where(Participant.event_id == existing.id)
        )
        return DemoReport(
            created=False, logins=_logins(count or 0), password=options.password, participants=count or 0
        )
    rng = random.Random(options.seed)
    password_hash = hash_password(options.password)  # once: argon2 is slow on purpose
    owner = await _organiser(db, password_hash)
    event = await _event(db, owner)
    clusters = list(
        await db.scalars(select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position))
    )
    slot_count = await db.scalar(select(func.count()).select_from(Slot).where(Slot.event_id == event.id)) or 0
    people = await _participant_users(db, options.participants, password_hash, rng)
    maker = _Maker(rng, slot_count)
    participants: list[Participant] = []
    for i, (user, country) in enumerate(people):
        cluster = clusters[i % len(clusters)]
        city = rng.choice(data.CITIES[country])
        kind = _weighted(rng, data.PARTICIPANT_TYPE_WEIGHTS)
        vocab = data.CLUSTERS[cluster.name]
        organisation = maker.organisation(kind, cluster.name, country, city)
        topic, topic2 = rng.sample(vocab["keywords"], 2)
        opportunities = maker.opportunities(event.id, cluster.name)
        participant = Participant(
            event_id=event.id,
            user_id=user.id,
            organisation=organisation,
            cluster_id=cluster.id,
            participant_type=kind,
            job_title=rng.choice(data.JOB_TITLES[kind]),
            pitch=rng.choice(data.PITCHES[kind]).format(org=organisation.name, topic=topic, topic2=topic2),
            keywords=rng.sample(vocab["keywords"], rng.randint(3, 5)),
            sectors=rng.sample(vocab["sectors"], rng.randint(1, 2)),
            languages=list(data.LANGUAGES[country]),
            timezone=data.TIMEZONES[country],
            unavailable_slots=maker.unavailable(),
            listed=True,
            status="approved",
            opportunities=opportunities,
        )
        participant.search_text = build_search_text(participant, organisation, user.name, opportunities)
        participants.append(participant)
    db.add_all(participants)
    await db.flush()
    _meeting_requests(db, event.id, participants, rng)
    await db.flush()
    return DemoReport(
        created=True,
        logins=_logins(options.participants),
        password=options.password,
        participants=len(participants),
    )

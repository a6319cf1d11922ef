"""Recommendations: who each participant should meet, ranked, each with a one-line reason.

Everything is read in four queries and scored in memory, tokenising each opportunity once, so a
3,000-participant event costs one pass over the participants per caller, not N² queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import NotAuthenticated, PermissionDenied
from clockevents.events.models import Cluster, Event
from clockevents.matchmaking.models import MeetingRequest
from clockevents.matchmaking.parties import Party, own_participant
from clockevents.matchmaking.requests import OPEN_STATUSES
from clockevents.registration.models import Opportunity, Organisation, Participant

TOP = 20
OFFER_MATCH = 10  # they offer what you seek, or the other way round: the strongest signal
MAX_MATCHES = 3  # per direction, so one prolific profile cannot drown the rest
KEYWORD = 3
SECTOR = 2
CROSS_CLUSTER = 2  # meeting across clusters is what a cluster of clusters exists for
STOPWORDS = frozenset(
    {
        "and", "the", "for", "with", "from", "into", "our", "your", "their", "new", "based", "using",
        "use", "via", "per", "services", "service", "solutions", "solution", "products", "product",
        "looking", "seek", "seeking", "offer", "offering",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")


@dataclass(frozen=True)
class Recommendation:
    party: Party
    score: int
    reason: str


@dataclass(frozen=True)
class _Opp:
    id: int
    title: str
    terms: frozenset[str]


@dataclass
class _Profile:
    party: Party
    keywords: list[str]
    sectors: list[str]
    offers: list[_Opp]
    requests: list[_Opp]


def tokenise(*texts: str) -> frozenset[str]:
    """Lower-cased content words (three letters or more, no stopwords) of ``texts``."""
    words = set()
    for text in texts:
        for word in _WORD.findall(text.lower()):
            if len(word) >= 3 and word not in STOPWORDS:
                words.add(word)
    return frozenset(words)


def _norm(items: list[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for item in items or []:
        clean = " ".join(item.lower().split())
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def phrase(title: str) -> str:
    """A title as it reads mid-sentence: "Antiviral coatings" -> "antiviral coatings", "CNC" kept."""
    title = " ".join(title.split())
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


def _matches(offers: list[_Opp], requests: list[_Opp]) -> list[tuple[_Opp, _Opp]]:
    return [(o, r) for r in requests for o in offers if o.terms & r.terms]


def _plural(word: str, items: list[str]) -> str:
    return f"{word}{'s' if len(items) > 1 else ''} {', '.join(items)}"


def score(me: _Profile, other: _Profile) -> tuple[int, str]:
    """Score ``other`` for ``me`` and explain it; (0, "") when nothing connects them."""
    parts: list[str] = []
    points = 0
    they_offer = _matches(other.offers, me.requests)
    if they_offer:
        offer, request = they_offer[0]
        parts.append(f"offers {phrase(offer.title)}; you seek {phrase(request.title)}")
        points += OFFER_MATCH * min(len(they_offer), MAX_MATCHES)
    they_seek = _matches(me.offers, other.requests)
    if they_seek:
        offer, request = they_seek[0]
        parts.append(f"seeks {phrase(request.title)}; you offer {phrase(offer.title)}")
        points += OFFER_MATCH * min(len(they_seek), MAX_MATCHES)
    theirs = set(other.keywords)
    shared = [k for k in me.keywords if k in theirs]
    if shared:
        parts.append("shares " + _plural("keyword", shared))
        points += KEYWORD * len(shared)
    their_sectors = set(other.sectors)
    sectors = [s for s in me.sectors if s in their_sectors]
    if sectors:
        parts.append("same " + _plural("sector", sectors))
        points += SECTOR * len(sectors)
    if not points:
        return 0, ""
    a, b = me.party.cluster_id, other.party.cluster_id
    if a is not None and b is not None and a != b:
        parts.append(f"different cluster ({other.party.cluster})")
        points += CROSS_CLUSTER
    return points, " · ".join(parts)


async def _profiles(db: AsyncSession, event: Event, me_id: int) -> dict[int, _Profile]:
    """Approved, listed participants of the event (and the caller), with tokenised opportunities."""
    rows = await db.execute(
        select(
            Participant.id,
            Participant.user_id,
            User.name,
            Organisation.name,
            Participant.cluster_id,
            Cluster.name,
            Participant.status,
            Participant.listed,
            Participant.keywords,
            Participant.sectors,
        )
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(User, User.id == Participant.user_id)
        .outerjoin(Cluster, Cluster.id == Participant.cluster_id)
        .where(
            Participant.event_id == event.id,
            or_(
                Participant.id == me_id, and_(Participant.status == "approved", Participant.listed.is_(True))
            ),
        )
    )
    profiles = {
        pid: _Profile(
            Party(pid, uid, uname or "", oname, cid, cname or "", status, listed),
            _norm(keywords),
            _norm(sectors),
            [],
            [],
        )
        for pid, uid, uname, oname, cid, cname, status, listed, keywords, sectors in rows
    }
    opportunities = await db.execute(
        select(
            Opportunity.id,
            Opportunity.participant_id,
            Opportunity.kind,
            Opportunity.title,
            Opportunity.keywords,
        )
        .where(Opportunity.event_id == event.id, Opportunity.kind.in_(("offer", "request")))
        .order_by(Opportunity.id)
    )
    for oid, pid, kind, title, keywords in opportunities:
        profile = profiles.get(pid)
        if profile is None:
            continue
        opp = _Opp(oid, title, tokenise(title, *(keywords or [])))
        (profile.offers if kind == "offer" else profile.requests).append(opp)
    return profiles


async def recommendations(
    db: AsyncSession, event: Event, user: User | None, limit: int = TOP
) -> list[Recommendation]:
    """The caller's top ``limit`` people to meet: score descending, then participant id.

    People already in an open (pending or accepted) request with the caller are left out.
    """
    if user is None:
        raise NotAuthenticated()
    mine = await own_participant(db, event, user)
    if mine is None:
        raise PermissionDenied("Register for this event to get recommendations.")
    profiles = await _profiles(db, event, mine.id)
    me = profiles.pop(mine.id)
    open_pairs = await db.execute(
        select(MeetingRequest.sender_id, MeetingRequest.receiver_id).where(
            MeetingRequest.event_id == event.id,
            MeetingRequest.status.in_(OPEN_STATUSES),
            or_(MeetingRequest.sender_id == mine.id, MeetingRequest.receiver_id == mine.id),
        )
    )
    excluded = {pid for pair in open_pairs for pid in pair}
    ranked: list[Recommendation] = []
    for pid, other in profiles.items():
        if pid in excluded:
            continue
        points, reason = score(me, other)
        if points:
            ranked.append(Recommendation(other.party, points, reason))
    ranked.sort(key=lambda r: (-r.score, r.party.id))
    return ranked[:limit]

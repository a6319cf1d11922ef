from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotAuthenticated, PermissionDenied
from clockevents.matchmaking import services
from clockevents.matchmaking.recommend import phrase, tokenise
from tests.factories.accounts import make_user
from tests.factories.matchmaking import make_request
from tests.factories.registration import make_opportunity, make_participant
from tests.unit.matchmaking.conftest import World


def test_tokenise_drops_short_words_and_stopwords() -> None:
    assert tokenise("Antiviral coatings for the sea", "3D-printing") == frozenset(
        {"antiviral", "coatings", "sea", "3d-printing"}
    )


def test_phrase_lowers_the_first_letter_unless_an_acronym() -> None:
    assert (phrase("Antiviral coatings"), phrase("CNC machining")) == ("antiviral coatings", "CNC machining")


async def test_recommendations_ranked_with_reasons(db: AsyncSession, world: World) -> None:
    materials, railway, nautical = world.event.clusters
    alice, bob, carol = world.alice, world.bob, world.carol
    alice.keywords, alice.sectors = ["Graphene", "coatings"], ["materials"]
    carol.keywords, carol.sectors = ["coatings", "graphene"], ["Materials"]
    await db.commit()
    await make_opportunity(db, alice, kind="request", title="Antiviral coatings")
    await make_opportunity(db, alice, kind="offer", title="Graphene inks")
    await make_opportunity(db, bob, kind="offer", title="Antiviral coatings", keywords=["surfaces"])
    dave = await make_participant(db, world.event, cluster=materials, keywords=["coatings"])
    await make_opportunity(db, dave, kind="request", title="Conductive graphene inks")
    ivan = await make_participant(db, world.event, cluster=nautical, keywords=["coatings"])
    jack = await make_participant(db, world.event, cluster=nautical, keywords=["coatings"])
    unlisted = await make_participant(db, world.event, cluster=railway, keywords=["graphene"], listed=False)
    pending = await make_participant(
        db, world.event, cluster=railway, keywords=["graphene"], status="pending"
    )
    asked = await make_participant(db, world.event, cluster=railway, keywords=["graphene"])
    await make_request(db, asked, alice)
    declined = await make_participant(db, world.event, cluster=railway, keywords=["graphene"])
    await make_request(db, alice, declined, status="declined")
    await make_participant(db, world.event, cluster=railway, keywords=["marble"])  # nothing in common

    ranked = await services.recommendations(db, world.event, world.alice_user)

    # Ties (the three scoring 5) go by participant id, the order they were created in.
    assert [(r.party.id, r.score, r.reason) for r in ranked] == [
        (dave.id, 13, "seeks conductive graphene inks; you offer graphene inks · shares keyword coatings"),
        (
            bob.id,
            12,
            "offers antiviral coatings; you seek antiviral coatings · different cluster (ICT & Railway)",
        ),
        (
            carol.id,
            10,
            "shares keywords graphene, coatings · same sector materials · different cluster (Nautical)",
        ),
        (ivan.id, 5, "shares keyword coatings · different cluster (Nautical)"),
        (jack.id, 5, "shares keyword coatings · different cluster (Nautical)"),
        (declined.id, 5, "shares keyword graphene · different cluster (ICT & Railway)"),
    ]
    assert {unlisted.id, pending.id, asked.id}.isdisjoint(r.party.id for r in ranked)


async def test_recommendations_limit_keeps_the_top(db: AsyncSession, world: World) -> None:
    world.alice.keywords = ["graphene"]
    await db.commit()
    others = [await make_participant(db, world.event, keywords=["graphene"]) for _ in range(3)]
    ranked = await services.recommendations(db, world.event, world.alice_user, limit=2)
    assert [r.party.id for r in ranked] == [others[0].id, others[1].id]


async def test_recommendations_need_a_registration(db: AsyncSession, world: World) -> None:
    with pytest.raises(PermissionDenied):
        await services.recommendations(db, world.event, await make_user(db))
    with pytest.raises(NotAuthenticated):
        await services.recommendations(db, world.event, None)


async def test_recommendations_query_count_does_not_grow_with_participants(
    db: AsyncSession, world: World
) -> None:
    """Four queries whatever the event's size: scoring happens in memory, not one query per person."""
    from sqlalchemy import event as sa_event

    world.alice.keywords = ["graphene"]
    await db.commit()
    for i in range(12):
        other = await make_participant(db, world.event, keywords=["graphene"])
        await make_opportunity(db, other, kind="offer", title=f"Graphene batch {i}")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = db.bind.sync_engine  # type: ignore[union-attr]
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        ranked = await services.recommendations(db, world.event, world.alice_user)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert (len(ranked), len(statements)) == (12, 4)

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.registration.directory import (
    DirectoryFilters,
    directory_access,
    filter_choices,
    like_pattern,
    parse_filters,
    search_opportunities,
    search_participants,
)
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_opportunity, make_organisation, make_participant


async def _participant(db: AsyncSession, event: Event, org_name: str, **kwargs: object) -> Participant:
    country = str(kwargs.pop("country", "IT"))
    ptype = str(kwargs.get("participant_type", "business"))
    org = await make_organisation(db, name=org_name, kind=ptype, country=country)
    return await make_participant(db, event, organisation=org, **kwargs)  # type: ignore[arg-type]


async def _ids(db: AsyncSession, event: Event, user: object, **filters: object) -> list[int]:
    page = await search_participants(db, event, user, DirectoryFilters(**filters))  # type: ignore[arg-type]
    return [card.participant.id for card in page.items]


@pytest.fixture
async def world(db: AsyncSession) -> dict[str, object]:
    owner = await make_user(db, name="Olga Owner")
    event = await make_event(db, owner)
    a, b, c = event.clusters
    alpha = await _participant(db, event, "Alpha Coatings", cluster=a, pitch="Graphene coatings for hulls")
    beta = await _participant(
        db, event, "beta Labs", cluster=b, participant_type="research", country="FR", pitch="Sensors 100%"
    )
    gamma = await _participant(
        db, event, "Gamma Fund", cluster=a, participant_type="finance", pitch="Seed money"
    )
    pending = await _participant(db, event, "Delta Pending", cluster=a, status="pending")
    unlisted = await _participant(db, event, "Epsilon Hidden", cluster=b, listed=False)
    rejected = await _participant(db, event, "Zeta Rejected", cluster=c, status="rejected")
    await make_opportunity(db, alpha, kind="offer", title="Antifouling paint", keywords=["marine"])
    await make_opportunity(db, beta, kind="request", title="Pilot shipyard wanted", keywords=["Marine tests"])
    await make_opportunity(db, gamma, kind="investment", title="Seed tickets")
    return {
        "owner": owner,
        "event": event,
        "clusters": (a, b, c),
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "pending": pending,
        "unlisted": unlisted,
        "rejected": rejected,
    }


async def test_search_participants_anonymous_is_not_authenticated(db: AsyncSession, world: dict) -> None:
    with pytest.raises(NotAuthenticated):
        await search_participants(db, world["event"], None, DirectoryFilters())


async def test_search_participants_outsider_is_denied(db: AsyncSession, world: dict) -> None:
    outsider = await make_user(db)
    with pytest.raises(PermissionDenied):
        await search_participants(db, world["event"], outsider, DirectoryFilters())


async def test_search_participants_rejected_registrant_is_denied(db: AsyncSession, world: dict) -> None:
    rejected_user = await db.get(type(world["owner"]), world["rejected"].user_id)
    with pytest.raises(PermissionDenied):
        await search_participants(db, world["event"], rejected_user, DirectoryFilters())


async def test_search_participants_participant_sees_only_approved_listed(
    db: AsyncSession, world: dict
) -> None:
    viewer = await db.get(type(world["owner"]), world["pending"].user_id)  # pending may look already
    ids = await _ids(db, world["event"], viewer)
    assert ids == [world["alpha"].id, world["beta"].id, world["gamma"].id]


async def test_search_participants_organiser_sees_everyone_in_name_order(
    db: AsyncSession, world: dict
) -> None:
    ids = await _ids(db, world["event"], world["owner"])
    w = world
    assert ids == [w[k].id for k in ("alpha", "beta", "pending", "unlisted", "gamma", "rejected")]


async def test_search_participants_status_filter_for_staff(db: AsyncSession, world: dict) -> None:
    assert await _ids(db, world["event"], world["owner"], status="pending") == [world["pending"].id]


async def test_search_participants_status_filter_refused_to_participants(
    db: AsyncSession, world: dict
) -> None:
    viewer = await db.get(type(world["owner"]), world["alpha"].user_id)
    with pytest.raises(ValidationFailed) as info:
        await search_participants(db, world["event"], viewer, DirectoryFilters(status="pending"))
    assert list(info.value.fields) == ["status"]


async def test_search_participants_cluster_partner_sees_public_plus_own_cluster(
    db: AsyncSession, world: dict
) -> None:
    partner = await make_user(db)
    await add_role(db, world["event"], partner, "cluster_partner", world["clusters"][1])
    ids = await _ids(db, world["event"], partner)
    w = world
    assert ids == [w["alpha"].id, w["beta"].id, w["unlisted"].id, w["gamma"].id]


async def test_search_participants_manage_scopes_partner_to_cluster(db: AsyncSession, world: dict) -> None:
    partner = await make_user(db)
    await add_role(db, world["event"], partner, "cluster_partner", world["clusters"][1])
    page = await search_participants(db, world["event"], partner, DirectoryFilters(), manage=True)
    assert [c.participant.id for c in page.items] == [world["beta"].id, world["unlisted"].id]
    assert page.total == 2


async def test_search_participants_manage_refuses_plain_participant(db: AsyncSession, world: dict) -> None:
    viewer = await db.get(type(world["owner"]), world["alpha"].user_id)
    with pytest.raises(PermissionDenied):
        await search_participants(db, world["event"], viewer, DirectoryFilters(), manage=True)


async def test_search_participants_words_must_all_match_any_case(db: AsyncSession, world: dict) -> None:
    owner, event = world["owner"], world["event"]
    assert await _ids(db, event, owner, q="GRAPHENE hulls") == [world["alpha"].id]
    assert await _ids(db, event, owner, q="graphene seed") == []
    # Opportunities and keywords are part of the search text.
    assert await _ids(db, event, owner, q="marine") == [world["alpha"].id, world["beta"].id]


async def test_search_participants_like_wildcards_are_literal(db: AsyncSession, world: dict) -> None:
    owner, event = world["owner"], world["event"]
    assert await _ids(db, event, owner, q="100%") == [world["beta"].id]
    assert await _ids(db, event, owner, q="%") == [world["beta"].id]
    assert await _ids(db, event, owner, q="_") == []


async def test_search_participants_filters(db: AsyncSession, world: dict) -> None:
    owner, event = world["owner"], world["event"]
    a = world["clusters"][0]
    assert await _ids(db, event, owner, kind="request") == [world["beta"].id]
    assert await _ids(db, event, owner, country="FR") == [world["beta"].id]
    assert await _ids(db, event, owner, participant_type="finance") == [world["gamma"].id]
    assert await _ids(db, event, owner, cluster_id=a.id) == [
        world["alpha"].id,
        world["pending"].id,
        world["gamma"].id,
    ]


async def test_search_participants_pagination_is_stable(db: AsyncSession, world: dict) -> None:
    owner, event = world["owner"], world["event"]
    first = await search_participants(db, event, owner, DirectoryFilters(per_page=4))
    second = await search_participants(db, event, owner, DirectoryFilters(per_page=4, page=2))
    w = world
    assert [c.participant.id for c in first.items] == [
        w[k].id for k in ("alpha", "beta", "pending", "unlisted")
    ]
    assert [c.participant.id for c in second.items] == [w["gamma"].id, w["rejected"].id]
    assert (first.total, second.total, first.pages) == (6, 6, 2)


async def test_search_participants_card_carries_names_and_opportunities(
    db: AsyncSession, world: dict
) -> None:
    page = await search_participants(db, world["event"], world["owner"], DirectoryFilters(q="alpha"))
    card = page.items[0]
    assert (card.organisation.name, card.cluster.name) == ("Alpha Coatings", world["clusters"][0].name)
    assert [o.title for o in card.participant.opportunities] == ["Antifouling paint"]


async def test_search_opportunities_q_kind_and_visibility(db: AsyncSession, world: dict) -> None:
    viewer = await db.get(type(world["owner"]), world["alpha"].user_id)
    event = world["event"]
    page = await search_opportunities(db, event, viewer, DirectoryFilters(q="MARINE"))
    assert [c.opportunity.title for c in page.items] == ["Antifouling paint", "Pilot shipyard wanted"]
    page = await search_opportunities(db, event, viewer, DirectoryFilters(kind="investment"))
    assert [(c.opportunity.title, c.organisation.name) for c in page.items] == [
        ("Seed tickets", "Gamma Fund")
    ]
    page = await search_opportunities(db, event, viewer, DirectoryFilters(country="FR", q="pilot"))
    assert (page.total, page.items[0].participant.id) == (1, world["beta"].id)


async def test_search_opportunities_hides_unlisted_participants(db: AsyncSession, world: dict) -> None:
    await make_opportunity(db, world["unlisted"], title="Hidden offer")
    viewer = await db.get(type(world["owner"]), world["alpha"].user_id)
    page = await search_opportunities(db, world["event"], viewer, DirectoryFilters(q="hidden"))
    assert page.total == 0
    page = await search_opportunities(db, world["event"], world["owner"], DirectoryFilters(q="hidden"))
    assert page.total == 1


async def test_parse_filters_reports_every_bad_value(db: AsyncSession, world: dict) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_filters(
            world["event"],
            kind="gift",
            cluster="abc",
            country="Italy",
            participant_type="alien",
            status="maybe",
            page="0",
            per_page="500",
        )
    assert sorted(info.value.fields) == ["cluster", "country", "kind", "page", "per_page", "status", "type"]


async def test_parse_filters_cleans_values(db: AsyncSession, world: dict) -> None:
    filters = parse_filters(world["event"], q="  Graphene ", country="fr", cluster="7", page="2", per_page="")
    assert filters == DirectoryFilters(q="Graphene", country="FR", cluster_id=7, page=2, per_page=20)


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


async def test_search_participants_page_past_the_end_keeps_total(db: AsyncSession, world: dict) -> None:
    page = await search_participants(db, world["event"], world["owner"], DirectoryFilters(per_page=4, page=5))
    assert (page.items, page.total) == ([], 6)
    opportunities = await search_opportunities(db, world["event"], world["owner"], DirectoryFilters(page=3))
    assert (opportunities.items, opportunities.total) == ([], 3)


async def test_filter_choices_countries_only_from_visible_participants(db: AsyncSession, world: dict) -> None:
    await _participant(db, world["event"], "Hidden Spain", country="ES", listed=False)
    viewer = await db.get(type(world["owner"]), world["alpha"].user_id)
    mine = await filter_choices(db, world["event"], await directory_access(db, world["event"], viewer))
    staff = await filter_choices(
        db, world["event"], await directory_access(db, world["event"], world["owner"])
    )
    assert (mine["country"], staff["country"]) == (
        [("FR", "FR"), ("IT", "IT")],
        [("ES", "ES"), ("FR", "FR"), ("IT", "IT")],
    )


async def test_parse_filters_refuses_numbers_beyond_ids(db: AsyncSession, world: dict) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_filters(world["event"], cluster="99999999999999999999", page="99999999999999999999")
    assert sorted(info.value.fields) == ["cluster", "page"]

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.errors import Conflict, NotFound, PermissionDenied
from clockevents.registration import services
from clockevents.registration.validation import OrganisationInput, RegistrationInput
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_participant


def new_org_input(event_cluster_id: int, **overrides: object) -> RegistrationInput:
    data = RegistrationInput(
        organisation=OrganisationInput(
            name="Graphene Labs", kind="research", country="it", city="Pisa", website="https://g.example"
        ),
        cluster_id=event_cluster_id,
        participant_type="research",
        job_title="CTO",
        pitch="We make graphene coatings.",
        keywords=["graphene", " coatings ", "Graphene"],
        sectors=["materials"],
        languages=["EN", "it"],
        timezone="Europe/Rome",
        unavailable_slots=[2, 1],
        listed=True,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


async def test_register_without_approval_is_approved_and_clean(db: AsyncSession) -> None:
    owner = await make_user(db)
    user = await make_user(db, name="Ada Rossi")
    event = await make_event(db, owner)
    participant = await services.register(db, user, event, new_org_input(event.clusters[0].id))
    await db.commit()
    assert participant.status == "approved"
    assert participant.organisation.name == "Graphene Labs"
    assert participant.organisation.country == "IT"
    assert participant.organisation.created_by_id == user.id
    assert participant.keywords == ["graphene", "coatings"]
    assert participant.languages == ["en", "it"]
    assert participant.unavailable_slots == [1, 2]
    assert "ada rossi" in participant.search_text


async def test_register_with_approval_is_pending(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, requires_approval=True)
    participant = await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
    assert participant.status == "pending"


async def test_register_twice_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    user = await make_user(db)
    event = await make_event(db, owner)
    await services.register(db, user, event, new_org_input(event.clusters[0].id))
    await db.commit()
    with pytest.raises(Conflict) as info:
        await services.register(db, user, event, new_org_input(event.clusters[0].id))
    assert info.value.message == "You are already registered for this event."


async def test_set_status_partner_of_other_cluster_is_denied(db: AsyncSession) -> None:
    owner = await make_user(db)
    partner = await make_user(db)
    event = await make_event(db, owner, requires_approval=True)
    await add_role(db, event, partner, "cluster_partner", event.clusters[1])
    participant = await make_participant(db, event, cluster=event.clusters[0], status="pending")
    with pytest.raises(PermissionDenied):
        await services.set_status(db, partner, participant, "approved")
    done = await services.set_status(db, owner, participant, "approved")
    assert done.status == "approved"


async def test_get_participant_unknown_is_not_found(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    with pytest.raises(NotFound):
        await services.get_participant(db, event, 999)

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.db import utcnow
from clockevents.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clockevents.registration import services
from clockevents.registration.models import Organisation, Participant
from clockevents.registration.validation import OrganisationInput, ParticipantUpdate, RegistrationInput
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant


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


async def test_register_reports_every_profile_field(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    event.participant_types = ["business"]
    await db.commit()
    data = RegistrationInput(
        organisation=OrganisationInput(name="Org", kind="business", country="IT"),
        cluster_id=None,
        participant_type="research",
        job_title="",
        pitch="p" * 601,
        keywords=["k" * 61],
        sectors=[f"s{i}" for i in range(21)],
        languages=["italiano"],
        timezone="Rome",
        unavailable_slots=[10_000],
    )
    with pytest.raises(ValidationFailed) as info:
        await services.register(db, await make_user(db), event, data)
    assert info.value.fields == {
        "cluster_id": "Choose your cluster.",
        "participant_type": "Choose one of the participant types this event admits.",
        "job_title": "Enter your job title.",
        "pitch": "Use at most 600 characters.",
        "keywords": "Keep each one under 60 characters.",
        "sectors": "Give at most 20.",
        "languages": "Use ISO 639 language codes such as en, it, fr.",
        "timezone": "Choose a time zone such as Europe/Rome.",
        "unavailable_slots": "Choose slots of this event.",
    }


async def test_register_without_organisation_choice_is_invalid(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    data = new_org_input(event.clusters[0].id, organisation=None)
    with pytest.raises(ValidationFailed) as info:
        await services.register(db, await make_user(db), event, data)
    assert info.value.fields == {"organisation_id": "Choose your organisation or create a new one."}
    data.organisation_id = 123456
    with pytest.raises(ValidationFailed) as info:
        await services.register(db, await make_user(db), event, data)
    assert info.value.fields == {"organisation_id": "This organisation does not exist."}


async def test_register_empty_timezone_defaults_to_event_zone(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, timezone="Europe/Lisbon")
    participant = await services.register(
        db, await make_user(db), event, new_org_input(event.clusters[0].id, timezone="")
    )
    assert participant.timezone == "Europe/Lisbon"


async def test_register_cluster_by_name_for_imports(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    data = new_org_input(None, cluster_name=event.clusters[2].name.upper())  # type: ignore[arg-type]
    participant = await services.register(db, await make_user(db), event, data)
    assert participant.cluster_id == event.clusters[2].id


async def test_register_before_window_opens_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    event.registration_opens_at = utcnow() + timedelta(days=1)
    await db.commit()
    with pytest.raises(Conflict) as info:
        await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
    assert info.value.message.startswith("Registration opens on ")


async def test_register_after_window_closes_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    event.registration_opens_at = utcnow() - timedelta(days=2)
    event.registration_closes_at = utcnow() - timedelta(seconds=1)
    await db.commit()
    with pytest.raises(Conflict) as info:
        await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
    assert info.value.message == "Registration for this event has closed."


async def test_register_inside_window_is_allowed(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    event.registration_opens_at = utcnow() - timedelta(days=1)
    event.registration_closes_at = utcnow() + timedelta(days=1)
    await db.commit()
    participant = await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
    assert participant.status == "approved"


async def test_register_for_event_not_open_is_conflict(db: AsyncSession) -> None:
    owner = await make_user(db)
    for status in ("draft", "closed"):
        event = await make_event(db, owner, status=status)
        with pytest.raises(Conflict) as info:
            await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
        assert info.value.message == "Registration is not open for this event."


async def test_register_while_live_is_allowed(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, status="live")
    participant = await services.register(db, await make_user(db), event, new_org_input(event.clusters[0].id))
    assert participant.status == "approved"


async def test_register_import_skips_window_and_sets_status(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner, status="closed", requires_approval=True)
    participant = await services.register(
        db,
        await make_user(db),
        event,
        new_org_input(event.clusters[0].id),
        check_window=False,
        status="approved",
    )
    assert participant.status == "approved"


async def test_failed_registration_leaves_no_organisation(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    with pytest.raises(ValidationFailed):
        await services.register(
            db, await make_user(db), event, new_org_input(event.clusters[0].id, job_title="")
        )
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(Organisation)) == 0


async def test_registration_losing_a_race_leaves_no_organisation(db: AsyncSession) -> None:
    owner = await make_user(db)
    user = await make_user(db)
    event = await make_event(db, owner)
    rival = await make_organisation(db, name="Rival")
    # The rival row is pending and unseen by the duplicate check, as a concurrent
    # request's row would be; the insert then hits the unique constraint.
    db.add(
        Participant(event_id=event.id, user_id=user.id, organisation_id=rival.id, participant_type="business")
    )
    with db.no_autoflush, pytest.raises(Conflict):
        await services.register(db, user, event, new_org_input(event.clusters[0].id))
    names = list(await db.scalars(select(Organisation.name)))
    assert names == ["Rival"]


async def test_update_participant_by_other_participant_is_denied(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    mine = await make_participant(db, event)
    intruder = await make_user(db)
    await make_participant(db, event, user=intruder)
    with pytest.raises(PermissionDenied):
        await services.update_participant(db, intruder, mine, ParticipantUpdate(pitch="Hacked"))


async def test_update_participant_by_partner_of_other_cluster_is_denied(db: AsyncSession) -> None:
    owner = await make_user(db)
    partner = await make_user(db)
    event = await make_event(db, owner)
    await add_role(db, event, partner, "cluster_partner", event.clusters[1])
    theirs = await make_participant(db, event, cluster=event.clusters[0])
    with pytest.raises(PermissionDenied):
        await services.update_participant(db, partner, theirs, ParticipantUpdate(pitch="x"))
    ours = await make_participant(db, event, cluster=event.clusters[1])
    with pytest.raises(PermissionDenied):
        await services.update_participant(
            db, partner, ours, ParticipantUpdate(cluster_id=event.clusters[0].id)
        )
    done = await services.update_participant(
        db, partner, ours, ParticipantUpdate(status="rejected", pitch="ok")
    )
    assert (done.status, done.pitch) == ("rejected", "ok")


async def test_view_participant_rules(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    target = await make_participant(db, event)
    pending_viewer = await make_user(db)
    await make_participant(db, event, user=pending_viewer, status="pending")
    with pytest.raises(PermissionDenied):
        await services.view_participant(db, event, pending_viewer, target.id)
    seen = await services.view_participant(db, event, owner, target.id)
    assert seen.id == target.id

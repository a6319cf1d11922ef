"""Registration use cases: register, read and edit a profile, approve or reject.

Organisations live in ``organisations.py``, the marketplace in ``opportunities.py``; the input
shapes and their checks in ``validation.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from clockevents.accounts.models import User
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.events.models import Cluster, Event, EventRole, Slot
from clockevents.events.permissions import access_for, require_cluster
from clockevents.notify.mail import queue_registration_mail
from clockevents.registration.models import Organisation, Participant
from clockevents.registration.search import refresh_search_text
from clockevents.registration.validation import (
    JOB_TITLE_MAX,
    PITCH_MAX,
    OrganisationInput,
    ParticipantUpdate,
    RegistrationInput,
    check_cluster,
    check_languages,
    check_slots,
    check_status,
    check_tags,
    check_text,
    check_timezone,
    check_type,
    is_id,
    validate_organisation,
)

__all__ = [
    "OrganisationInput",
    "ParticipantUpdate",
    "RegistrationInput",
    "get_own_participant",
    "get_participant",
    "my_events",
    "register",
    "registration_errors",
    "registration_state",
    "set_status",
    "update_participant",
    "view_participant",
]


async def event_clusters(db: AsyncSession, event: Event) -> list[Cluster]:
    """The event's clusters in display order (queried: lazy loads are not allowed under asyncio)."""
    result = await db.scalars(
        select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position, Cluster.id)
    )
    return list(result)


async def event_slots(db: AsyncSession, event: Event) -> list[Slot]:
    result = await db.scalars(select(Slot).where(Slot.event_id == event.id).order_by(Slot.index))
    return list(result)


async def _slot_indexes(db: AsyncSession, event: Event) -> set[int]:
    return set(await db.scalars(select(Slot.index).where(Slot.event_id == event.id)))


def registration_state(event: Event, now: datetime | None = None) -> str | None:
    """Why registration is not possible now, or ``None`` when it is open."""
    now = now or utcnow()
    # Late registrations stay possible while the event runs (as the event page offers them).
    if event.status not in ("open", "live"):
        return "Registration is not open for this event."
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return f"Registration opens on {event.registration_opens_at:%d %b %Y at %H:%M} UTC."
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        return "Registration for this event has closed."
    return None


async def get_participant(db: AsyncSession, event: Event, participant_id: int) -> Participant:
    """Return the event's participant ``participant_id`` (organisation and opportunities loaded)."""
    if not is_id(participant_id):
        raise NotFound("No such participant in this event.")
    participant = await db.scalar(
        select(Participant)
        .where(Participant.id == participant_id, Participant.event_id == event.id)
        .options(selectinload(Participant.organisation), selectinload(Participant.opportunities))
    )
    if participant is None:
        raise NotFound("No such participant in this event.")
    return participant


async def get_own_participant(db: AsyncSession, event: Event, user: User) -> Participant | None:
    """The user's registration for ``event``, if any."""
    participant_id = await db.scalar(
        select(Participant.id).where(Participant.event_id == event.id, Participant.user_id == user.id)
    )
    if participant_id is None:
        return None
    return await get_participant(db, event, participant_id)


async def register(
    db: AsyncSession,
    user: User,
    event: Event,
    data: RegistrationInput,
    *,
    check_window: bool = True,
    status: str | None = None,
) -> Participant:
    """Register ``user`` for ``event``: validate everything, then write organisation and participant.

    ``check_window=False`` and an explicit ``status`` are for organisers' imports. Raises
    ValidationFailed (every wrong field) or Conflict (closed, or already registered).
    """
    if check_window and (reason := registration_state(event)):
        raise Conflict(reason)
    if await db.scalar(
        select(Participant.id).where(Participant.event_id == event.id, Participant.user_id == user.id)
    ):
        raise Conflict("You are already registered for this event.")

    errors, organisation, new_org, fields = await _check_registration(db, event, data)
    if status is not None:
        check_status(status, errors)
    if errors:
        raise ValidationFailed(errors)

    # One savepoint for both rows: a clash (e.g. a concurrent duplicate) undoes the organisation too.
    try:
        async with db.begin_nested():
            if organisation is None:
                assert new_org is not None
                organisation = Organisation(**vars(new_org), created_by_id=user.id)
                db.add(organisation)
                await db.flush()
            participant = Participant(
                event_id=event.id,
                user_id=user.id,
                organisation_id=organisation.id,
                status=status or ("pending" if event.requires_approval else "approved"),
                **fields,
            )
            db.add(participant)
            await db.flush()
    except IntegrityError as exc:
        raise Conflict("You are already registered for this event.") from exc
    await refresh_search_text(db, participant.id)
    await queue_registration_mail(db, participant.id, participant.status)
    return await get_participant(db, event, participant.id)


async def registration_errors(db: AsyncSession, event: Event, data: RegistrationInput) -> dict[str, str]:
    """Every message ``register`` would give for ``data``, without writing (the wizard checks each step)."""
    return (await _check_registration(db, event, data))[0]


async def _check_registration(
    db: AsyncSession, event: Event, data: RegistrationInput
) -> tuple[dict[str, str], Organisation | None, OrganisationInput | None, dict[str, object]]:
    errors: dict[str, str] = {}
    organisation: Organisation | None = None
    new_org: OrganisationInput | None = None
    if data.organisation_id is not None:
        organisation = (
            await db.get(Organisation, data.organisation_id) if is_id(data.organisation_id) else None
        )
        if organisation is None:
            errors["organisation_id"] = "This organisation does not exist."
    elif data.organisation is not None:
        new_org = validate_organisation(data.organisation, errors, prefix="organisation.")
    else:
        errors["organisation_id"] = "Choose your organisation or create a new one."
    fields = _validate_profile(
        data, await event_clusters(db, event), await _slot_indexes(db, event), event, errors
    )
    return errors, organisation, new_org, fields


def _validate_profile(
    data: RegistrationInput,
    clusters: list[Cluster],
    slot_indexes: set[int],
    event: Event,
    errors: dict[str, str],
) -> dict[str, object]:
    """Check the participant's own fields; return them cleaned, ready for the model."""
    return {
        "cluster_id": check_cluster(clusters, data.cluster_id, data.cluster_name, errors),
        "participant_type": check_type(event, data.participant_type, errors),
        "job_title": check_text(
            data.job_title, "job_title", JOB_TITLE_MAX, errors, required="Enter your job title."
        ),
        "pitch": check_text(data.pitch, "pitch", PITCH_MAX, errors),
        "keywords": check_tags(data.keywords, "keywords", errors),
        "sectors": check_tags(data.sectors, "sectors", errors),
        "languages": check_languages(data.languages, errors),
        # An import may leave the zone empty: the event's own zone is the sensible default.
        "timezone": check_timezone(data.timezone or event.timezone, errors),
        "unavailable_slots": check_slots(data.unavailable_slots, slot_indexes, errors),
        "listed": bool(data.listed),
    }


async def set_status(
    db: AsyncSession, actor: User | None, participant: Participant, status: str
) -> Participant:
    """Approve, reject or reset a registration (staff covering the participant's cluster)."""
    event = await db.get(Event, participant.event_id)
    assert event is not None
    await require_cluster(db, event, actor, participant.cluster_id)
    errors: dict[str, str] = {}
    check_status(status, errors)
    if errors:
        raise ValidationFailed(errors)
    was = participant.status
    participant.status = status
    await db.flush()
    if status == "approved" and was != "approved":
        await queue_registration_mail(db, participant.id, "approved")
    return participant


async def view_participant(
    db: AsyncSession, event: Event, viewer: User | None, participant_id: int
) -> Participant:
    """Return a participant the viewer may see: themselves, staff, or approved peers of a listed one."""
    if viewer is None:
        raise NotAuthenticated()
    participant = await get_participant(db, event, participant_id)
    if participant.user_id == viewer.id:
        return participant
    if (await access_for(db, event, viewer)).is_staff:
        return participant
    own = await db.scalar(
        select(Participant.status).where(Participant.event_id == event.id, Participant.user_id == viewer.id)
    )
    if own == "approved" and participant.status == "approved" and participant.listed:
        return participant
    raise PermissionDenied("This profile is visible to the event's registered participants only.")


async def update_participant(
    db: AsyncSession, actor: User | None, participant: Participant, data: ParticipantUpdate
) -> Participant:
    """Change a profile: its owner, or staff covering its cluster (who alone may set ``status``)."""
    if actor is None:
        raise NotAuthenticated()
    event = await db.get(Event, participant.event_id)
    assert event is not None
    access = await access_for(db, event, actor)
    is_owner = participant.user_id == actor.id
    is_staff = access.covers_cluster(participant.cluster_id)
    if not (is_owner or is_staff):
        raise PermissionDenied("You may edit your own profile only.")
    if data.status is not None and not is_staff:
        raise PermissionDenied("Only the event's organisers may change a registration's status.")

    errors: dict[str, str] = {}
    changes: dict[str, object] = {}
    if data.cluster_id is not None:
        changes["cluster_id"] = check_cluster(await event_clusters(db, event), data.cluster_id, "", errors)
        # A cluster partner may not hand a participant over to a cluster outside their scope.
        if not is_owner and not access.covers_cluster(data.cluster_id) and "cluster_id" not in errors:
            raise PermissionDenied("Cluster partners manage the participants of their own cluster only.")
    if data.participant_type is not None:
        changes["participant_type"] = check_type(event, data.participant_type, errors)
    if data.job_title is not None:
        changes["job_title"] = check_text(
            data.job_title, "job_title", JOB_TITLE_MAX, errors, required="Enter your job title."
        )
    if data.pitch is not None:
        changes["pitch"] = check_text(data.pitch, "pitch", PITCH_MAX, errors)
    if data.keywords is not None:
        changes["keywords"] = check_tags(data.keywords, "keywords", errors)
    if data.sectors is not None:
        changes["sectors"] = check_tags(data.sectors, "sectors", errors)
    if data.languages is not None:
        changes["languages"] = check_languages(data.languages, errors)
    if data.timezone is not None:
        changes["timezone"] = check_timezone(data.timezone, errors)
    if data.unavailable_slots is not None:
        changes["unavailable_slots"] = check_slots(
            data.unavailable_slots, await _slot_indexes(db, event), errors
        )
    if data.listed is not None:
        changes["listed"] = bool(data.listed)
    if data.status is not None:
        changes["status"] = check_status(data.status, errors)
    if errors:
        raise ValidationFailed(errors)
    for name, value in changes.items():
        setattr(participant, name, value)
    await refresh_search_text(db, participant.id)
    return await get_participant(db, event, participant.id)


@dataclass(frozen=True)
class MyEvents:
    """What /my/events shows: the user's registrations and the events they help organise."""

    registrations: list[tuple[Participant, Event]]
    organising: list[tuple[Event, str]]


async def my_events(db: AsyncSession, user: User) -> MyEvents:
    """Return the user's registrations (with status) and the events where they hold a role."""
    rows = await db.execute(
        select(Participant, Event)
        .join(Event, Event.id == Participant.event_id)
        .where(Participant.user_id == user.id)
        .order_by(Event.starts_on, Event.id)
    )
    roles = await db.execute(
        select(Event, EventRole.role)
        .join(EventRole, EventRole.event_id == Event.id)
        .where(EventRole.user_id == user.id)
        .order_by(Event.starts_on, Event.id)
    )
    return MyEvents(
        registrations=[(p, e) for p, e in rows.all()],
        organising=[(e, r) for e, r in roles.all()],
    )

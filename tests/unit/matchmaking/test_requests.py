from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.db import utcnow
from clockevents.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from clockevents.matchmaking import services
from clockevents.matchmaking.models import MeetingRequest
from clockevents.notify.models import Notification
from tests.factories.accounts import make_user
from tests.factories.events import add_role
from tests.factories.matchmaking import make_request, set_matchmaking
from tests.factories.registration import make_participant
from tests.unit.matchmaking.conftest import World


async def _notices(db: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    rows = await db.execute(
        select(Notification.kind, Notification.text)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_send_request_creates_pending_and_notifies_receiver(db: AsyncSession, world: World) -> None:
    request = await services.send_request(
        db, world.event, world.alice_user, {"to": world.bob.id, "message": " Hi "}
    )
    await db.commit()
    assert (request.status, request.sender_id, request.receiver_id, request.message) == (
        "pending",
        world.alice.id,
        world.bob.id,
        "Hi",
    )
    assert request.expires_at is None
    org = (await services.load_parties(db, [world.alice.id]))[world.alice.id].organisation
    assert await _notices(db, world.bob_user.id) == [
        ("request_received", f"Alice ({org}) asked you for a meeting.")
    ]


async def test_send_request_to_self_is_rejected(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": world.alice.id})
    assert caught.value.fields == {"to": "You cannot request a meeting with yourself."}


async def test_send_request_reports_every_bad_field(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.send_request(db, world.event, world.alice_user, {"message": 5, "slot": 3})
    assert caught.value.fields == {
        "to": "Choose a participant.",
        "message": "Enter text.",
        "slot": "In this event the organisers schedule the meetings; leave the slot out.",
    }


async def test_send_request_to_unapproved_participant_is_rejected(db: AsyncSession, world: World) -> None:
    pending = await make_participant(db, world.event, status="pending")
    with pytest.raises(ValidationFailed) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": pending.id})
    assert caught.value.fields == {"to": "This participant's registration is not approved."}


async def test_send_request_by_unapproved_sender_is_forbidden(db: AsyncSession, world: World) -> None:
    user = await make_user(db)
    await make_participant(db, world.event, user=user, status="pending")
    with pytest.raises(PermissionDenied):
        await services.send_request(db, world.event, user, {"to": world.bob.id})


async def test_send_request_by_non_participant_is_forbidden_and_anonymous_unauthenticated(
    db: AsyncSession, world: World
) -> None:
    with pytest.raises(PermissionDenied):
        await services.send_request(db, world.event, world.owner, {"to": world.bob.id})
    with pytest.raises(NotAuthenticated):
        await services.send_request(db, world.event, None, {"to": world.bob.id})


async def test_send_request_duplicate_pair_either_direction_is_conflict(
    db: AsyncSession, world: World
) -> None:
    await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    await db.commit()
    with pytest.raises(Conflict):
        await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    with pytest.raises(Conflict):
        await services.send_request(db, world.event, world.bob_user, {"to": world.alice.id})


async def test_send_request_after_decline_is_allowed(db: AsyncSession, world: World) -> None:
    await make_request(db, world.alice, world.bob, status="declined")
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    assert request.status == "pending"


@pytest.mark.parametrize("status", ["draft", "closed"])
async def test_send_request_outside_open_or_live_is_conflict(
    db: AsyncSession, world: World, status: str
) -> None:
    world.event.status = status
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    assert caught.value.message == "Meeting requests are possible only while the event is open or live."


async def test_send_request_sent_cap_counts_pending_and_accepted(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, max_sent=2)
    dave = await make_participant(db, world.event)
    await make_request(db, world.alice, world.bob, status="accepted")
    await make_request(db, world.alice, world.carol, status="declined")
    await services.send_request(db, world.event, world.alice_user, {"to": world.carol.id})
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": dave.id})
    assert caught.value.message == (
        "You have reached this event's limit of 2 open meeting requests sent; cancel one or wait for answers."
    )


async def test_send_request_received_cap_is_conflict(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, max_received=1)
    await make_request(db, world.carol, world.bob)
    with pytest.raises(Conflict) as caught:
        await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    assert caught.value.message == (
        "This participant has reached this event's limit of 1 open meeting requests received; "
        "please try someone else."
    )


async def test_send_request_auto_mode_is_accepted_at_once(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, request_mode="auto", expiry_hours=24)
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id})
    assert (request.status, request.expires_at is None, request.responded_at is not None) == (
        "accepted",
        True,
        True,
    )


async def test_expiry_sets_expires_at_and_expire_pending_marks_expired(
    db: AsyncSession, world: World
) -> None:
    await set_matchmaking(db, world.event, expiry_hours=48)
    now = utcnow()
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id}, now=now)
    await db.commit()
    assert request.expires_at == now + timedelta(hours=48)
    assert await services.expire_pending(db, now + timedelta(hours=47)) == 0
    assert await services.expire_pending(db, now + timedelta(hours=48)) == 1
    await db.commit()
    assert request.status == "expired"
    for user in (world.alice_user, world.bob_user):
        rows = await services.list_requests(db, world.event, user)
        assert [r.request.status for r in rows] == ["expired"]


async def test_accept_expired_request_is_conflict(db: AsyncSession, world: World) -> None:
    await set_matchmaking(db, world.event, expiry_hours=1)
    now = utcnow()
    request = await services.send_request(db, world.event, world.alice_user, {"to": world.bob.id}, now=now)
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.accept_request(db, world.bob_user, request.id, now=now + timedelta(hours=2))
    assert caught.value.message == "This request has expired."


async def test_accept_by_receiver_notifies_sender(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob)
    accepted = await services.accept_request(db, world.bob_user, request.id)
    await db.commit()
    assert accepted.status == "accepted"
    assert [k for k, _ in await _notices(db, world.alice_user.id)] == ["request_accepted"]


@pytest.mark.parametrize("who", ["alice_user", "carol_user", "owner"])
async def test_accept_by_anyone_but_receiver_is_forbidden(db: AsyncSession, world: World, who: str) -> None:
    request = await make_request(db, world.alice, world.bob)
    with pytest.raises(PermissionDenied):
        await services.accept_request(db, getattr(world, who), request.id)


async def test_accept_unknown_request_is_not_found(db: AsyncSession, world: World) -> None:
    with pytest.raises(NotFound):
        await services.accept_request(db, world.bob_user, 999999)


async def test_accept_twice_is_conflict(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob)
    await services.accept_request(db, world.bob_user, request.id)
    await db.commit()
    with pytest.raises(Conflict) as caught:
        await services.accept_request(db, world.bob_user, request.id)
    assert caught.value.message == "This request is already accepted."


async def test_decline_with_reason_notifies_sender(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob)
    declined = await services.decline_request(db, world.bob_user, request.id, {"reason": "Not our field"})
    await db.commit()
    assert (declined.status, declined.decline_reason) == ("declined", "Not our field")
    notices = await _notices(db, world.alice_user.id)
    assert notices[0][0] == "request_declined"
    assert notices[0][1].endswith("declined your meeting request. Reason: Not our field")


async def test_decline_by_sender_is_forbidden(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob)
    with pytest.raises(PermissionDenied):
        await services.decline_request(db, world.alice_user, request.id, {})


async def test_cancel_by_sender_pending_and_accepted(db: AsyncSession, world: World) -> None:
    pending = await make_request(db, world.alice, world.bob)
    accepted = await make_request(db, world.alice, world.carol, status="accepted")
    assert (await services.cancel_request(db, world.alice_user, pending.id)).status == "cancelled"
    assert (await services.cancel_request(db, world.alice_user, accepted.id)).status == "cancelled"


async def test_cancel_by_receiver_is_forbidden_but_organiser_may(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob)
    with pytest.raises(PermissionDenied):
        await services.cancel_request(db, world.bob_user, request.id)
    organiser = await make_user(db)
    await add_role(db, world.event, organiser, "organiser")
    assert (await services.cancel_request(db, organiser, request.id)).status == "cancelled"


async def test_cancel_declined_is_conflict(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob, status="declined")
    with pytest.raises(Conflict):
        await services.cancel_request(db, world.alice_user, request.id)


async def test_organiser_meeting_is_accepted_with_priority(db: AsyncSession, world: World) -> None:
    request = await services.organiser_meeting(
        db, world.event, world.owner, {"a": world.alice.id, "b": world.bob.id, "priority": 3}
    )
    await db.commit()
    assert (request.status, request.origin, request.priority, request.created_by_id) == (
        "accepted",
        "organiser",
        3,
        world.owner.id,
    )
    assert [k for k, _ in await _notices(db, world.bob_user.id)] == ["organiser_match"]


async def test_organiser_meeting_reports_every_bad_field(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.organiser_meeting(db, world.event, world.owner, {"a": "x", "b": 999999, "priority": 7})
    assert caught.value.fields == {
        "a": "Give a participant's id (a number).",
        "b": "No such participant in this event.",
        "priority": "Choose a priority of 1, 2 or 3.",
    }


async def test_organiser_meeting_same_person_and_duplicate(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.organiser_meeting(
            db, world.event, world.owner, {"a": world.alice.id, "b": world.alice.id}
        )
    assert caught.value.fields == {"b": "Choose two different participants."}
    await make_request(db, world.bob, world.alice)
    with pytest.raises(Conflict):
        await services.organiser_meeting(
            db, world.event, world.owner, {"a": world.alice.id, "b": world.bob.id}
        )


async def test_organiser_meeting_by_participant_or_partner_is_forbidden(
    db: AsyncSession, world: World
) -> None:
    with pytest.raises(PermissionDenied):
        await services.organiser_meeting(
            db, world.event, world.alice_user, {"a": world.bob.id, "b": world.carol.id}
        )
    partner = await make_user(db)
    await add_role(db, world.event, partner, "cluster_partner", world.event.clusters[0])
    with pytest.raises(PermissionDenied):
        await services.organiser_meeting(db, world.event, partner, {"a": world.bob.id, "b": world.carol.id})


async def test_set_priority_by_organiser_and_checks(db: AsyncSession, world: World) -> None:
    request = await make_request(db, world.alice, world.bob, status="accepted")
    assert (await services.set_priority(db, world.owner, request.id, {"priority": "2"})).priority == 2
    with pytest.raises(ValidationFailed) as caught:
        await services.set_priority(db, world.owner, request.id, {"priority": 0})
    assert caught.value.fields == {"priority": "Choose a priority of 1, 2 or 3."}
    with pytest.raises(ValidationFailed):
        await services.set_priority(db, world.owner, request.id, {})
    with pytest.raises(PermissionDenied):
        await services.set_priority(db, world.alice_user, request.id, {"priority": 3})


async def test_list_requests_scopes_by_viewer(db: AsyncSession, world: World) -> None:
    ab = await make_request(db, world.alice, world.bob)
    bc = await make_request(db, world.bob, world.carol)
    ca = await make_request(db, world.carol, world.alice, status="declined")

    def ids(rows: list[services.RequestRow]) -> list[int]:
        return sorted(r.request.id for r in rows)

    assert ids(await services.list_requests(db, world.event, world.alice_user)) == sorted([ab.id, ca.id])
    assert ids(await services.list_requests(db, world.event, world.owner)) == sorted([ab.id, bc.id, ca.id])
    sent = await services.list_requests(db, world.event, world.bob_user, direction="sent")
    assert ([r.request.id for r in sent], [r.actions for r in sent]) == ([bc.id], [frozenset({"cancel"})])
    received = await services.list_requests(db, world.event, world.bob_user, direction="received")
    assert [r.actions for r in received] == [frozenset({"accept", "decline"})]
    assert ids(await services.list_requests(db, world.event, world.owner, status="declined")) == [ca.id]
    partner = await make_user(db)
    await add_role(db, world.event, partner, "cluster_partner", world.event.clusters[2])  # Carol's cluster
    assert ids(await services.list_requests(db, world.event, partner)) == sorted([bc.id, ca.id])


async def test_list_requests_bad_filters_and_outsider(db: AsyncSession, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await services.list_requests(db, world.event, world.alice_user, status="nope", direction="up")
    assert set(caught.value.fields) == {"status", "direction"}
    with pytest.raises(PermissionDenied):
        await services.list_requests(db, world.event, await make_user(db))


async def test_request_counts_by_status(db: AsyncSession, world: World) -> None:
    await make_request(db, world.alice, world.bob)
    await make_request(db, world.bob, world.carol, status="accepted")
    await make_request(db, world.carol, world.alice, status="accepted")
    counts = await services.request_counts(db, world.event, world.owner)
    assert counts == {"pending": 1, "accepted": 2, "declined": 0, "cancelled": 0, "expired": 0}
    assert await db.scalar(select(func.count()).select_from(MeetingRequest)) == 3

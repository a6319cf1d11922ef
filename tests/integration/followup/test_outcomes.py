"""Meeting outcomes through the API and the form: both sides, attendance prefill, who may see what."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.followup.models import MeetingOutcome
from tests.helpers import field_error, form_post, login
from tests.integration.followup.conftest import Scene, attend

FULL = {
    "took_place": True,
    "rating": 4,
    "wants_to_continue": True,
    "outcome": "technical_cooperation",
    "private_notes": "Their CTO seemed keen.",
}


def url(meeting: Meeting) -> str:
    return f"/api/v1/meetings/{meeting.id}/outcome"


async def test_outcome_both_sides_same_kind_is_confirmed(scene: Scene, client: AsyncTestClient[Any]) -> None:
    first = await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    assert first.status_code == 200, first.text
    assert first.json()["confirmed"] is False
    assert first.json()["theirs"] is None

    second = await client.post(
        url(scene.meeting),
        json={"outcome": "technical_cooperation", "rating": 5, "private_notes": "Bruno's own note."},
        headers=scene.auth["b"],
    )

    assert second.status_code == 200, second.text
    body = second.json()
    assert body["confirmed"] is True
    assert body["confirmed_outcome"] == "technical_cooperation"
    assert body["participant_id"] == scene.b.id
    assert {k: v for k, v in body["mine"].items() if k != "updated_at"} == {
        "participant_id": scene.b.id,
        "took_place": True,
        "rating": 5,
        "wants_to_continue": False,
        "outcome": "technical_cooperation",
        "private_notes": "Bruno's own note.",
    }
    # The other side's shared answers, and never their private notes.
    assert {k: v for k, v in body["theirs"].items() if k != "updated_at"} == {
        "participant_id": scene.a.id,
        "took_place": True,
        "rating": 4,
        "wants_to_continue": True,
        "outcome": "technical_cooperation",
        "private_notes": None,
    }


async def test_outcome_different_kinds_or_none_are_not_confirmed(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await client.post(url(scene.meeting), json={"outcome": "none"}, headers=scene.auth["a"])
    both_none = await client.post(url(scene.meeting), json={"outcome": "none"}, headers=scene.auth["b"])
    assert (both_none.json()["confirmed"], both_none.json()["confirmed_outcome"]) == (False, None)

    await client.post(url(scene.meeting), json={"outcome": "licence"}, headers=scene.auth["a"])
    differ = await client.post(url(scene.meeting), json={"outcome": "investment"}, headers=scene.auth["b"])
    assert (differ.json()["confirmed"], differ.json()["confirmed_outcome"]) == (False, None)


async def test_outcome_update_keeps_fields_left_out(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    response = await client.post(url(scene.meeting), json={"rating": None}, headers=scene.auth["a"])

    assert response.status_code == 200
    row = await db.scalar(select(MeetingOutcome).where(MeetingOutcome.participant_id == scene.a.id))
    assert row is not None
    assert (row.took_place, row.rating, row.wants_to_continue, row.outcome, row.private_notes) == (
        True,
        None,
        True,
        "technical_cooperation",
        "Their CTO seemed keen.",
    )
    assert len(list(await db.scalars(select(MeetingOutcome)))) == 1


async def test_took_place_prefilled_true_when_both_joined(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await attend(db, scene.meeting, scene.a, 15)
    await attend(db, scene.meeting, scene.b, 12)

    read = await client.get(url(scene.meeting), headers=scene.auth["a"])
    assert read.json()["took_place_suggested"] is True

    saved = await client.post(url(scene.meeting), json={"outcome": "none"}, headers=scene.auth["a"])
    assert saved.json()["mine"]["took_place"] is True


async def test_took_place_prefilled_false_when_only_one_joined(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await attend(db, scene.meeting, scene.a, 20)

    saved = await client.post(url(scene.meeting), json={"rating": 1}, headers=scene.auth["b"])

    assert saved.json()["took_place_suggested"] is False
    assert saved.json()["mine"]["took_place"] is False


async def test_took_place_no_suggestion_without_room_presence(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    saved = await client.post(url(scene.meeting), json={"rating": 3}, headers=scene.auth["a"])

    assert saved.json()["took_place_suggested"] is None
    assert saved.json()["mine"]["took_place"] is True


async def test_outcome_explicit_answer_beats_the_suggestion(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await attend(db, scene.meeting, scene.a, 20)
    saved = await client.post(url(scene.meeting), json={"took_place": True}, headers=scene.auth["b"])
    assert saved.json()["mine"]["took_place"] is True


async def test_outcome_each_wrong_field_has_its_message(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    response = await client.post(
        url(scene.meeting),
        json={
            "took_place": "maybe",
            "rating": 6,
            "outcome": "friendship",
            "private_notes": 7,
            "mood": "good",
        },
        headers=scene.auth["a"],
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "took_place": "Answer yes or no.",
        "rating": "Rate from 1 to 5, or leave the rating empty.",
        "outcome": "Choose one of: none, further_contact, technical_cooperation, commercial_agreement, "
        "research_cooperation, investment, licence.",
        "private_notes": "Write the notes as text.",
        "mood": "Unknown field.",
    }
    assert list(await db.scalars(select(MeetingOutcome))) == []


async def test_outcome_rating_zero_and_bool_are_refused(scene: Scene, client: AsyncTestClient[Any]) -> None:
    for rating in (0, True, "5.0"):
        response = await client.post(url(scene.meeting), json={"rating": rating}, headers=scene.auth["a"])
        assert (response.status_code, response.json()["errors"]) == (
            400,
            {"rating": "Rate from 1 to 5, or leave the rating empty."},
        )


async def test_outcome_not_held_cannot_have_an_outcome(scene: Scene, client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        url(scene.meeting), json={"took_place": False, "outcome": "licence"}, headers=scene.auth["a"]
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "outcome": 'A meeting that did not take place has no outcome but "none".'
    }


async def test_outcome_body_not_an_object_is_400(scene: Scene, client: AsyncTestClient[Any]) -> None:
    response = await client.post(url(scene.meeting), json=["rating", 3], headers=scene.auth["a"])
    assert response.status_code == 400


async def test_outcome_stranger_is_403_and_organiser_reads_only(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])

    stranger_read = await client.get(url(scene.meeting), headers=scene.auth["c"])
    stranger_write = await client.post(url(scene.meeting), json=FULL, headers=scene.auth["c"])
    organiser_read = await client.get(url(scene.meeting), headers=scene.auth["owner"])
    organiser_write = await client.post(url(scene.meeting), json=FULL, headers=scene.auth["owner"])

    assert (stranger_read.status_code, stranger_write.status_code) == (403, 403)
    assert organiser_read.status_code == 200
    body = organiser_read.json()
    assert (body["participant_id"], body["mine"], body["theirs"]) == (None, None, None)
    assert [{k: v for k, v in r.items() if k != "updated_at"} for r in body["reports"]] == [
        {
            "participant_id": scene.a.id,
            "took_place": True,
            "rating": 4,
            "wants_to_continue": True,
            "outcome": "technical_cooperation",
            "private_notes": None,
        }
    ]
    assert (organiser_write.status_code, organiser_write.json()["detail"]) == (
        403,
        "Only the meeting's two participants report its outcome.",
    )


async def test_outcome_anonymous_is_401_and_unknown_meeting_404(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    assert (await client.get(url(scene.meeting))).status_code == 401
    for meeting_id in (0, 999999, 99999999999999999999):
        response = await client.get(f"/api/v1/meetings/{meeting_id}/outcome", headers=scene.auth["a"])
        assert response.status_code == 404


async def test_outcome_before_the_slot_ends_is_409(scene: Scene, client: AsyncTestClient[Any]) -> None:
    read = await client.get(url(scene.upcoming), headers=scene.auth["a"])
    write = await client.post(url(scene.upcoming), json=FULL, headers=scene.auth["c"])

    assert (read.status_code, read.json()["detail"]) == (
        409,
        "You can report on this meeting once it has ended.",
    )
    assert write.status_code == 409


async def test_outcome_of_cancelled_or_unscheduled_meeting_is_409(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    scene.meeting.status = "cancelled"
    await db.commit()
    cancelled = await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    assert (cancelled.status_code, cancelled.json()["detail"]) == (
        409,
        "This meeting was cancelled: there is nothing to report.",
    )

    scene.meeting.status = "held"  # a self-booking still waiting for the receiver
    await db.commit()
    held = await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    assert (held.status_code, held.json()["detail"]) == (
        409,
        "This meeting is not in the agenda: there is nothing to report yet.",
    )


# -- the form ---------------------------------------------------------------------------------


async def test_outcome_page_shows_suggestion_and_saves(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await attend(db, scene.meeting, scene.a, 15)
    await attend(db, scene.meeting, scene.b, 15)
    await login(client, "anna@example.org")

    page = await client.get(f"/meetings/{scene.meeting.id}/outcome")
    assert page.status_code == 200
    assert "you both joined, so the meeting took place." in page.text
    assert 'name="took_place" value="yes" checked' in page.text

    saved = await form_post(
        client,
        f"/meetings/{scene.meeting.id}/outcome",
        {
            "took_place": "yes",
            "rating": "5",
            "outcome": "commercial_agreement",
            "wants_to_continue": "on",
            "private_notes": "Send the price list.",
        },
    )
    assert (saved.status_code, saved.headers["location"]) == (
        302,
        f"/meetings/{scene.meeting.id}/outcome?saved=1",
    )
    row = await db.scalar(select(MeetingOutcome))
    assert row is not None
    assert (
        row.participant_id,
        row.took_place,
        row.rating,
        row.wants_to_continue,
        row.outcome,
        row.private_notes,
    ) == (
        scene.a.id,
        True,
        5,
        True,
        "commercial_agreement",
        "Send the price list.",
    )

    # Unticking the box is an answer too.
    await form_post(
        client,
        f"/meetings/{scene.meeting.id}/outcome",
        {"took_place": "yes", "rating": "5", "outcome": "commercial_agreement", "private_notes": ""},
    )
    await db.refresh(row)
    assert (row.wants_to_continue, row.private_notes) == (False, "")


async def test_outcome_page_wrong_rating_shows_field_error(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await login(client, "bruno@example.org")
    response = await form_post(
        client,
        f"/meetings/{scene.meeting.id}/outcome",
        {"took_place": "yes", "rating": "9", "outcome": "none"},
    )
    assert response.status_code == 400
    assert field_error(response.text, "rating") == "Rate from 1 to 5, or leave the rating empty."
    assert list(await db.scalars(select(MeetingOutcome))) == []


async def test_outcome_page_other_side_never_sees_private_notes(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    await login(client, "bruno@example.org")

    page = await client.get(f"/meetings/{scene.meeting.id}/outcome")

    assert page.status_code == 200
    assert "Their CTO seemed keen." not in page.text
    assert "Outcome: Technical cooperation" in page.text


async def test_outcome_page_organiser_reads_both_reports_without_a_form(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await client.post(url(scene.meeting), json=FULL, headers=scene.auth["a"])
    await client.post(
        url(scene.meeting), json={"outcome": "none", "private_notes": "B only"}, headers=scene.auth["b"]
    )
    await login(client, "owner@example.org")

    page = await client.get(f"/meetings/{scene.meeting.id}/outcome")

    assert page.status_code == 200
    assert f'id="report-{scene.a.id}"' in page.text
    assert f'id="report-{scene.b.id}"' in page.text
    assert "Their CTO seemed keen." not in page.text and "B only" not in page.text
    assert 'action="/meetings/' not in page.text


async def test_recording_an_outcome_tells_the_organisers_live_report(
    scene: Scene, client: AsyncTestClient[Any], db: AsyncSession
) -> None:
    from sqlalchemy import select

    from clockevents.live.models import LiveChannel, LiveMessage

    saved = await client.post(url(scene.meeting), json={"outcome": "licence"}, headers=scene.auth["a"])
    assert saved.status_code == 200
    rows = (
        await db.execute(
            select(LiveChannel.name, LiveMessage.type, LiveMessage.payload).join(
                LiveChannel, LiveChannel.id == LiveMessage.channel_id
            )
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (
            f"event:{scene.meeting.event_id}",
            "outcome",
            {"meeting_id": scene.meeting.id, "audience": {"organisers": True}},
        )
    ]

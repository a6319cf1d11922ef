"""Follow-up tasks: who may create, see, complete and comment; reminders; the live message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.followup.models import FollowUpComment, FollowUpTask
from clockevents.followup.reminders import queue_task_reminders
from clockevents.live.models import LiveChannel, LiveMessage
from clockevents.notify.mail_models import MailPreference, OutboundMail
from clockevents.registration.models import Organisation, Participant
from tests.factories.accounts import make_user
from tests.factories.events import add_role
from tests.helpers import api_token, bearer, field_error, form_post, login
from tests.integration.followup.conftest import Scene


def tasks_url(scene: Scene) -> str:
    return f"/api/v1/events/{scene.event.slug}/followups"


async def create(scene: Scene, client: AsyncTestClient[Any], who: str = "a", **body: Any) -> Any:
    data = {"meeting_id": scene.meeting.id, "title": "Send the NDA", "due_on": "2031-03-10", **body}
    return await client.post(tasks_url(scene), json=data, headers=scene.auth[who])


async def test_task_created_by_one_party_for_the_other(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    organisation = await db.get(Organisation, scene.b.organisation_id)
    assert organisation is not None
    bruno = f"Bruno Verdi ({organisation.name})"

    response = await create(scene, client, owner_id=scene.b.id)

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "id"} == {
        "meeting_id": scene.meeting.id,
        "title": "Send the NDA",
        "due_on": "2031-03-10",
        "done": False,
        "done_at": None,
        "owner_id": scene.b.id,
        "owner": bruno,
        "created_by_id": scene.a.id,
        "with": bruno,
        "comments": [],
    }


async def test_task_owner_defaults_to_creator_and_lists_for_both_parties(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    created = (await create(scene, client, who="b", due_on="")).json()

    for who in ("a", "b"):
        listed = await client.get(tasks_url(scene), headers=scene.auth[who])
        assert listed.status_code == 200
        assert [(t["id"], t["owner_id"], t["due_on"]) for t in listed.json()] == [
            (created["id"], scene.b.id, None)
        ]
    # c has meetings in the event but not this one; the organiser reads everything.
    assert (await client.get(tasks_url(scene), headers=scene.auth["c"])).json() == []
    organiser = (await client.get(tasks_url(scene), headers=scene.auth["owner"])).json()
    assert [(t["id"], t["with"]) for t in organiser] == [(created["id"], "")]


async def test_task_each_wrong_field_has_its_message(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    response = await client.post(
        tasks_url(scene),
        json={"meeting_id": "x", "title": "  ", "due_on": "10/03/2031", "owner_id": True, "colour": "red"},
        headers=scene.auth["a"],
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "meeting_id": "Choose the meeting this task follows up.",
        "title": "Write what is to be done.",
        "due_on": "Give the due date as YYYY-MM-DD.",
        "owner_id": "Choose yourself or the other participant.",
        "colour": "Unknown field.",
    }
    assert list(await db.scalars(select(FollowUpTask))) == []


async def test_task_owner_outside_the_meeting_is_refused(scene: Scene, client: AsyncTestClient[Any]) -> None:
    response = await create(scene, client, owner_id=scene.c.id)
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"owner_id": "Choose yourself or the other participant."},
    )


async def test_task_on_someone_elses_meeting_is_403_and_organisers_cannot_create(
    scene: Scene, client: AsyncTestClient[Any]
) -> None:
    stranger = await create(scene, client, who="c")
    organiser = await create(scene, client, who="owner")
    assert stranger.status_code == 403
    assert (organiser.status_code, organiser.json()["detail"]) == (
        403,
        "Only the meeting's two participants change its follow-up tasks.",
    )


async def test_task_for_a_meeting_of_another_event_is_refused(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    response = await create(scene, client, meeting_id=scene.meeting.id + 1000)
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"meeting_id": "No such meeting in this event."},
    )


async def test_task_complete_and_comment_by_the_parties_only(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    task_id = (await create(scene, client, owner_id=scene.b.id)).json()["id"]

    stranger_done = await client.post(f"/api/v1/followups/{task_id}/complete", headers=scene.auth["c"])
    organiser_done = await client.post(f"/api/v1/followups/{task_id}/complete", headers=scene.auth["owner"])
    stranger_comment = await client.post(
        f"/api/v1/followups/{task_id}/comments", json={"text": "hi"}, headers=scene.auth["c"]
    )
    assert (stranger_done.status_code, organiser_done.status_code, stranger_comment.status_code) == (
        404,
        403,
        404,
    )

    comment = await client.post(
        f"/api/v1/followups/{task_id}/comments", json={"text": " Sent on Monday. "}, headers=scene.auth["b"]
    )
    assert comment.status_code == 201
    assert (comment.json()["author_id"], comment.json()["text"]) == (scene.b.id, "Sent on Monday.")

    done = await client.post(f"/api/v1/followups/{task_id}/complete", headers=scene.auth["a"])
    again = await client.post(f"/api/v1/followups/{task_id}/complete", headers=scene.auth["b"])
    assert (done.status_code, done.json()["done"]) == (200, True)
    assert again.json()["done_at"] == done.json()["done_at"]
    assert [c["text"] for c in again.json()["comments"]] == ["Sent on Monday."]

    task = await db.get(FollowUpTask, task_id)
    assert task is not None and task.done_at is not None
    assert [(c.author_id, c.text) for c in await db.scalars(select(FollowUpComment))] == [
        (scene.b.id, "Sent on Monday.")
    ]


async def test_task_empty_comment_and_unknown_task(scene: Scene, client: AsyncTestClient[Any]) -> None:
    task_id = (await create(scene, client)).json()["id"]
    empty = await client.post(
        f"/api/v1/followups/{task_id}/comments", json={"text": ""}, headers=scene.auth["a"]
    )
    assert (empty.status_code, empty.json()["errors"]) == (400, {"text": "Write a comment."})
    for bad in (0, task_id + 1, 99999999999999999999):
        response = await client.post(f"/api/v1/followups/{bad}/complete", headers=scene.auth["a"])
        assert response.status_code == 404


async def test_task_changes_go_to_the_event_channel_for_the_two_parties(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    task_id = (await create(scene, client)).json()["id"]
    await client.post(
        f"/api/v1/followups/{task_id}/comments", json={"text": "Done soon"}, headers=scene.auth["b"]
    )
    await client.post(f"/api/v1/followups/{task_id}/complete", headers=scene.auth["b"])

    rows = (
        await db.execute(
            select(LiveChannel.name, LiveMessage.type, LiveMessage.payload)
            .join(LiveChannel, LiveChannel.id == LiveMessage.channel_id)
            .order_by(LiveMessage.seq)
        )
    ).all()
    assert [(name, kind, p["action"], p["task"]["id"], p["audience"]) for name, kind, p in rows] == [
        (f"event:{scene.event.id}", "followup", action, task_id, {"participants": [scene.a.id, scene.b.id]})
        for action in ("created", "commented", "completed")
    ]
    assert rows[1][2]["comment"]["text"] == "Done soon"


# -- reminders --------------------------------------------------------------------------------


async def _task(db: AsyncSession, scene: Scene, due_on: date | None, **values: Any) -> FollowUpTask:
    task = FollowUpTask(
        event_id=scene.event.id,
        meeting_id=scene.meeting.id,
        owner_id=scene.b.id,
        created_by_id=scene.a.id,
        title="Send the NDA",
        due_on=due_on,
        **values,
    )
    db.add(task)
    await db.commit()
    return task


async def test_task_reminder_goes_once_the_day_before(db: AsyncSession, scene: Scene) -> None:
    # Event zone Europe/Rome: 10:00 UTC on 9 March is 9 March there too.
    now = datetime(2031, 3, 8, 10, 0, tzinfo=UTC)
    due = await _task(db, scene, date(2031, 3, 10))
    await _task(db, scene, date(2031, 3, 9), done_at=now)  # done: no reminder
    await _task(db, scene, None)  # no due date: no reminder

    assert await queue_task_reminders(db, now) == 0  # two days before
    assert await queue_task_reminders(db, now + timedelta(days=1)) == 1
    await db.commit()
    assert await queue_task_reminders(db, now + timedelta(days=1, hours=1)) == 0

    mails = list(await db.scalars(select(OutboundMail)))
    assert [(m.to, m.subject, m.kind) for m in mails] == [
        ("bruno@example.org", "Follow-up due Mon 10 Mar 2031: Send the NDA", "followup_reminder")
    ]
    assert "Your follow-up task \u201cSend the NDA\u201d is due on Monday 10 March 2031." in mails[0].text
    assert f"/events/{scene.event.slug}/followups" in mails[0].text
    await db.refresh(due)
    assert due.reminded_at == now + timedelta(days=1)


async def test_task_reminder_respects_switched_off_reminders(db: AsyncSession, scene: Scene) -> None:
    assert scene.b.user_id is not None
    db.add(MailPreference(user_id=scene.b.user_id, kind="reminders", enabled=False))
    task = await _task(db, scene, date(2031, 3, 10))

    assert await queue_task_reminders(db, datetime(2031, 3, 9, 10, 0, tzinfo=UTC)) == 0
    await db.commit()
    await db.refresh(task)
    assert task.reminded_at is not None
    assert list(await db.scalars(select(OutboundMail))) == []


# -- the page ---------------------------------------------------------------------------------


async def test_followups_page_create_comment_complete(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await login(client, "anna@example.org")
    page = await client.get(f"/events/{scene.event.slug}/followups")
    assert page.status_code == 200
    assert f'href="/meetings/{scene.meeting.id}/outcome"' in page.text
    assert f'href="/meetings/{scene.upcoming.id}/outcome"' not in page.text  # not over yet
    # The page follows the event channel, where the partner's task changes arrive.
    assert f'id="followups" data-ws="/ws/events/{scene.event.slug}"' in page.text
    assert '<script type="module" src="/static/js/followups-live.js"></script>' in page.text

    created = await form_post(
        client,
        f"/events/{scene.event.slug}/followups",
        {"meeting_id": scene.meeting.id, "title": "Call back", "due_on": "2031-01-02", "owner_id": ""},
    )
    task = await db.scalar(select(FollowUpTask))
    assert task is not None
    assert (created.status_code, created.headers["location"]) == (
        302,
        f"/events/{scene.event.slug}/followups#task-{task.id}",
    )
    assert (task.title, task.due_on, task.owner_id, task.created_by_id) == (
        "Call back",
        date(2031, 1, 2),
        scene.a.id,
        scene.a.id,
    )

    bad = await form_post(client, f"/followups/{task.id}/comments", {"text": ""})
    assert (bad.status_code, field_error(bad.text, "text")) == (400, "Write a comment.")
    await form_post(client, f"/followups/{task.id}/comments", {"text": "Left a message"})
    await form_post(client, f"/followups/{task.id}/complete", {})
    page = await client.get(f"/events/{scene.event.slug}/followups")
    assert "<del>Call back</del>" in page.text
    assert "Left a message" in page.text


async def test_followups_page_wrong_date_shows_field_error(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await login(client, "anna@example.org")
    response = await form_post(
        client,
        f"/events/{scene.event.slug}/followups",
        {"meeting_id": scene.meeting.id, "title": "Call back", "due_on": "someday", "owner_id": ""},
    )
    assert (response.status_code, field_error(response.text, "due_on")) == (
        400,
        "Give the due date as YYYY-MM-DD.",
    )
    assert list(await db.scalars(select(FollowUpTask))) == []


async def test_tasks_cluster_partner_sees_only_their_clusters_meetings(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    task_id = (await create(scene, client)).json()["id"]
    partner = await make_user(db, email="partner@example.org")
    await add_role(db, scene.event, partner, "cluster_partner", scene.event.clusters[0])
    headers = bearer(await api_token(client, "partner@example.org"))

    assert (await client.get(tasks_url(scene), headers=headers)).json() == []

    participant = await db.get(Participant, scene.b.id)
    assert participant is not None
    participant.cluster_id = scene.event.clusters[0].id
    await db.commit()
    assert [t["id"] for t in (await client.get(tasks_url(scene), headers=headers)).json()] == [task_id]


async def test_tasks_of_an_event_are_hidden_from_outsiders(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await make_user(db, email="outsider@example.org")
    headers = bearer(await api_token(client, "outsider@example.org"))
    response = await client.get(tasks_url(scene), headers=headers)
    assert (response.status_code, response.json()["detail"]) == (
        403,
        "Only the event's participants and organisers see follow-up tasks.",
    )

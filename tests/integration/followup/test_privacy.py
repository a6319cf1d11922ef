"""A participant's own data: the export's content, and deletion that keeps the event's figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import AuthToken, User
from clockevents.agenda.models import Meeting
from clockevents.events.models import Event
from clockevents.followup.models import FollowUpComment, FollowUpTask, MeetingOutcome, SurveyInvitation
from clockevents.followup.reports import build_report
from clockevents.live.models import Attendance, LiveChannel, LiveMessage
from clockevents.notify.mail_models import OutboundMail
from clockevents.registration.models import Organisation, Participant
from tests.factories.registration import make_opportunity
from tests.helpers import field_error, form_post, login
from tests.integration.followup.conftest import Scene, attend


async def _history(db: AsyncSession, scene: Scene) -> dict[str, Any]:
    """Give the a-b meeting a past: chat, outcomes, a task with comments, a survey answer."""
    await make_opportunity(db, scene.a, title="Graphene coatings")
    channel = LiveChannel(name=f"meeting:{scene.meeting.id}", event_id=scene.event.id)
    db.add(channel)
    await db.flush()
    for seq, who, text in ((1, scene.a, "Hello Bruno"), (2, scene.b, "Hi Anna"), (3, scene.a, "Bye")):
        db.add(
            LiveMessage(
                channel_id=channel.id,
                seq=seq,
                type="chat",
                payload={
                    "text": text,
                    "from": {"participant_id": who.id, "user_id": who.user_id, "name": "someone"},
                },
                user_id=who.user_id,
            )
        )
    db.add(
        MeetingOutcome(
            meeting_id=scene.meeting.id,
            participant_id=scene.a.id,
            rating=5,
            wants_to_continue=True,
            outcome="licence",
            private_notes="Anna's secret",
        )
    )
    db.add(
        MeetingOutcome(
            meeting_id=scene.meeting.id,
            participant_id=scene.b.id,
            rating=4,
            outcome="licence",
            private_notes="Bruno's secret",
        )
    )
    task = FollowUpTask(
        event_id=scene.event.id,
        meeting_id=scene.meeting.id,
        owner_id=scene.b.id,
        created_by_id=scene.a.id,
        title="Draft the licence",
        due_on=date(2031, 5, 1),
    )
    db.add(task)
    await db.flush()
    db.add(FollowUpComment(task_id=task.id, author_id=scene.a.id, text="Template attached"))
    db.add(FollowUpComment(task_id=task.id, author_id=scene.b.id, text="Thanks"))
    db.add(
        SurveyInvitation(
            meeting_id=scene.meeting.id,
            participant_id=scene.a.id,
            expires_at=scene.slot.ends_at,
            used_at=scene.slot.ends_at,
            stage="agreement_signed",
            agreement_kind="licence",
        )
    )
    await db.commit()
    await attend(db, scene.meeting, scene.a, 15)
    await attend(db, scene.meeting, scene.b, 15)
    return {"task": task}


async def test_export_holds_the_callers_data_and_nobody_elses(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await _history(db, scene)
    org_a = await db.get(Organisation, scene.a.organisation_id)
    org_b = await db.get(Organisation, scene.b.organisation_id)
    org_c = await db.get(Organisation, scene.c.organisation_id)
    assert org_a and org_b and org_c

    response = await client.get("/api/v1/account/export", headers=scene.auth["a"])

    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="clockevents-my-data.json"'
    data = response.json()
    assert sorted(data) == [
        "account",
        "api_tokens",
        "chat_messages",
        "format",
        "mail_preferences",
        "meetings",
        "notifications",
        "organisations",
        "outcomes",
        "participations",
        "requests",
        "surveys",
        "tasks",
        "workshop_questions",
    ]
    assert data["format"] == "clockevents-personal-data/1"
    assert {k: data["account"][k] for k in ("id", "email", "name")} == {
        "id": scene.a.user_id,
        "email": "anna@example.org",
        "name": "Anna Rossi",
    }
    assert [t["name"] for t in data["api_tokens"]] == ["API token"]
    assert [o["name"] for o in data["organisations"]] == [org_a.name]
    assert [
        (p["id"], p["event"]["slug"], p["pitch"], [o["title"] for o in p["opportunities"]])
        for p in data["participations"]
    ] == [(scene.a.id, scene.event.slug, "We build things.", ["Graphene coatings"])]
    assert [(r["direction"], r["with"], r["status"]) for r in data["requests"]] == [
        ("sent", f"Bruno Verdi ({org_b.name})", "accepted"),
        ("sent", f"Carla Neri ({org_c.name})", "accepted"),
    ]
    assert [(m["id"], m["with"], m["status"], m["starts_at"]) for m in data["meetings"]] == [
        (scene.meeting.id, f"Bruno Verdi ({org_b.name})", "scheduled", scene.slot.starts_at.isoformat()),
        (scene.upcoming.id, f"Carla Neri ({org_c.name})", "scheduled", data["meetings"][1]["starts_at"]),
    ]
    assert [(c["channel"], c["seq"], c["text"]) for c in data["chat_messages"]] == [
        (f"meeting:{scene.meeting.id}", 1, "Hello Bruno"),
        (f"meeting:{scene.meeting.id}", 3, "Bye"),
    ]
    assert data["outcomes"] == [
        {
            "meeting_id": scene.meeting.id,
            "took_place": True,
            "rating": 5,
            "wants_to_continue": True,
            "outcome": "licence",
            "private_notes": "Anna's secret",
        }
    ]
    assert [
        (t["title"], t["due_on"], t["mine"], [(c["text"], c["mine"]) for c in t["comments"]])
        for t in data["tasks"]
    ] == [("Draft the licence", "2031-05-01", False, [("Template attached", True), ("Thanks", False)])]
    assert [(s["stage"], s["agreement_kind"]) for s in data["surveys"]] == [("agreement_signed", "licence")]
    assert "Bruno's secret" not in response.text


async def test_export_needs_a_login(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/v1/account/export")).status_code == 401


async def _report(db: AsyncSession, event_id: int, owner_id: int) -> dict[str, Any]:
    event, owner = await db.get(Event, event_id), await db.get(User, owner_id)
    assert event is not None
    report = (await build_report(db, event, owner)).to_dict()
    report.pop("generated_at")
    return report


async def test_delete_account_keeps_the_report_and_anonymises(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await _history(db, scene)
    event_id, owner_id = scene.event.id, scene.owner.id
    a_id, a_user, b_id, b_user = scene.a.id, scene.a.user_id, scene.b.id, scene.b.user_id
    org_a = await _org_name(db, scene.a)
    before = await _report(db, event_id, owner_id)
    db.add(OutboundMail(to="anna@example.org", subject="Reminder", text="…"))
    await db.commit()

    response = await client.post(
        "/api/v1/account/delete", json={"password": "correct-horse-battery"}, headers=scene.auth["a"]
    )

    assert (response.status_code, response.json()) == (200, {"deleted": True})
    db.expire_all()
    after = await _report(db, event_id, owner_id)
    assert after == before
    assert (before["summary"]["meetings_held"], before["outcomes_by_kind"]["licence"]) == (1, 2)
    assert await db.get(User, a_user) is None
    assert (
        await db.scalar(select(func.count()).select_from(AuthToken).where(AuthToken.user_id == a_user)) == 0
    )
    participant = await db.get(Participant, a_id)
    assert participant is not None
    assert (participant.user_id, participant.pitch, participant.listed, participant.search_text) == (
        None,
        "",
        False,
        "",
    )
    assert await db.scalar(select(func.count()).select_from(Meeting)) == 2
    outcomes = {o.participant_id: o for o in await db.scalars(select(MeetingOutcome))}
    assert (outcomes[a_id].outcome, outcomes[a_id].private_notes) == ("licence", "")
    assert outcomes[b_id].private_notes == "Bruno's secret"
    chat = [
        (m.seq, m.user_id, m.payload) for m in await db.scalars(select(LiveMessage).order_by(LiveMessage.seq))
    ]
    deleted = {"participant_id": a_id, "user_id": None, "name": "Deleted participant"}
    assert chat == [
        (1, None, {"text": "Hello Bruno", "from": deleted}),
        (
            2,
            b_user,
            {"text": "Hi Anna", "from": {"participant_id": b_id, "user_id": b_user, "name": "someone"}},
        ),
        (3, None, {"text": "Bye", "from": deleted}),
    ]
    attendance = await db.scalars(select(Attendance.user_id).where(Attendance.participant_id == a_id))
    assert list(attendance) == [None]
    assert list(await db.scalars(select(OutboundMail.to))) == []
    # The old token no longer opens anything; Bruno still sees the meeting, with "Participant N".
    assert (await client.get("/api/v1/account/export", headers=scene.auth["a"])).status_code == 401
    bruno = (await client.get("/api/v1/account/export", headers=scene.auth["b"])).json()
    assert [m["with"] for m in bruno["meetings"]] == [f"Participant {a_id} ({org_a})"]


async def _org_name(db: AsyncSession, participant: Participant) -> str:
    org = await db.get(Organisation, participant.organisation_id)
    assert org is not None
    return org.name


async def test_delete_account_wrong_or_missing_password_is_400(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    wrong = await client.post("/api/v1/account/delete", json={"password": "guess"}, headers=scene.auth["a"])
    missing = await client.post("/api/v1/account/delete", json={}, headers=scene.auth["a"])
    typed = await client.post("/api/v1/account/delete", json={"password": 12}, headers=scene.auth["a"])

    assert (wrong.status_code, wrong.json()["errors"]) == (400, {"password": "The password is wrong."})
    assert (missing.status_code, missing.json()["errors"]) == (
        400,
        {"password": "Enter your password to confirm."},
    )
    assert (typed.status_code, typed.json()["errors"]) == (
        400,
        {"password": "Enter your password to confirm."},
    )
    assert await db.get(User, scene.a.user_id) is not None


async def test_delete_account_of_the_only_owner_is_409(scene: Scene, client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/api/v1/account/delete", json={"password": "correct-horse-battery"}, headers=scene.auth["owner"]
    )
    assert (response.status_code, response.json()["detail"]) == (
        409,
        f"You are the only owner of {scene.event.title}: make someone else owner first.",
    )


# -- the pages --------------------------------------------------------------------------------


async def test_account_page_download_and_delete(
    db: AsyncSession, scene: Scene, client: AsyncTestClient[Any]
) -> None:
    await login(client, "bruno@example.org")
    account = await client.get("/account")
    assert 'href="/account/export"' in account.text
    assert 'href="/account/delete"' in account.text

    download = await client.get("/account/export")
    assert (download.status_code, download.json()["account"]["email"]) == (200, "bruno@example.org")

    form = await client.get("/account/delete")
    assert form.status_code == 200
    wrong = await form_post(client, "/account/delete", {"password": "not-it"})
    assert (wrong.status_code, field_error(wrong.text, "password")) == (400, "The password is wrong.")

    done = await form_post(client, "/account/delete", {"password": "correct-horse-battery"})
    assert done.status_code == 200
    assert "Your account is deleted" in done.text
    assert await db.get(User, scene.b.user_id) is None
    after = await client.get("/account", follow_redirects=False)
    assert (after.status_code, after.headers["location"]) == (302, "/login?next=/account")

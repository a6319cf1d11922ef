"""Follow-up pages: a meeting's outcome form, the follow-up tasks of an event, the survey reached
from its e-mail link, and the account's personal data (download, delete)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.privacy import delete_account, export_data
from clockevents.db import utcnow
from clockevents.errors import Conflict, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.services import get_visible_event
from clockevents.followup import outcomes, surveys, tasks
from clockevents.followup.models import OUTCOME_KINDS, SURVEY_STAGES
from clockevents.settings import Settings
from web.api.followup import announce, announce_outcome, comment_out
from web.auth import SESSION_COOKIE, requires_login
from web.deps import client_address
from web.forms import read_form, text

OUTCOME_LABELS = surveys.AGREEMENT_LABELS
RATING_OPTIONS = [("", "No rating"), *[(str(n), f"{n} of 5") for n in range(1, 6)]]


# -- outcome ----------------------------------------------------------------------------------


def _outcome_values(view: outcomes.MeetingOutcomes) -> dict[str, str]:
    """The form's starting values: the caller's report, else the attendance suggestion."""
    mine = view.mine
    if mine is None:
        took = "yes" if view.took_place_suggested in (None, True) else "no"
        return {
            "took_place": took,
            "rating": "",
            "wants_to_continue": "",
            "outcome": "none",
            "private_notes": "",
        }
    return {
        "took_place": "yes" if mine.took_place else "no",
        "rating": "" if mine.rating is None else str(mine.rating),
        "wants_to_continue": "on" if mine.wants_to_continue else "",
        "outcome": mine.outcome,
        "private_notes": mine.private_notes or "",
    }


async def _event_of(db: AsyncSession, view: outcomes.MeetingOutcomes) -> Event:
    event = await db.get(Event, view.event_id)
    assert event is not None
    return event


@get("/meetings/{meeting_id:int}/outcome", guards=[requires_login], include_in_schema=False)
async def outcome_page(
    meeting_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Template:
    view = await outcomes.read_outcomes(db, meeting_id, user)
    return Template(
        "followup/outcome.html",
        context={
            "view": view,
            "event": await _event_of(db, view),
            "values": _outcome_values(view),
            "errors": {},
            "saved": request.query_params.get("saved") == "1",
            "outcome_options": [(k, OUTCOME_LABELS.get(k, k)) for k in OUTCOME_KINDS],
            "rating_options": RATING_OPTIONS,
            "labels": OUTCOME_LABELS,
        },
    )


@post("/meetings/{meeting_id:int}/outcome", guards=[requires_login], include_in_schema=False)
async def outcome_save(
    meeting_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    """Save the caller's report; every wrong answer is shown next to its field."""
    form = await read_form(request)
    data = {
        "took_place": text(form, "took_place"),
        "rating": text(form, "rating"),
        "wants_to_continue": "true" if text(form, "wants_to_continue") else "false",
        "outcome": text(form, "outcome"),
        "private_notes": form.get("private_notes") if isinstance(form.get("private_notes"), str) else "",
    }
    try:
        await outcomes.record_outcome(db, meeting_id, user, data)
        await announce_outcome(request, db, meeting_id)
    except ValidationFailed as exc:
        await db.rollback()
        view = await outcomes.read_outcomes(db, meeting_id, user)
        return Template(
            "followup/outcome.html",
            context={
                "view": view,
                "event": await _event_of(db, view),
                "values": {k: str(v or "") for k, v in data.items()}
                | {"wants_to_continue": "on" if data["wants_to_continue"] == "true" else ""},
                "errors": exc.fields,
                "saved": False,
                "outcome_options": [(k, OUTCOME_LABELS.get(k, k)) for k in OUTCOME_KINDS],
                "rating_options": RATING_OPTIONS,
                "labels": OUTCOME_LABELS,
            },
            status_code=400,
        )
    return Redirect(f"/meetings/{meeting_id}/outcome?saved=1")


# -- follow-up tasks --------------------------------------------------------------------------


async def _followups_page(
    db: AsyncSession,
    event: Event,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    status: int = 200,
) -> Template:
    return Template(
        "followup/followups.html",
        context={
            "event": event,
            "meetings": await outcomes.my_meetings(db, event, user),
            "tasks": await tasks.list_tasks(db, event, user),
            "values": values or {},
            "errors": errors or {},
            "failed": failed,
            "labels": OUTCOME_LABELS,
        },
        status_code=status,
    )


@get("/events/{slug:str}/followups", guards=[requires_login], include_in_schema=False)
async def followups_page(slug: str, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    return await _followups_page(db, event, user)


@post("/events/{slug:str}/followups", guards=[requires_login], include_in_schema=False)
async def followup_create(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    form = await read_form(request)
    data = {name: text(form, name) for name in tasks.TASK_FIELDS}
    try:
        task = await tasks.create_task(db, event, user, data)
    except (ValidationFailed, Conflict) as exc:
        await db.rollback()
        event = await get_visible_event(db, slug, user)  # the rollback expired it
        return await _followups_page(
            db, event, user, values=data, errors=exc.fields or {"form": exc.message}, status=exc.status
        )
    await announce(request, db, task, "created")
    return Redirect(f"/events/{event.slug}/followups#task-{task.id}")


async def _task_event(db: AsyncSession, task: tasks.TaskView) -> Event:
    event = await db.get(Event, task.event_id)
    assert event is not None
    return event


@post("/followups/{task_id:int}/complete", guards=[requires_login], include_in_schema=False)
async def followup_complete(
    task_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    task = await tasks.complete_task(db, task_id, user)
    event = await _task_event(db, task)
    await announce(request, db, task, "completed")
    return Redirect(f"/events/{event.slug}/followups#task-{task.id}")


@post("/followups/{task_id:int}/comments", guards=[requires_login], include_in_schema=False)
async def followup_comment(
    task_id: int, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Response[Any]:
    form = await read_form(request)
    data = {"text": form.get("text") if isinstance(form.get("text"), str) else ""}
    try:
        task, comment = await tasks.add_comment(db, task_id, user, data)
    except ValidationFailed as exc:
        await db.rollback()
        task = await tasks.get_task(db, task_id, user)
        event = await _task_event(db, task)
        return await _followups_page(
            db, event, user, values={"text": str(data["text"])}, errors=exc.fields, failed=task_id, status=400
        )
    event = await _task_event(db, task)
    await announce(request, db, task, "commented", comment=msgspec.to_builtins(comment_out(comment)))
    return Redirect(f"/events/{event.slug}/followups#task-{task.id}")


# -- survey (no login: the signed link is the key) ---------------------------------------------


def _survey_context(view: surveys.SurveyView, token: str) -> dict[str, Any]:
    return {
        "view": view,
        "token": token,
        "stage_options": [(s, surveys.STAGE_LABELS[s]) for s in SURVEY_STAGES],
        "kind_options": [(k, OUTCOME_LABELS.get(k, k)) for k in OUTCOME_KINDS],
    }


@get("/survey/{token:str}", include_in_schema=False)
async def survey_page(token: str, db: AsyncSession, settings: Settings) -> Template:
    view = await surveys.open_survey(db, settings.secret_key, token, utcnow())
    return Template(
        "followup/survey.html", context={**_survey_context(view, token), "values": {}, "errors": {}}
    )


@post("/survey/{token:str}", include_in_schema=False)
async def survey_answer(
    token: str, request: Request[Any, Any, Any], db: AsyncSession, settings: Settings
) -> Template:
    form = await read_form(request)
    data = {"stage": text(form, "stage"), "agreement_kind": text(form, "agreement_kind")}
    now = utcnow()
    try:
        await surveys.answer_survey(db, settings.secret_key, token, data, now)
    except ValidationFailed as exc:
        view = await surveys.open_survey(db, settings.secret_key, token, now)
        return Template(
            "followup/survey.html",
            context={**_survey_context(view, token), "values": data, "errors": exc.fields},
            status_code=400,
        )
    return Template("followup/survey_done.html", context={})


# -- personal data ----------------------------------------------------------------------------


@get("/account/export", guards=[requires_login], include_in_schema=False)
async def account_export(db: AsyncSession, user: User) -> Response[dict[str, Any]]:
    """Download everything held about the caller as one JSON file."""
    return Response(
        await export_data(db, user),
        headers={"content-disposition": 'attachment; filename="clockevents-my-data.json"'},
    )


@get("/account/delete", guards=[requires_login], include_in_schema=False)
async def account_delete_form(user: User) -> Template:
    return Template("followup/account_delete.html", context={"errors": {}})


@post("/account/delete", guards=[requires_login], include_in_schema=False)
async def account_delete(request: Request[Any, Any, Any], db: AsyncSession, user: User) -> Response[Any]:
    """Delete the account once the password is confirmed; log out and say goodbye."""
    form = await read_form(request)
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    try:
        await delete_account(db, user, password, client_address(request))
    except (ValidationFailed, Conflict) as exc:
        await db.rollback()
        return Template(
            "followup/account_delete.html",
            context={"errors": exc.fields or {"form": exc.message}},
            status_code=exc.status,
        )
    request.scope["user"] = None  # the page that says goodbye shows nobody logged in
    response = Template("followup/account_deleted.html", context={})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    outcome_page,
    outcome_save,
    followups_page,
    followup_create,
    followup_complete,
    followup_comment,
    survey_page,
    survey_answer,
    account_export,
    account_delete_form,
    account_delete,
]

"""Matchmaking pages: my requests, request a meeting, recommendations, the organisers' view, notifications."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import Conflict, NotFound, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.permissions import access_for
from clockevents.events.services import get_visible_event
from clockevents.matchmaking import services
from clockevents.matchmaking.models import REQUEST_STATUSES
from clockevents.notify import services as notify
from web.auth import requires_login
from web.forms import read_form, safe_next, text
from web.templating import local_time

PRIORITY_CHOICES = [("1", "1 · normal"), ("2", "2 · high"), ("3", "3 · top")]
REQUEST_MODE_CHOICES = [("accept", "The receiver accepts or declines"), ("auto", "Accepted at once")]
SCHEDULING_CHOICES = [
    ("organiser", "Organisers build the agenda"),
    ("self_booking", "Participants book slots"),
]


async def _event_request(db: AsyncSession, slug: str, request_id: int) -> Event:
    """The event of ``slug``, checking the request belongs to it (else 404)."""
    _, event = await services.get_request(db, request_id)
    if event.slug != slug:
        raise NotFound("No such meeting request.")
    return event


async def _my_requests_page(
    db: AsyncSession, event: Event, user: User, alert: str = "", status_code: int = 200
) -> Template:
    received = await services.list_requests(db, event, user, direction="received")
    sent = await services.list_requests(db, event, user, direction="sent")
    access = await access_for(db, event, user)
    return Template(
        "matchmaking/requests.html",
        context={
            "event": event,
            "received": received,
            "sent": sent,
            "alert": alert,
            "is_staff": access.is_staff,
        },
        status_code=status_code,
    )


@get("/events/{slug:str}/requests", guards=[requires_login], include_in_schema=False)
async def my_requests(slug: str, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    return await _my_requests_page(db, event, user)


async def _answer(
    request: Request[Any, Any, Any], slug: str, request_id: int, db: AsyncSession, user: User, action: str
) -> Response[Any]:
    """Accept, decline or cancel from a page; a refused action re-shows the page with the reason."""
    event = await _event_request(db, slug, request_id)
    form = await read_form(request)
    try:
        if action == "accept":
            await services.accept_request(db, user, request_id)
        elif action == "decline":
            await services.decline_request(db, user, request_id, {"reason": text(form, "reason")})
        else:
            await services.cancel_request(db, user, request_id)
    except (Conflict, ValidationFailed) as exc:
        event = await _fresh(db, slug, user)
        message = " ".join([exc.message, *exc.fields.values()]) if exc.fields else exc.message
        return await _my_requests_page(db, event, user, message, exc.status)  # type: ignore[return-value]
    return Redirect(safe_next(text(form, "next"), f"/events/{slug}/requests"))


@post("/events/{slug:str}/requests/{request_id:int}/accept", guards=[requires_login], include_in_schema=False)
async def accept(
    request: Request[Any, Any, Any], slug: str, request_id: int, db: AsyncSession, user: User
) -> Response[Any]:
    return await _answer(request, slug, request_id, db, user, "accept")


@post(
    "/events/{slug:str}/requests/{request_id:int}/decline", guards=[requires_login], include_in_schema=False
)
async def decline(
    request: Request[Any, Any, Any], slug: str, request_id: int, db: AsyncSession, user: User
) -> Response[Any]:
    return await _answer(request, slug, request_id, db, user, "decline")


@post("/events/{slug:str}/requests/{request_id:int}/cancel", guards=[requires_login], include_in_schema=False)
async def cancel(
    request: Request[Any, Any, Any], slug: str, request_id: int, db: AsyncSession, user: User
) -> Response[Any]:
    return await _answer(request, slug, request_id, db, user, "cancel")


def _request_form(
    event: Event,
    draft: services.RequestDraft,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    slot_options = [
        (
            str(s.index),
            f"{local_time(s.starts_at, event.timezone, '%a %d %b, %H:%M')} to "
            f"{local_time(s.ends_at, event.timezone, '%H:%M')}",
        )
        for s in draft.slots
    ]
    return Template(
        "matchmaking/request_form.html",
        context={
            "event": event,
            "draft": draft,
            "slot_options": slot_options,
            "values": values,
            "errors": errors,
        },
        status_code=status,
    )


async def _fresh(db: AsyncSession, slug: str, user: User) -> Event:
    """Roll back a refused change and load the event again (a rollback expires loaded rows)."""
    await db.rollback()
    return await get_visible_event(db, slug, user)


@get(
    "/events/{slug:str}/participants/{participant_id:int}/request",
    guards=[requires_login],
    include_in_schema=False,
)
async def request_form(slug: str, participant_id: int, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    draft = await services.prepare_request(db, event, user, participant_id)
    return _request_form(event, draft, {}, {})


@post(
    "/events/{slug:str}/participants/{participant_id:int}/request",
    guards=[requires_login],
    include_in_schema=False,
)
async def send_request(
    request: Request[Any, Any, Any], slug: str, participant_id: int, db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    draft = await services.prepare_request(db, event, user, participant_id)
    form = await read_form(request)
    values = {"message": text(form, "message"), "slot": text(form, "slot")}
    try:
        await services.send_request(
            db,
            event,
            user,
            {"to": participant_id, "message": values["message"], "slot": values["slot"] or None},
        )
    except (Conflict, ValidationFailed) as exc:
        event = await _fresh(db, slug, user)
        draft = await services.prepare_request(db, event, user, participant_id)
        errors = dict(exc.fields)
        if not errors or "to" in errors:
            errors["form"] = errors.pop("to", exc.message)
        return _request_form(event, draft, values, errors, exc.status)  # type: ignore[return-value]
    return Redirect(f"/events/{slug}/requests")


@get("/events/{slug:str}/recommendations", guards=[requires_login], include_in_schema=False)
async def recommendations(slug: str, db: AsyncSession, user: User) -> Template:
    event = await get_visible_event(db, slug, user)
    ranked = await services.recommendations(db, event, user)
    return Template("matchmaking/recommendations.html", context={"event": event, "ranked": ranked})


async def _admin_page(
    db: AsyncSession,
    event: Event,
    user: User,
    status_filter: str | None,
    *,
    match_values: dict[str, str] | None = None,
    match_errors: dict[str, str] | None = None,
    settings_values: dict[str, Any] | None = None,
    settings_errors: dict[str, str] | None = None,
    alert: str = "",
    status_code: int = 200,
) -> Template:
    counts = await services.request_counts(db, event, user)  # staff only: raises for others
    rows = await services.list_requests(db, event, user, status=status_filter or None)
    access = await access_for(db, event, user)
    rules = await services.view_settings(db, event, user)
    current = {
        "request_mode": rules.request_mode,
        "scheduling_mode": rules.scheduling_mode,
        "max_sent": "" if rules.max_sent is None else rules.max_sent,
        "max_received": "" if rules.max_received is None else rules.max_received,
        "expiry_hours": "" if rules.expiry_hours is None else rules.expiry_hours,
    }
    parties = await services.approved_parties(db, event) if access.is_organiser else []
    return Template(
        "matchmaking/admin_requests.html",
        context={
            "event": event,
            "counts": counts,
            "rows": rows,
            "status_filter": status_filter or "",
            "status_choices": [(s, s.capitalize()) for s in REQUEST_STATUSES],
            "is_organiser": access.is_organiser,
            "party_options": [(str(p.id), p.label) for p in parties],
            "priority_choices": PRIORITY_CHOICES,
            "request_mode_choices": REQUEST_MODE_CHOICES,
            "scheduling_choices": SCHEDULING_CHOICES,
            "match_values": match_values or {"priority": "1"},
            "match_errors": match_errors or {},
            "settings_values": settings_values or current,
            "settings_errors": settings_errors or {},
            "alert": alert,
        },
        status_code=status_code,
    )


@get("/events/{slug:str}/admin/requests", guards=[requires_login], include_in_schema=False)
async def admin_requests(
    request: Request[Any, Any, Any], slug: str, db: AsyncSession, user: User
) -> Template:
    event = await get_visible_event(db, slug, user)
    return await _admin_page(db, event, user, request.query_params.get("status"))


@post("/events/{slug:str}/admin/requests/match", guards=[requires_login], include_in_schema=False)
async def admin_match(
    request: Request[Any, Any, Any], slug: str, db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    form = await read_form(request)
    values = {name: text(form, name) for name in ("a", "b", "priority")}
    try:
        await services.organiser_meeting(db, event, user, values)
    except (Conflict, ValidationFailed) as exc:
        event = await _fresh(db, slug, user)
        errors = dict(exc.fields) or {"form": exc.message}
        return await _admin_page(  # type: ignore[return-value]
            db, event, user, None, match_values=values, match_errors=errors, status_code=exc.status
        )
    return Redirect(f"/events/{slug}/admin/requests")


@post(
    "/events/{slug:str}/admin/requests/{request_id:int}/priority",
    guards=[requires_login],
    include_in_schema=False,
)
async def admin_priority(
    request: Request[Any, Any, Any], slug: str, request_id: int, db: AsyncSession, user: User
) -> Response[Any]:
    event = await _event_request(db, slug, request_id)
    form = await read_form(request)
    try:
        await services.set_priority(db, user, request_id, {"priority": text(form, "priority")})
    except ValidationFailed as exc:
        event = await _fresh(db, slug, user)
        alert = exc.fields.get("priority", exc.message)
        return await _admin_page(db, event, user, None, alert=alert, status_code=400)  # type: ignore[return-value]
    return Redirect(f"/events/{slug}/admin/requests")


@post("/events/{slug:str}/admin/matchmaking-settings", guards=[requires_login], include_in_schema=False)
async def admin_settings(
    request: Request[Any, Any, Any], slug: str, db: AsyncSession, user: User
) -> Response[Any]:
    event = await get_visible_event(db, slug, user)
    form = await read_form(request)
    names = ("request_mode", "scheduling_mode", "max_sent", "max_received", "expiry_hours")
    values = {name: text(form, name) for name in names}
    try:
        await services.update_settings(db, event, user, values)
    except ValidationFailed as exc:
        event = await _fresh(db, slug, user)
        return await _admin_page(  # type: ignore[return-value]
            db, event, user, None, settings_values=values, settings_errors=exc.fields, status_code=400
        )
    return Redirect(f"/events/{slug}/admin/requests")


@get("/notifications", guards=[requires_login], include_in_schema=False)
async def notifications(db: AsyncSession, user: User) -> Template:
    notes = await notify.list_notifications(db, user)
    return Template("matchmaking/notifications.html", context={"notes": notes})


@post("/notifications/{notification_id:int}/read", guards=[requires_login], include_in_schema=False)
async def mark_read(notification_id: int, db: AsyncSession, user: User) -> Redirect:
    await notify.mark_read(db, user, notification_id)
    return Redirect("/notifications")


@post("/notifications/read-all", guards=[requires_login], include_in_schema=False)
async def mark_all_read(db: AsyncSession, user: User) -> Redirect:
    await notify.mark_read(db, user)
    return Redirect("/notifications")


routes = [
    my_requests,
    accept,
    decline,
    cancel,
    request_form,
    send_request,
    recommendations,
    admin_requests,
    admin_match,
    admin_priority,
    admin_settings,
    notifications,
    mark_read,
    mark_all_read,
]

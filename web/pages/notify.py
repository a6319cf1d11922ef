"""The mail preferences page: which kinds of e-mail the signed-in user receives."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import DomainError, ValidationFailed
from clockevents.events.models import Event
from clockevents.events.services import get_event
from clockevents.notify import jobs, mail
from clockevents.notify.mail_models import MAIL_KINDS
from web.auth import requires_login
from web.forms import read_form, text


def _page(choices: dict[str, bool], errors: dict[str, str], saved: bool, status: int = 200) -> Template:
    kinds = [{"kind": k, "label": mail.KIND_LABELS[k], "enabled": choices.get(k, False)} for k in MAIL_KINDS]
    return Template(
        "notify/mail.html",
        context={"kinds": kinds, "errors": errors, "saved": saved},
        status_code=status,
    )


@get("/account/mail", guards=[requires_login], include_in_schema=False)
async def mail_preferences(user: User, db: AsyncSession) -> Template:
    return _page(await mail.get_preferences(db, user), {}, saved=False)


@post("/account/mail", guards=[requires_login], include_in_schema=False)
async def save_mail_preferences(request: Request[Any, Any, Any], user: User, db: AsyncSession) -> Template:
    form = await read_form(request)
    # A checkbox left unticked is not sent at all: every kind the form knows is on or off.
    chosen = {kind: form.get(kind) == "on" for kind in MAIL_KINDS}
    try:
        saved = await mail.set_preferences(db, user, chosen)
    except DomainError as exc:
        return _page(chosen, exc.fields or {"form": exc.message}, saved=False, status=exc.status)
    return _page(saved, {}, saved=True)


async def _reminders_page(
    db: AsyncSession,
    event: Event,
    user: User,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    configured, in_force = await jobs.reminder_setting(db, event, user)
    if "reminder_minutes" not in values:
        values = {"reminder_minutes": "" if configured is None else str(configured)}
    default = jobs.reminder_minutes(event, None)
    return Template(
        "notify/event_mail.html",
        context={
            "event": event,
            "values": values,
            "errors": errors,
            "in_force": in_force,
            "default": default,
            "saved": status == 200 and bool(values.get("_saved")),
        },
        status_code=status,
    )


@get("/events/{slug:str}/admin/mail", guards=[requires_login], include_in_schema=False)
async def event_mail_settings(slug: str, db: AsyncSession, user: User) -> Template:
    event = await get_event(db, slug)
    return await _reminders_page(db, event, user, {}, {})


@post("/events/{slug:str}/admin/mail", guards=[requires_login], include_in_schema=False)
async def save_event_mail_settings(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> Template:
    event = await get_event(db, slug)
    form = await read_form(request)
    values = {"reminder_minutes": text(form, "reminder_minutes")}
    try:
        await jobs.configure_reminders(db, event, user, values["reminder_minutes"])
    except ValidationFailed as exc:
        return await _reminders_page(db, event, user, values, exc.fields, exc.status)
    return await _reminders_page(db, event, user, {**values, "_saved": "1"}, {})


routes = [mail_preferences, save_mail_preferences, event_mail_settings, save_event_mail_settings]

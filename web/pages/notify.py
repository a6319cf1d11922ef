"""The mail preferences page: which kinds of e-mail the signed-in user receives."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import DomainError
from clockevents.notify import mail
from clockevents.notify.mail_models import MAIL_KINDS
from web.auth import requires_login
from web.forms import read_form


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


routes = [mail_preferences, save_mail_preferences]

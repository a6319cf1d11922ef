"""Personal data API: download everything held about the caller; delete the caller's account."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.privacy import delete_account, export_data
from web.auth import requires_login
from web.deps import client_address

TAGS = ["account"]


class DeleteIn(msgspec.Struct):
    password: Any = None  # the account's password, to confirm


class DeletedOut(msgspec.Struct):
    deleted: bool


@get("/account/export", operation_id="exportAccountData", tags=TAGS, guards=[requires_login])
async def export(db: AsyncSession, user: User) -> Response[dict[str, Any]]:
    """Everything held about the caller as JSON: account, registrations, requests, meetings, chat, outcomes, tasks."""
    return Response(
        await export_data(db, user),
        headers={"content-disposition": 'attachment; filename="clockevents-my-data.json"'},
    )


@post(
    "/account/delete",
    operation_id="deleteAccount",
    tags=TAGS,
    guards=[requires_login],
    status_code=HTTP_200_OK,
)
async def delete(
    data: JSONBody[DeleteIn], request: Request[Any, Any, Any], db: AsyncSession, user: User
) -> DeletedOut:
    """Delete the caller's account (password required); their meetings stay in the figures, anonymous."""
    await delete_account(db, user, data.password, client_address(request))
    return DeletedOut(deleted=True)


routes = [export, delete]

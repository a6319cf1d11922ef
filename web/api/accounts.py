"""Accounts API: sign up, token login, the caller, personal API tokens."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts import services
from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from web.auth import requires_login
from web.deps import client_address


class SignUp(msgspec.Struct):
    email: str | None = None
    password: str | None = None
    name: str | None = None


class Credentials(msgspec.Struct):
    email: str | None = None
    password: str | None = None
    name: str | None = None  # a label for the token, e.g. "import script"


class TokenOut(msgspec.Struct):
    token: str


class UserOut(msgspec.Struct):
    id: int
    email: str
    name: str
    is_admin: bool
    timezone: str | None = None


class ApiTokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, name=user.name, is_admin=user.is_admin, timezone=user.timezone
    )


@post("/accounts", operation_id="createAccount", status_code=HTTP_201_CREATED, tags=["accounts"])
async def create_account(data: JSONBody[SignUp], db: AsyncSession) -> UserOut:
    """Sign up with e-mail, password (at least 10 characters) and name."""
    user = await services.create_user(
        db, email=data.email or "", password=data.password or "", name=data.name or ""
    )
    return user_out(user)


@post("/auth/token", operation_id="createToken", status_code=HTTP_201_CREATED, tags=["accounts"])
async def create_token(
    data: JSONBody[Credentials], db: AsyncSession, request: Request[Any, Any, Any]
) -> TokenOut:
    """Exchange e-mail and password for a personal API token (use as ``Authorization: Bearer``)."""
    errors = {}
    if not data.email:
        errors["email"] = "Enter your e-mail address."
    if not data.password:
        errors["password"] = "Enter your password."
    if errors:
        raise ValidationFailed(errors)
    user = await services.authenticate(
        db, email=data.email or "", password=data.password or "", address=client_address(request)
    )
    token = await services.issue_token(db, user, kind="api", name=data.name or "API token")
    return TokenOut(token=token)


@get("/me", operation_id="getMe", guards=[requires_login], tags=["accounts"])
async def me(user: User) -> UserOut:
    """The caller's account."""
    return user_out(user)


@get("/me/tokens", operation_id="listApiTokens", guards=[requires_login], tags=["accounts"])
async def list_tokens(user: User, db: AsyncSession) -> list[ApiTokenOut]:
    """The caller's active personal API tokens (never their secrets)."""
    tokens = await services.list_api_tokens(db, user)
    return [
        ApiTokenOut(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            created_at=t.created_at.isoformat(),
            last_used_at=t.last_used_at.isoformat() if t.last_used_at else None,
        )
        for t in tokens
    ]


@delete(
    "/me/tokens/{token_id:int}",
    operation_id="revokeApiToken",
    guards=[requires_login],
    tags=["accounts"],
    status_code=HTTP_204_NO_CONTENT,
)
async def revoke_token(token_id: int, user: User, db: AsyncSession) -> None:
    """Revoke one of the caller's API tokens; it stops working at once."""
    await services.revoke_api_token(db, user, token_id)


routes = [create_account, create_token, me, list_tokens, revoke_token]

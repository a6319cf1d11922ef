"""Sign up, log in, log out, and the account page with personal API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts import services
from clockevents.accounts.models import User
from clockevents.errors import DomainError
from clockevents.settings import Settings
from web.auth import SESSION_COOKIE, requires_login, session_cookie
from web.deps import client_address
from web.forms import read_form, safe_next, text


def _login_response(target: str, token: str, settings: Settings) -> Response[Any]:
    response = Redirect(target)
    response.cookies.append(
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            max_age=int(services.SESSION_LIFETIME.total_seconds()),
            path="/",
        )
    )
    return response


@get("/signup", include_in_schema=False)
async def signup_form(request: Request[Any, Any, Any]) -> Template:
    return Template(
        "accounts/signup.html",
        context={"values": {}, "errors": {}, "next": request.query_params.get("next", "")},
    )


@post("/signup", include_in_schema=False)
async def signup(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings) -> Response[Any]:
    form = await read_form(request)
    values = {"email": text(form, "email"), "name": text(form, "name")}
    target = safe_next(text(form, "next"), "/")
    try:
        user = await services.create_user(
            db, email=values["email"], password=form.get("password") or "", name=values["name"]
        )
    except DomainError as exc:
        return Template(
            "accounts/signup.html",
            context={"values": values, "errors": exc.fields or {"form": exc.message}, "next": target},
            status_code=exc.status,
        )  # type: ignore[return-value]
    token = await services.issue_token(db, user, kind="session")
    return _login_response(target, token, settings)


@get("/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any]) -> Template:
    return Template(
        "accounts/login.html",
        context={"values": {}, "errors": {}, "next": request.query_params.get("next", "")},
    )


@post("/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings) -> Response[Any]:
    form = await read_form(request)
    values = {"email": text(form, "email")}
    target = safe_next(text(form, "next"), "/")
    try:
        user = await services.authenticate(
            db, email=values["email"], password=form.get("password") or "", address=client_address(request)
        )
    except DomainError as exc:
        return Template(
            "accounts/login.html",
            context={"values": values, "errors": exc.fields or {"form": exc.message}, "next": target},
            status_code=exc.status,
        )  # type: ignore[return-value]
    token = await services.issue_token(db, user, kind="session")
    return _login_response(target, token, settings)


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any], db: AsyncSession) -> Response[Any]:
    cookie = session_cookie(request.scope)
    if cookie:
        await services.revoke_token(db, cookie)
    response = Redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/account", guards=[requires_login], include_in_schema=False)
async def account(user: User, db: AsyncSession) -> Template:
    tokens = await services.list_api_tokens(db, user)
    return Template("accounts/account.html", context={"tokens": tokens, "new_token": None, "errors": {}})


@post("/account/tokens", guards=[requires_login], include_in_schema=False)
async def create_api_token(request: Request[Any, Any, Any], user: User, db: AsyncSession) -> Template:
    form = await read_form(request)
    name = text(form, "name")
    if not name:
        tokens = await services.list_api_tokens(db, user)
        return Template(
            "accounts/account.html",
            context={"tokens": tokens, "new_token": None, "errors": {"name": "Give the token a name."}},
            status_code=400,
        )
    secret = await services.issue_token(db, user, kind="api", name=name)
    tokens = await services.list_api_tokens(db, user)
    return Template("accounts/account.html", context={"tokens": tokens, "new_token": secret, "errors": {}})


@post("/account/tokens/{token_id:int}/revoke", guards=[requires_login], include_in_schema=False)
async def revoke_api_token(token_id: int, user: User, db: AsyncSession) -> Redirect:
    await services.revoke_api_token(db, user, token_id)
    return Redirect("/account")


routes = [signup_form, signup, login_form, login, logout, account, create_api_token, revoke_api_token]

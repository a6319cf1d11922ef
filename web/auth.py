"""Who is calling: a session cookie (pages) or a bearer token (scripts), on every request.

Anonymous requests pass with ``scope["user"] = None``; guards decide what needs a login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from clockevents.accounts.models import User
from clockevents.accounts.services import user_for_token

if TYPE_CHECKING:
    from litestar.handlers.base import BaseRouteHandler

SESSION_COOKIE = "ce_session"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def bearer_token(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def session_cookie(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value
    return None


class AuthMiddleware:
    """Resolve the caller from a bearer token or the session cookie into ``scope['user']``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        user: User | None = None
        method: str | None = None
        bearer = bearer_token(scope)
        cookie = session_cookie(scope)
        if bearer or cookie:
            factory = scope["litestar_app"].state.session_factory
            async with factory() as db:
                if bearer:
                    user = await user_for_token(db, bearer, kind="api")
                    method = "bearer" if user else None
                elif cookie:
                    user = await user_for_token(db, cookie, kind="session")
                    method = "cookie" if user else None
        scope["user"] = user
        scope["auth"] = method
        await self.app(scope, receive, send)


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped where no browser cookie can be abused.

    A bearer-token request carries its credential explicitly, and a JSON request without our
    session cookie has no ambient authority; both are safe from cross-site forgery.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in self.config.safe_methods:
            content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            is_form = content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            if bearer_token(scope) or (session_cookie(scope) is None and not is_form):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    return connection.scope.get("user")  # type: ignore[return-value]


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: 401 for anonymous callers (pages turn it into a redirect to the login form)."""
    if connection.scope.get("user") is None:
        raise NotAuthorizedException("Please log in.")


def requires_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: platform administrators only."""
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Please log in.")
    if not user.is_admin:  # type: ignore[attr-defined]
        raise PermissionDeniedException("Only platform administrators may do that.")

"""Sign-up, login, browser sessions and personal API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import AuthToken, LoginAttempt, User
from clockevents.accounts.passwords import (
    DUMMY_HASH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from clockevents.db import utcnow
from clockevents.errors import Conflict, NotFound, RateLimited, ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_LIFETIME = timedelta(days=14)
TOKEN_PREFIX = "ce_"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_signup(email: str | None, password: str | None, name: str | None) -> dict[str, str]:
    """Return a message per wrong field (empty when all is well)."""
    errors: dict[str, str] = {}
    if not email or not EMAIL_RE.match(email.strip()):
        errors["email"] = "Enter a valid e-mail address."
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > 1024:
        errors["password"] = "Use at most 1024 characters."
    if not name or not name.strip():
        errors["name"] = "Enter your name."
    elif len(name.strip()) > 200:
        errors["name"] = "Use at most 200 characters."
    return errors


async def create_user(
    db: AsyncSession, *, email: str, password: str, name: str, is_admin: bool = False
) -> User:
    """Create an account; raise ValidationFailed or Conflict (duplicate e-mail)."""
    errors = validate_signup(email, password, name)
    if errors:
        raise ValidationFailed(errors)
    email = normalise_email(email)
    if await db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.", {"email": "Already registered."})
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), is_admin=is_admin)
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        raise Conflict(
            "An account with this e-mail already exists.", {"email": "Already registered."}
        ) from exc
    return user


@dataclass(frozen=True)
class LoginLimits:
    per_window: int = 10
    window: timedelta = timedelta(minutes=15)


async def authenticate(
    db: AsyncSession,
    *,
    email: str,
    password: str,
    address: str,
    limits: LoginLimits = LoginLimits(),
) -> User:
    """Check e-mail and password; failures are counted per address and per account.

    Raises ValidationFailed for a wrong pair and RateLimited once either count reaches the
    limit within the window, whether or not the next password would be right.
    """
    email = normalise_email(email or "")
    since = utcnow() - limits.window
    by_email = await db.scalar(
        select(func.count()).where(LoginAttempt.email == email, LoginAttempt.attempted_at >= since)
    )
    by_address = await db.scalar(
        select(func.count()).where(LoginAttempt.address == address, LoginAttempt.attempted_at >= since)
    )
    if (by_email or 0) >= limits.per_window or (by_address or 0) >= limits.per_window:
        raise RateLimited()
    user = await db.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password or "")
    if not ok or user is None or not user.is_active:
        db.add(LoginAttempt(email=email[:254], address=address[:64]))
        # Committed here, not by the caller: the request fails, yet the attempt must count.
        await db.commit()
        raise ValidationFailed({"email": "E-mail or password is wrong."}, "E-mail or password is wrong.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    await db.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


async def issue_token(db: AsyncSession, user: User, *, kind: str, name: str = "") -> str:
    """Create a session or API token and return its secret (shown once, stored hashed)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + SESSION_LIFETIME if kind == "session" else None
    db.add(
        AuthToken(
            user_id=user.id,
            kind=kind,
            name=name[:100],
            token_hash=hash_token(secret),
            prefix=secret[:10],
            expires_at=expires,
        )
    )
    await db.flush()
    return secret


# Every request with a credential runs one of these: built once (building a statement and its
# cache key cost more CPU than running it).
_TOKEN = select(AuthToken, User).join(User).where(AuthToken.token_hash == bindparam("token_hash"))
_TOKEN_OF_KIND = _TOKEN.where(AuthToken.kind == bindparam("kind"))


async def user_for_token(db: AsyncSession, secret: str, *, kind: str | None = None) -> User | None:
    """Return the active user a token belongs to, or None if it is unknown, expired or revoked."""
    if not secret or len(secret) > 200:
        return None
    query = _TOKEN if kind is None else _TOKEN_OF_KIND
    row = (await db.execute(query, {"token_hash": hash_token(secret), "kind": kind})).first()
    if row is None:
        return None
    token, user = row
    now = utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not user.is_active:
        return None
    return user


async def revoke_token(db: AsyncSession, secret: str) -> None:
    token = await db.scalar(select(AuthToken).where(AuthToken.token_hash == hash_token(secret)))
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


async def list_api_tokens(db: AsyncSession, user: User) -> list[AuthToken]:
    result = await db.scalars(
        select(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.kind == "api", AuthToken.revoked_at.is_(None))
        .order_by(AuthToken.id)
    )
    return list(result)


async def revoke_api_token(db: AsyncSession, user: User, token_id: int) -> None:
    """Revoke one of the user's own API tokens (another user's token is 'not found')."""
    token = await db.get(AuthToken, token_id)
    if token is None or token.user_id != user.id or token.kind != "api" or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()


async def get_user_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == normalise_email(email)))


async def set_password(db: AsyncSession, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"Use at least {MIN_PASSWORD_LENGTH} characters."})
    user.password_hash = hash_password(password)


async def prune_login_attempts(db: AsyncSession, older_than: datetime) -> None:
    await db.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < older_than))

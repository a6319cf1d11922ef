from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts import services
from clockevents.accounts.passwords import verify_password
from clockevents.errors import Conflict, RateLimited, ValidationFailed
from tests.factories.accounts import PASSWORD, make_user


async def test_create_user_hashes_password_with_argon2(db: AsyncSession) -> None:
    user = await make_user(db, email="Ada@Example.org")
    assert user.email == "ada@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD) is True
    assert verify_password(user.password_hash, "wrong-password") is False


async def test_create_user_reports_every_bad_field(db: AsyncSession) -> None:
    with pytest.raises(ValidationFailed) as info:
        await services.create_user(db, email="not-an-email", password="short", name=" ")
    assert info.value.fields == {
        "email": "Enter a valid e-mail address.",
        "password": "Use at least 10 characters.",
        "name": "Enter your name.",
    }


async def test_create_user_duplicate_email_conflicts(db: AsyncSession) -> None:
    await make_user(db, email="dup@example.org")
    with pytest.raises(Conflict):
        await services.create_user(db, email="DUP@example.org", password=PASSWORD, name="Again")


async def test_authenticate_wrong_password_is_refused(db: AsyncSession) -> None:
    await make_user(db, email="a@example.org")
    with pytest.raises(ValidationFailed):
        await services.authenticate(db, email="a@example.org", password="nope-nope-nope", address="1.2.3.4")


async def test_authenticate_locks_account_after_limit_from_any_address(db: AsyncSession) -> None:
    await make_user(db, email="victim@example.org")
    limits = services.LoginLimits(per_window=3, window=timedelta(minutes=15))
    for i in range(3):
        with pytest.raises(ValidationFailed):
            await services.authenticate(
                db, email="victim@example.org", password="guess-guess", address=f"10.0.0.{i}", limits=limits
            )
    await db.commit()
    # The right password no longer helps while the window lasts, from yet another address.
    with pytest.raises(RateLimited):
        await services.authenticate(
            db, email="victim@example.org", password=PASSWORD, address="10.9.9.9", limits=limits
        )


async def test_authenticate_limits_one_address_across_accounts(db: AsyncSession) -> None:
    await make_user(db, email="someone@example.org")
    limits = services.LoginLimits(per_window=2, window=timedelta(minutes=15))
    for i in range(2):
        with pytest.raises(ValidationFailed):
            await services.authenticate(
                db, email=f"probe{i}@example.org", password="guess-guess", address="6.6.6.6", limits=limits
            )
    with pytest.raises(RateLimited):
        await services.authenticate(
            db, email="someone@example.org", password=PASSWORD, address="6.6.6.6", limits=limits
        )


async def test_token_revoked_stops_working(db: AsyncSession) -> None:
    user = await make_user(db)
    secret = await services.issue_token(db, user, kind="api", name="script")
    assert (await services.user_for_token(db, secret, kind="api")).id == user.id
    assert await services.user_for_token(db, secret, kind="session") is None
    await services.revoke_token(db, secret)
    assert await services.user_for_token(db, secret, kind="api") is None
    assert await services.user_for_token(db, "ce_unknown", kind="api") is None

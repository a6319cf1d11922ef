"""The durable outbox: queue a mail in the caller's transaction, then claim and deliver due ones.

Queuing never talks to a mail server, so a page answers even when SMTP is down; delivery runs
in the job loop with its own short sessions. A row is claimed by pushing its ``next_attempt_at``
forward (a lease) with ``UPDATE ... WHERE status='queued'``: two runners never both win a row,
and a runner that dies mid-send only delays the mail until the lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TypeVar

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clockevents.db import utcnow
from clockevents.notify.mail_models import OutboundMail

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12  # about 17 hours of backoff before a mail is given up as failed
BATCH = 50
CHUNK = 500  # keys per IN (...) and rows per INSERT: far below every driver's parameter limit

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


async def enqueue(
    db: AsyncSession,
    *,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    ics: str = "",
    ics_method: str = "",
    kind: str = "",
    dedupe_key: str | None = None,
) -> OutboundMail | None:
    """Add a mail to the outbox in the caller's transaction; None if ``dedupe_key`` is taken.

    The savepoint keeps a concurrent duplicate (the UNIQUE key) from spoiling the caller's
    transaction: only this insert is undone.
    """
    if dedupe_key is not None and await db.scalar(
        select(OutboundMail.id).where(OutboundMail.dedupe_key == dedupe_key)
    ):
        return None
    mail = OutboundMail(
        to=to,
        subject=subject[:300],
        text=text,
        html=html,
        ics=ics,
        ics_method=ics_method,
        kind=kind,
        dedupe_key=dedupe_key,
        next_attempt_at=utcnow(),
    )
    try:
        async with db.begin_nested():
            db.add(mail)
            await db.flush()
    except IntegrityError:
        return None
    return mail


@dataclass(frozen=True)
class Draft:
    """A composed mail not yet in the outbox (see ``enqueue_many``)."""

    to: str
    subject: str
    text: str
    html: str = ""
    ics: str = ""
    ics_method: str = ""
    kind: str = ""
    dedupe_key: str | None = None


async def taken_keys(db: AsyncSession, keys: Iterable[str]) -> set[str]:
    """The ``dedupe_key``s among ``keys`` already in the outbox (one query per 500 keys)."""
    taken: set[str] = set()
    for part in chunks(sorted(set(keys))):
        taken.update(
            await db.scalars(select(OutboundMail.dedupe_key).where(OutboundMail.dedupe_key.in_(part)))  # type: ignore[arg-type]
        )
    return taken


async def enqueue_many(db: AsyncSession, drafts: Sequence[Draft], *, taken: set[str] | None = None) -> int:
    """Add many mails to the outbox in the caller's transaction; return how many were added.

    A few statements for any number of mails: the taken ``dedupe_key``s are read in chunks and
    skipped (so are repeats within ``drafts``), the rest go in as multi-row INSERTs. Should a
    concurrent writer take a key in between, the batch is undone (savepoint) and the mails are
    queued one by one, each skipping its own duplicate. A caller that has just read the taken
    keys (``taken_keys``) passes them as ``taken`` to save reading them again.
    """
    if taken is None:
        taken = await taken_keys(db, [d.dedupe_key for d in drafts if d.dedupe_key is not None])
    taken = set(taken)
    fresh: list[Draft] = []
    for draft in drafts:
        if draft.dedupe_key is not None:
            if draft.dedupe_key in taken:
                continue
            taken.add(draft.dedupe_key)
        fresh.append(draft)
    if not fresh:
        return 0
    now = utcnow()
    rows = [
        {
            "to": d.to,
            "subject": d.subject[:300],
            "text": d.text,
            "html": d.html,
            "ics": d.ics,
            "ics_method": d.ics_method,
            "kind": d.kind,
            "dedupe_key": d.dedupe_key,
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
        }
        for d in fresh
    ]
    try:
        async with db.begin_nested():
            for part in chunks(rows):
                await db.execute(insert(OutboundMail), list(part))
    except IntegrityError:
        added = 0
        for d in fresh:
            mail = await enqueue(
                db,
                to=d.to,
                subject=d.subject,
                text=d.text,
                html=d.html,
                ics=d.ics,
                ics_method=d.ics_method,
                kind=d.kind,
                dedupe_key=d.dedupe_key,
            )
            added += mail is not None
        return added
    return len(fresh)


async def claim_due(db: AsyncSession, now: datetime, limit: int = BATCH) -> list[OutboundMail]:
    """Claim up to ``limit`` queued mails that are due, for this runner alone; commit the claim."""
    query = (
        select(OutboundMail.id)
        .where(OutboundMail.status == "queued", OutboundMail.next_attempt_at <= now)
        # Reminders first: a few minutes late they are useless, and a published agenda may have
        # queued thousands of invitations ahead of them.
        .order_by(
            case((OutboundMail.kind == "reminders", 0), else_=1),
            OutboundMail.next_attempt_at,
            OutboundMail.id,
        )
        .limit(limit)
    )
    if db.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(await db.scalars(query))
    claimed: list[int] = []
    for mail_id in ids:
        result = await db.execute(
            update(OutboundMail)
            .where(
                OutboundMail.id == mail_id,
                OutboundMail.status == "queued",
                OutboundMail.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            claimed.append(mail_id)
    await db.commit()
    if not claimed:
        return []
    rows = await db.scalars(
        select(OutboundMail).where(OutboundMail.id.in_(claimed)).order_by(OutboundMail.id)
    )
    return list(rows)


async def _record(db: AsyncSession, mail: OutboundMail, error: str | None, now: datetime) -> None:
    """Write the outcome of one attempt (the row is leased to us) and commit it at once."""
    attempts = mail.attempts + 1
    values: dict[str, object] = {"attempts": attempts}
    if error is None:
        values |= {"status": "sent", "sent_at": now, "last_error": ""}
    else:
        values["last_error"] = error[:2000]
        if attempts >= MAX_ATTEMPTS:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = now + backoff(attempts)
    await db.execute(
        update(OutboundMail)
        .where(OutboundMail.id == mail.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await db.commit()


async def deliver_due(
    factory: async_sessionmaker[AsyncSession],
    build: Callable[[OutboundMail], EmailMessage],
    send: Callable[[EmailMessage], Awaitable[None]],
    now: datetime | None = None,
    limit: int = BATCH,
) -> tuple[int, int]:
    """Send the due mails with ``send``; return (sent, failed attempts).

    Each outcome is committed as soon as it is known, so a runner that dies mid-batch sends
    again at most the one mail it was sending. A failure keeps the row queued with one more
    attempt and a later ``next_attempt_at``.
    """
    now = now or utcnow()
    sent = failed = 0
    async with factory() as db:
        mails = await claim_due(db, now, limit)
        for mail in mails:
            try:
                await send(build(mail))
            except Exception as exc:  # any transport error: keep the mail and try again later
                log.warning("mail %s to %s not sent: %s", mail.id, mail.to, exc)
                await _record(db, mail, f"{type(exc).__name__}: {exc}", utcnow())
                failed += 1
            else:
                await _record(db, mail, None, utcnow())
                sent += 1
    return sent, failed

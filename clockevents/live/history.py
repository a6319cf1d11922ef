"""Reading a live channel back: its history, and what a newcomer is shown, one statement each.

The statements are built once per shape with bound parameters: building one (and its cache key)
cost more CPU than running it, and a room's way in reads these for every socket.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.live.messages import wire_row
from clockevents.live.models import LiveChannel, LiveMessage

_MESSAGES = LiveMessage.__table__
_CHANNELS = LiveChannel.__table__


async def last_seq(db: AsyncSession, name: str) -> int:
    return (await db.scalar(_LAST_SEQ, {"name": name})) or 0


# A channel's numbers are those of its stored messages (clockevents/live/storage.py): the last is
# the highest, read from the unique index on (channel_id, seq).
_LAST_SEQ = select(func.max(LiveMessage.seq)).where(
    LiveMessage.channel_id
    == select(LiveChannel.id).where(LiveChannel.name == bindparam("name")).scalar_subquery()
)


async def history(
    db: AsyncSession,
    channel: str,
    *,
    after: int | None = None,
    before: int | None = None,
    types: Iterable[str] | None = None,
    limit: int | None = None,
    newest: bool = False,
) -> list[dict[str, Any]]:
    """Stored messages of ``channel`` with after < seq < before, oldest first.

    ``newest`` with ``limit`` takes the last ``limit`` messages (still returned oldest first).
    """
    query = _history_statement(
        after is not None, before is not None, types is not None, limit is not None, newest
    )
    params: dict[str, Any] = {"channel": channel, "after": after, "before": before, "limit": limit}
    if types is not None:
        params["types"] = list(types)
    rows = (await db.execute(query, params)).all()
    if newest:
        rows.reverse()
    return [wire_row(*row) for row in rows]


async def recent(
    db: AsyncSession, channel: str, newest: Mapping[str, int | None]
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The channel's last ``seq`` and, for each type in ``newest``, its last messages (as many
    as the count says; None: all), oldest first.

    One statement where reading them one by one took four: what a newcomer is shown is read
    at one moment, and a room's way in costs a quarter of the queries.
    """
    kinds = tuple((kind, count is None) for kind, count in newest.items())
    query = _recent_statement(kinds)
    params: dict[str, Any] = {"channel": channel}
    params.update({f"count_{i}": count for i, count in enumerate(newest.values()) if count is not None})
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in newest}
    last_seq = 0
    for row in (await db.execute(query, params)).all():
        last_seq = row[0]
        if row[2] is not None:
            found[row[1]].append(wire_row(*row[1:]))
    return last_seq, found


@functools.cache
def _history_statement(after: bool, before: bool, types: bool, limit: bool, newest: bool) -> Select[Any]:
    """:meth:`LiveHub.history`'s statement for one combination of its filters, built once.

    Columns, not ORM objects: rows come back as the dicts clients get, without an identity map
    in between; and building a statement (with its cache key) cost more CPU than running it.
    """
    m, c = _MESSAGES, _CHANNELS
    query = select(m.c.type, m.c.seq, m.c.payload, m.c.created_at).where(
        m.c.channel_id == select(c.c.id).where(c.c.name == bindparam("channel")).scalar_subquery()
    )
    if after:
        query = query.where(m.c.seq > bindparam("after"))
    if before:
        query = query.where(m.c.seq < bindparam("before"))
    if types:
        query = query.where(m.c.type.in_(bindparam("types", expanding=True)))
    query = query.order_by(m.c.seq.desc() if newest else m.c.seq)
    if limit:
        query = query.limit(bindparam("limit"))
    return query


@functools.cache
def _recent_statement(kinds: tuple[tuple[str, bool], ...]) -> Select[Any]:
    """:meth:`LiveHub.recent`'s statement for one set of types, built once: building a statement
    of this size and its cache key costs more CPU than running it."""
    m, c = _MESSAGES, _CHANNELS
    rank = func.row_number().over(partition_by=m.c.type, order_by=m.c.seq.desc()).label("rank")
    ranked = (
        select(m.c.channel_id, m.c.type, m.c.seq, m.c.payload, m.c.created_at, rank)
        .where(
            m.c.channel_id == select(c.c.id).where(c.c.name == bindparam("channel")).scalar_subquery(),
            m.c.type.in_([kind for kind, _ in kinds]),
        )
        .subquery()
    )
    kept = or_(
        *(
            ranked.c.type == kind
            if every
            else and_(ranked.c.type == kind, ranked.c.rank <= bindparam(f"count_{i}"))
            for i, (kind, every) in enumerate(kinds)
        )
    )
    return (
        select(
            select(func.coalesce(func.max(m.c.seq), 0)).where(m.c.channel_id == c.c.id).scalar_subquery(),
            ranked.c.type,
            ranked.c.seq,
            ranked.c.payload,
            ranked.c.created_at,
        )
        .select_from(c.outerjoin(ranked, and_(ranked.c.channel_id == c.c.id, kept)))
        .where(c.c.name == bindparam("channel"))
        .order_by(ranked.c.seq)
    )

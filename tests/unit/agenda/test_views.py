from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.changes import cancel_meeting
from clockevents.agenda.views import export_csv, meeting_grid, participant_agenda, safe_cell
from clockevents.errors import NotFound, PermissionDenied
from clockevents.matchmaking.models import MeetingRequest
from tests.factories.accounts import make_user
from tests.factories.events import add_role
from tests.unit.agenda.test_changes import seed


def _cells(grid: object) -> list[tuple[int, list[str | None]]]:
    rows = grid.rows()  # type: ignore[attr-defined]
    return [(slot.index, [f"{m.a.name} & {m.b.name}" if m else None for m in cells]) for slot, cells in rows]


async def test_meeting_grid_organiser_sees_every_slot_and_used_table(db: AsyncSession) -> None:
    s = await seed(db)

    access, grid = await meeting_grid(db, s.event, s.owner)

    assert access.is_organiser
    assert grid.tables == [1, 2]
    assert _cells(grid) == [
        (0, ["Ada Rossi & Bruno Neri", None]),
        (1, [None, None]),
        (2, ["Carla Bianchi & Dario Verdi", "Bruno Neri & Ada Rossi"]),
        (3, [None, None]),
    ]
    plan = [(slot.index, [(m.table, m.a.label, m.b.label) for m in ms]) for slot, ms in grid.plan()]
    assert plan == [
        (0, [(1, "Ada Rossi (Acme Srl)", "Bruno Neri (=HYPERLINK(1))")]),
        (
            2,
            [
                (1, "Carla Bianchi (Marmi Spa)", "Dario Verdi (Vele Srl)"),
                (2, "Bruno Neri (=HYPERLINK(1))", "Ada Rossi (Acme Srl)"),
            ],
        ),
    ]


async def test_meeting_grid_cluster_partner_sees_own_cluster_and_no_cancelled(db: AsyncSession) -> None:
    s = await seed(db)
    partner = await make_user(db)
    await add_role(db, s.event, partner, "cluster_partner", s.event.clusters[1])  # Carla's cluster
    await cancel_meeting(db, s.first.id, s.owner)
    await db.commit()

    _, grid = await meeting_grid(db, s.event, partner)
    _, full = await meeting_grid(db, s.event, s.owner)

    assert [(i, c) for i, c in _cells(grid) if any(c)] == [(2, ["Carla Bianchi & Dario Verdi"])]
    assert [(i, c) for i, c in _cells(full) if any(c)] == [
        (2, ["Carla Bianchi & Dario Verdi", "Bruno Neri & Ada Rossi"])
    ]
    with pytest.raises(PermissionDenied):
        await meeting_grid(db, s.event, await make_user(db))


async def test_participant_agenda_partner_side_and_cancelled_kept(db: AsyncSession) -> None:
    s = await seed(db)
    await cancel_meeting(db, s.second.id, s.owner, "Moved to Monday")
    await db.commit()

    _, person, meetings = await participant_agenda(db, s.event, s.owner, s.ada.id)

    assert person.label == "Ada Rossi (Acme Srl)"
    assert [(m.id, m.partner.name if m.partner else None, m.status, m.cancel_reason) for m in meetings] == [
        (s.first.id, "Bruno Neri", "scheduled", ""),
        (s.second.id, "Bruno Neri", "cancelled", "Moved to Monday"),
    ]


async def test_participant_agenda_cluster_scope_and_unknown(db: AsyncSession) -> None:
    s = await seed(db)
    stone = await make_user(db)
    await add_role(db, s.event, stone, "cluster_partner", s.event.clusters[1])

    with pytest.raises(PermissionDenied):
        await participant_agenda(db, s.event, stone, s.ada.id)
    with pytest.raises(NotFound):
        await participant_agenda(db, s.event, s.owner, 999999)
    _, _, carla = await participant_agenda(db, s.event, stone, s.carla.id)
    assert [m.id for m in carla] == [s.other.id]


def test_safe_cell_quotes_formula_starts() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+39 055", "-x", "@SUM", "\tx", "Acme", None, 7)] == [
        "'=1+1",
        "'+39 055",
        "'-x",
        "'@SUM",
        "'\tx",
        "Acme",
        "",
        "7",
    ]


async def test_export_csv_exact_content_across_dst_change(db: AsyncSession) -> None:
    s = await seed(db)
    request = await db.get(MeetingRequest, s.first.request_id)
    assert request is not None
    request.message = '@cmd "quoted", please'
    await db.commit()
    await cancel_meeting(db, s.other.id, s.owner)
    await db.commit()

    text = await export_csv(db, s.event, s.owner)

    assert text.split("\r\n") == [
        "meeting_id,uid,status,day,start,end,start_utc,table,a_name,a_organisation,a_cluster,"
        "b_name,b_organisation,b_cluster,request_message,sequence",
        f"{s.first.id},{s.first.uid},scheduled,2026-10-24,09:00,09:20,2026-10-24T07:00:00Z,1,"
        'Ada Rossi,Acme Srl,Nautical,Bruno Neri,\'=HYPERLINK(1),,"\'@cmd ""quoted"", please",0',
        f"{s.other.id},{s.other.uid},cancelled,2026-10-25,09:00,09:20,2026-10-25T08:00:00Z,1,"
        "Carla Bianchi,Marmi Spa,ICT & Railway,Dario Verdi,Vele Srl,,,1",
        f"{s.second.id},{s.second.uid},scheduled,2026-10-25,09:00,09:20,2026-10-25T08:00:00Z,2,"
        "Bruno Neri,'=HYPERLINK(1),,Ada Rossi,Acme Srl,Nautical,,0",
        "",
    ]


async def test_export_csv_cluster_partner_only_their_meetings(db: AsyncSession) -> None:
    s = await seed(db)
    nautical = await make_user(db)
    await add_role(db, s.event, nautical, "cluster_partner", s.event.clusters[2])  # Ada's cluster

    rows = (await export_csv(db, s.event, nautical)).split("\r\n")[1:-1]

    assert [int(r.split(",")[0]) for r in rows] == [s.first.id, s.second.id]
    with pytest.raises(PermissionDenied):
        await export_csv(db, s.event, await make_user(db))

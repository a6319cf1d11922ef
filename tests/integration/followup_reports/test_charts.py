"""Server-drawn charts: sizes follow the values, every label is escaped, no script or style."""

from __future__ import annotations

import re

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.followup.charts import bar_chart, heat_map
from clockevents.followup.reports import build_report
from tests.integration.followup_reports.scenario import seed


def test_bar_chart_lengths_follow_values_and_labels_are_escaped() -> None:
    svg = bar_chart([("R&D <labs>", 4), ("Fashion", 2), ("Stone", 0)], title='Held "per" cluster')

    assert re.findall(r'<rect x="190" y="\d+" width="(\d+)"', svg) == ["314", "157", "0"]
    assert "R&amp;D &lt;labs&gt;" in svg
    assert "<labs>" not in svg
    assert "Held &quot;per&quot; cluster" in svg
    assert "style=" not in svg and "<script" not in svg


def test_bar_chart_without_data_says_so() -> None:
    svg = bar_chart([], title="Outcomes by kind")

    assert "Nothing to show yet." in svg
    assert svg.startswith("<svg ") and svg.endswith("</svg>")


def test_heat_map_shades_each_cell_by_its_value() -> None:
    svg = heat_map(["A", "<B>"], [[1, 2], [2, 0]], title="Held")

    assert re.findall(r'fill-opacity="([\d.]+)"', svg) == ["0.54", "1.00", "1.00", "0.00"]
    assert re.findall(r'text-anchor="middle" fill="[^"]+">(\d+)</text>', svg) == ["1", "2", "2", "0"]
    assert "&lt;B&gt; with A: 2" in svg
    assert "<B>" not in svg


async def test_report_query_count_does_not_grow_with_the_event(db: AsyncSession) -> None:
    s = await seed(db)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = db.bind.sync_engine  # type: ignore[union-attr]
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        await build_report(db, s.event, s.owner)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)

    # role, clusters, participants, requests, meetings, outcomes, attendance, surveys, tasks
    assert len(statements) == 9

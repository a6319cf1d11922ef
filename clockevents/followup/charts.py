"""Charts for the impact report, drawn as SVG strings on the server.

Pure functions: data in, markup out. No script, no style attribute (the pages' Content
Security Policy forbids inline styles; SVG presentation attributes are not styles), and every
label escaped, since cluster and organisation names come from users.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

BAR_COLOUR = "#2f6f9f"
HEAT_COLOUR = "#1d5f8a"
TEXT_COLOUR = "#1b1b1b"
FONT = "system-ui, sans-serif"
ROW_HEIGHT = 24
LABEL_WIDTH = 190
VALUE_WIDTH = 56
CELL = 44


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "chart"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shorten(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, width: int = 560) -> str:
    """Horizontal bars, one per (label, value), longest bar for the largest value."""
    chart_id = "chart-" + _id(title)
    height = ROW_HEIGHT * max(len(items), 1) + 8
    top = max((v for _, v in items), default=0) or 1
    span = width - LABEL_WIDTH - VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" role="img" '
        f'aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{FONT}" font-size="13">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    if not items:
        parts.append(f'<text x="4" y="18" fill="{TEXT_COLOUR}">Nothing to show yet.</text>')
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW_HEIGHT
        length = round(span * value / top) if value > 0 else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f"<title>{escape(label)}</title>{escape(_shorten(label))}</text>"
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW_HEIGHT - 6}" '
            f'fill="{BAR_COLOUR}" rx="2"/>'
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}" fill="{TEXT_COLOUR}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heat_map(labels: Sequence[str], matrix: Sequence[Sequence[int]], *, title: str) -> str:
    """A square table of counts, each cell shaded by its value (darker: more)."""
    chart_id = "chart-" + _id(title)
    n = len(labels)
    left = LABEL_WIDTH
    head = 150  # room for the slanted column labels
    width = left + CELL * n + 110  # the last slanted column labels run to the right
    height = head + CELL * n + 8
    top = max((v for row in matrix for v in row), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heat-map" role="img" '
        f'aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{FONT}" font-size="13">',
        f'<title id="{chart_id}">{escape(title)}</title>',
    ]
    for j, label in enumerate(labels):
        x = left + j * CELL + CELL // 2
        parts.append(
            f'<text transform="translate({x},{head - 6}) rotate(-45)" fill="{TEXT_COLOUR}">'
            f"<title>{escape(label)}</title>{escape(_shorten(label, 20))}</text>"
        )
    for i, label in enumerate(labels):
        y = head + i * CELL
        parts.append(
            f'<text x="{left - 8}" y="{y + CELL // 2 + 5}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f"<title>{escape(label)}</title>{escape(_shorten(label))}</text>"
        )
        for j in range(n):
            value = matrix[i][j]
            shade = 0.08 + 0.92 * value / top if value else 0.0
            x = left + j * CELL
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" fill="{HEAT_COLOUR}" '
                f'fill-opacity="{shade:.2f}" stroke="#c8d3dc" stroke-width="1">'
                f"<title>{escape(labels[i])} with {escape(labels[j])}: {value}</title></rect>"
            )
            ink = "#ffffff" if shade > 0.55 else TEXT_COLOUR
            parts.append(
                f'<text x="{x + (CELL - 2) // 2}" y="{y + CELL // 2 + 4}" text-anchor="middle" '
                f'fill="{ink}">{value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)

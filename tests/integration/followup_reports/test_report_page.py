"""The impact report page: figures, charts drawn on the server with escaped labels, downloads."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.accounts import PASSWORD
from tests.helpers import login
from tests.integration.followup_reports.scenario import seed

Client = AsyncTestClient[Litestar]


def _cards(html: str) -> list[str]:
    return re.findall(r'<span class="stat" data-figure="[a-z_]+">([^<]*)</span>\s*([^<]+?)</li>', html)


async def test_report_page_shows_figures_charts_and_links(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    await login(client, s.owner.email, PASSWORD)

    response = await client.get(f"/events/{s.event.slug}/admin/report")

    assert response.status_code == 200
    html = response.text
    assert _cards(html) == [
        ("10", "Requests sent"),
        ("6", "Requests accepted"),
        ("1", "Requests declined"),
        ("1", "Requests expired"),
        ("6", "Meetings scheduled"),
        ("4", "Meetings held"),
        ("1", "No-shows"),
        ("4.0", "Average rating"),
        ("3", "Confirmed agreements"),
        ("2", "Surveys answered"),
    ]
    assert html.count("<svg ") == 4
    assert "=Nautical &lt;Sea&gt;" in html
    assert "<Sea>" not in html
    assert "never in a report" not in html  # private notes stay private
    assert f'href="/api/v1/events/{s.event.slug}/report.xlsx"' in html
    assert f'href="/api/v1/events/{s.event.slug}/report.csv?table=matrix_held"' in html
    assert 'aria-current="page">Report</a>' in html


async def test_report_page_for_a_partner_is_their_cluster(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    await login(client, s.partner_b.email, PASSWORD)

    response = await client.get(f"/events/{s.event.slug}/admin/report?cluster={s.clusters[0].id}")

    assert response.status_code == 200
    assert "Meetings involving the participants of <strong>ICT &amp; Railway</strong>" in response.text
    assert ("7", "Requests sent") in _cards(response.text)
    assert 'id="f-cluster"' not in response.text  # no cluster picker for a partner


async def test_report_page_bad_cluster_is_400_with_a_message(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    await login(client, s.owner.email, PASSWORD)

    response = await client.get(f"/events/{s.event.slug}/admin/report?cluster=x1")

    assert response.status_code == 400
    assert '<p class="error" id="e-cluster">Choose a cluster by its number.</p>' in response.text

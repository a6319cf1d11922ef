"""The impact report's figures, scope and exports, on a seeded event with known answers."""

from __future__ import annotations

import csv
import io
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.helpers import api_token, bearer
from tests.integration.followup_reports.scenario import C_NAME, Scenario, figures, seed

Client = AsyncTestClient[Litestar]

WHOLE_EVENT = figures(
    requests_sent=10,
    requests_accepted=6,
    requests_declined=1,
    requests_expired=1,
    requests_pending=1,
    requests_cancelled=1,
    meetings_scheduled=6,
    meetings_held=4,
    meetings_no_show=1,
    meetings_upcoming=1,
    meetings_cancelled=1,
    ratings=8,
    average_rating=4.0,
    outcome_none=2,
    outcome_further_contact=2,
    outcome_technical_cooperation=3,
    outcome_commercial_agreement=2,
    outcome_research_cooperation=1,
    confirmed_agreements=3,
    surveys_sent=3,
    surveys_answered=2,
    survey_agreement_signed=1,
    survey_joint_project=1,
    tasks=2,
    tasks_done=1,
)
CLUSTER_A = figures(
    requests_sent=7,
    requests_accepted=5,
    requests_declined=1,
    requests_expired=1,
    meetings_scheduled=5,
    meetings_held=3,
    meetings_no_show=1,
    meetings_upcoming=1,
    ratings=4,
    average_rating=4.25,
    outcome_none=1,
    outcome_technical_cooperation=2,
    outcome_commercial_agreement=1,
    outcome_research_cooperation=1,
    confirmed_agreements=2,
    surveys_sent=2,
    surveys_answered=2,
    survey_agreement_signed=1,
    survey_joint_project=1,
    tasks=2,
    tasks_done=1,
)
CLUSTER_B = figures(
    requests_sent=7,
    requests_accepted=4,
    requests_expired=1,
    requests_pending=1,
    requests_cancelled=1,
    meetings_scheduled=4,
    meetings_held=3,
    meetings_upcoming=1,
    meetings_cancelled=1,
    ratings=3,
    average_rating=4.33,
    outcome_further_contact=1,
    outcome_technical_cooperation=1,
    outcome_commercial_agreement=1,
    confirmed_agreements=2,
    surveys_sent=1,
    tasks=2,
    tasks_done=1,
)
CLUSTER_C = figures(
    requests_sent=5,
    requests_accepted=2,
    requests_declined=1,
    requests_pending=1,
    requests_cancelled=1,
    meetings_scheduled=2,
    meetings_held=1,
    meetings_no_show=1,
    meetings_cancelled=1,
    ratings=1,
    average_rating=2.0,
    outcome_none=1,
    outcome_further_contact=1,
    confirmed_agreements=1,
)
# What B's cluster partner sees: every meeting touching B, with both parties' reports.
PARTNER_B = figures(
    requests_sent=7,
    requests_accepted=4,
    requests_expired=1,
    requests_pending=1,
    requests_cancelled=1,
    meetings_scheduled=4,
    meetings_held=3,
    meetings_upcoming=1,
    meetings_cancelled=1,
    ratings=6,
    average_rating=3.83,
    outcome_further_contact=2,
    outcome_technical_cooperation=1,
    outcome_commercial_agreement=2,
    outcome_research_cooperation=1,
    confirmed_agreements=2,
    surveys_sent=2,
    surveys_answered=1,
    survey_agreement_signed=1,
    tasks=2,
    tasks_done=1,
)
LABELS = ["Advanced Materials", "ICT & Railway", C_NAME]


async def _get(client: Client, url: str, user: Any) -> Any:
    token = await api_token(client, user.email)
    return await client.get(url, headers=bearer(token))


async def test_report_organiser_sees_every_figure(db: AsyncSession, client: Client) -> None:
    s: Scenario = await seed(db)

    response = await _get(client, f"/api/v1/events/{s.event.slug}/report", s.owner)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == {"cluster_id": None, "cluster_name": None}
    assert body["summary"] == WHOLE_EVENT
    assert body["outcomes_by_kind"] == {
        "none": 2,
        "further_contact": 2,
        "technical_cooperation": 3,
        "commercial_agreement": 2,
        "research_cooperation": 1,
        "investment": 0,
        "licence": 0,
    }
    assert body["agreements_by_kind"] == {
        "further_contact": 1,
        "technical_cooperation": 1,
        "commercial_agreement": 1,
        "research_cooperation": 0,
        "investment": 0,
        "licence": 0,
    }
    assert body["survey_stages"] == {
        "no_contact": 0,
        "negotiation": 0,
        "agreement_signed": 1,
        "joint_project": 1,
    }
    assert body["matrix"] == {
        "clusters": LABELS,
        "held": [[1, 2, 0], [2, 0, 1], [0, 1, 0]],
        "agreements": [[1, 1, 0], [1, 0, 1], [0, 1, 0]],
    }
    a, b, c = s.clusters
    assert body["breakdowns"]["cluster"] == [
        {"key": str(a.id), "label": "Advanced Materials", **CLUSTER_A},
        {"key": str(b.id), "label": "ICT & Railway", **CLUSTER_B},
        {"key": str(c.id), "label": C_NAME, **CLUSTER_C},
    ]


async def test_report_breaks_down_by_type_and_country(db: AsyncSession, client: Client) -> None:
    s = await seed(db)

    body = (await _get(client, f"/api/v1/events/{s.event.slug}/report", s.owner)).json()

    def row(dimension: str) -> dict[str, tuple[int, int, int, float | None]]:
        return {
            r["key"]: (
                r["meetings_scheduled"],
                r["meetings_held"],
                r["confirmed_agreements"],
                r["average_rating"],
            )
            for r in body["breakdowns"][dimension]
        }

    # business: a1 (M1 M3 M5 M6) and b2 (M2 M5); ratings a1 5, 5 and b2 4.
    assert row("type") == {
        "business": (5, 3, 2, 4.67),
        "research": (2, 2, 1, 3.5),
        "finance": (2, 2, 2, 4.5),
        "public_body": (2, 1, 1, 2.0),
        "other": (0, 0, 0, None),
    }
    # IT: a1 and b1; FR: a2; DE: b2; ES: c1.
    assert row("country") == {
        "DE": (2, 1, 0, 4.0),
        "ES": (2, 1, 1, 2.0),
        "FR": (2, 2, 1, 3.5),
        "IT": (5, 3, 3, 4.75),
    }


async def test_report_organiser_narrows_to_one_cluster(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    b = s.clusters[1]

    body = (await _get(client, f"/api/v1/events/{s.event.slug}/report?cluster={b.id}", s.owner)).json()

    assert body["scope"] == {"cluster_id": b.id, "cluster_name": "ICT & Railway"}
    assert body["summary"] == PARTNER_B


async def test_report_cluster_partner_sees_only_their_cluster(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    a, b, _ = s.clusters
    token = await api_token(client, s.partner_b.email)
    url = f"/api/v1/events/{s.event.slug}/report"

    own = (await client.get(url, headers=bearer(token))).json()
    widened = (await client.get(f"{url}?cluster={a.id}", headers=bearer(token))).json()

    assert own["scope"] == {"cluster_id": b.id, "cluster_name": "ICT & Railway"}
    assert own["summary"] == PARTNER_B
    assert own["matrix"] == {
        "clusters": LABELS,
        "held": [[0, 2, 0], [2, 0, 1], [0, 1, 0]],
        "agreements": [[0, 1, 0], [1, 0, 1], [0, 1, 0]],
    }
    assert widened["scope"] == own["scope"]
    assert widened["summary"] == PARTNER_B
    download = await client.get(f"{url}.csv?cluster={a.id}", headers=bearer(token))
    assert download.status_code == 200
    expected = f'filename="{s.event.slug}-report-cluster-{b.id}-summary.csv"'
    assert expected in download.headers["content-disposition"]


async def test_report_outsiders_are_refused(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    participant_user = await db.get(type(s.owner), s.people["a1"].user_id)
    url = f"/api/v1/events/{s.event.slug}/report"

    anonymous = await client.get(url)
    outsider = await _get(client, url, s.outsider)
    participant = await _get(client, url, participant_user)
    pdf = await _get(client, url + ".pdf", s.outsider)

    assert anonymous.status_code == 401
    assert (outsider.status_code, participant.status_code, pdf.status_code) == (403, 403, 403)


async def test_report_bad_filters_are_per_field_400s(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    url = f"/api/v1/events/{s.event.slug}/report"

    words = await _get(client, f"{url}?cluster=abc", s.owner)
    huge = await _get(client, f"{url}?cluster=99999999999999999999", s.owner)
    elsewhere = await _get(client, f"{url}?cluster=2147483647", s.owner)
    table = await _get(client, f"{url}.csv?table=nope", s.owner)

    assert (words.status_code, huge.status_code, elsewhere.status_code, table.status_code) == (400,) * 4
    assert words.json()["errors"] == {"cluster": "Choose a cluster by its number."}
    assert huge.json()["errors"] == {"cluster": "Choose a cluster by its number."}
    assert elsewhere.json()["errors"] == {"cluster": "No such cluster in this event."}
    assert list(table.json()["errors"]) == ["table"]


async def test_report_csv_tables_exact_and_defused(db: AsyncSession, client: Client) -> None:
    s = await seed(db)
    url = f"/api/v1/events/{s.event.slug}/report.csv"

    outcomes = await _get(client, f"{url}?table=outcomes", s.owner)
    matrix = await _get(client, f"{url}?table=matrix_held", s.owner)
    summary = await _get(client, url, s.owner)

    assert outcomes.headers["content-type"].startswith("text/csv")
    assert outcomes.text == (
        "kind,label,reports,confirmed_agreements\r\n"
        "none,None,2,0\r\n"
        "further_contact,Further contact,2,1\r\n"
        "technical_cooperation,Technical cooperation,3,1\r\n"
        "commercial_agreement,Commercial agreement,2,1\r\n"
        "research_cooperation,Research cooperation,1,0\r\n"
        "investment,Investment,0,0\r\n"
        "licence,Licence,0,0\r\n"
    )
    assert matrix.text == (
        "cluster,Advanced Materials,ICT & Railway,'=Nautical <Sea>\r\n"
        "Advanced Materials,1,2,0\r\n"
        "ICT & Railway,2,0,1\r\n"
        "'=Nautical <Sea>,0,1,0\r\n"
    )
    rows = list(csv.reader(io.StringIO(summary.text)))
    assert rows[0] == ["figure", "label", "value"]
    assert {r[0]: r[2] for r in rows[1:]} == {k: "" if v is None else str(v) for k, v in WHOLE_EVENT.items()}
    assert rows[1] == ["requests_sent", "Requests sent", "10"]


async def test_report_xlsx_has_every_table_as_a_sheet(db: AsyncSession, client: Client) -> None:
    s = await seed(db)

    response = await _get(client, f"/api/v1/events/{s.event.slug}/report.xlsx", s.owner)

    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "summary",
        "outcomes",
        "surveys",
        "by_cluster",
        "by_type",
        "by_country",
        "matrix_held",
        "matrix_agreements",
    ]
    held = [list(r) for r in book["matrix_held"].iter_rows(min_row=3, values_only=True)]
    assert held == [
        ["cluster", "Advanced Materials", "ICT & Railway", C_NAME],
        ["Advanced Materials", 1, 2, 0],
        ["ICT & Railway", 2, 0, 1],
        [C_NAME, 0, 1, 0],
    ]
    assert book["matrix_held"]["A6"].data_type == "s"  # text, never a formula
    summary = {r[0]: r[2] for r in book["summary"].iter_rows(min_row=4, values_only=True)}
    assert summary["meetings_held"] == 4
    assert summary["average_rating"] == 4.0


async def test_report_pdf_is_a_pdf(db: AsyncSession, client: Client) -> None:
    s = await seed(db)

    response = await _get(client, f"/api/v1/events/{s.event.slug}/report.pdf", s.owner)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")

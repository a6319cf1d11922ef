"""Impact report API: the report as JSON, each table as CSV, the whole as XLSX and PDF.

Staff only; cluster partners always get their own cluster's report (the service decides).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.events.services import get_event
from clockevents.followup import exports
from clockevents.followup.report_types import Report
from clockevents.followup.reports import build_report, parse_cluster

TAGS = ["reports"]
CSV_MEDIA_TYPE = "text/csv"  # Litestar appends "; charset=utf-8" to text types
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MEDIA_TYPE = "application/pdf"


async def load_report(db: AsyncSession, slug: str, user: User | None, cluster: str | None) -> Report:
    event = await get_event(db, slug)
    return await build_report(db, event, user, parse_cluster(cluster))


def file_name(report: Report, suffix: str) -> str:
    scope = f"-cluster-{report.cluster_id}" if report.cluster_id is not None else ""
    return f"{report.event_slug}-report{scope}{suffix}"


def attachment(body: Any, media_type: str, name: str) -> Response[Any]:
    return Response(
        body, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


@get("/events/{slug:str}/report", operation_id="getEventReport", tags=TAGS)
async def report_json(
    slug: str, db: AsyncSession, user: User | None, cluster: str | None = None
) -> dict[str, Any]:
    """The impact report: requests, meetings, outcomes, agreements, surveys, breakdowns, matrices."""
    return (await load_report(db, slug, user, cluster)).to_dict()


@get(
    "/events/{slug:str}/report.csv",
    operation_id="exportEventReportCsv",
    tags=TAGS,
    media_type=CSV_MEDIA_TYPE,
)
async def report_csv(
    slug: str, db: AsyncSession, user: User | None, cluster: str | None = None, table: str = "summary"
) -> Response[Any]:
    """One table of the report as CSV (``table``: summary, outcomes, surveys, by_cluster, ...)."""
    report = await load_report(db, slug, user, cluster)
    body = exports.to_csv(report, table)
    return attachment(body, CSV_MEDIA_TYPE, file_name(report, f"-{table}.csv"))


@get(
    "/events/{slug:str}/report.xlsx",
    operation_id="exportEventReportXlsx",
    tags=TAGS,
    media_type=XLSX_MEDIA_TYPE,
)
async def report_xlsx(
    slug: str, db: AsyncSession, user: User | None, cluster: str | None = None
) -> Response[Any]:
    """The whole report as a workbook, one sheet per table."""
    report = await load_report(db, slug, user, cluster)
    return attachment(exports.to_xlsx(report), XLSX_MEDIA_TYPE, file_name(report, ".xlsx"))


@get(
    "/events/{slug:str}/report.pdf",
    operation_id="exportEventReportPdf",
    tags=TAGS,
    media_type=PDF_MEDIA_TYPE,
)
async def report_pdf(
    slug: str, db: AsyncSession, user: User | None, cluster: str | None = None
) -> Response[Any]:
    """The whole report as a printable PDF."""
    report = await load_report(db, slug, user, cluster)
    return attachment(exports.to_pdf(report), PDF_MEDIA_TYPE, file_name(report, ".pdf"))


routes = [report_json, report_csv, report_xlsx, report_pdf]

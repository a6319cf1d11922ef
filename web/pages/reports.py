"""The organisers' impact report page: figures, charts drawn on the server, tables, downloads.

Cluster partners see their own cluster's report; the report service enforces it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.errors import ValidationFailed
from clockevents.events.models import Cluster
from clockevents.events.permissions import require_staff
from clockevents.events.services import get_event
from clockevents.followup import charts, exports
from clockevents.followup.models import OUTCOME_KINDS
from clockevents.followup.report_types import FIGURE_LABELS, OUTCOME_LABELS
from clockevents.followup.reports import build_report, parse_cluster

# The figures shown as cards at the top of the page, in this order.
HEADLINE = (
    "requests_sent",
    "requests_accepted",
    "requests_declined",
    "requests_expired",
    "meetings_scheduled",
    "meetings_held",
    "meetings_no_show",
    "average_rating",
    "confirmed_agreements",
    "surveys_answered",
)


@get("/events/{slug:str}/admin/report", include_in_schema=False)
async def report_page(
    slug: str, request: Request[Any, Any, Any], db: AsyncSession, user: User | None
) -> Template:
    """The impact report of the event (or of one cluster), with CSV, XLSX and PDF links."""
    event = await get_event(db, slug)
    access = await require_staff(db, event, user)
    raw = request.query_params.get("cluster")
    context: dict[str, Any] = {"event": event, "access": access, "tab": "report", "errors": {}}
    clusters = list(
        await db.scalars(select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position))
    )
    context["cluster_choices"] = [(str(c.id), c.name) for c in clusters] if access.is_organiser else []
    try:
        report = await build_report(db, event, user, parse_cluster(raw))
    except ValidationFailed as exc:
        context["errors"] = exc.fields
        report = await build_report(db, event, user, None)
        status = 400
    else:
        status = 200
    data = report.to_dict()
    query = f"?cluster={report.cluster_id}" if report.cluster_id is not None and access.is_organiser else ""
    total = report.total
    per_cluster = [(g.label, g.tally.held) for g in report.breakdowns["cluster"]]
    context.update(
        report=report,
        data=data,
        selected=str(report.cluster_id) if report.cluster_id is not None else "",
        headline=[(k, FIGURE_LABELS[k], data["summary"][k]) for k in HEADLINE],
        figure_labels=FIGURE_LABELS,
        outcome_labels=OUTCOME_LABELS,
        tables=[
            (name, title, *exports.readable(report, name)) for name, (title, _) in exports.TABLES.items()
        ],
        query=query,
        api_url=f"/api/v1/events/{event.slug}/report{query}",
        # charts.py escapes every label itself; the template marks these strings safe.
        charts={
            "outcomes": charts.bar_chart(
                [(OUTCOME_LABELS[k], total.outcomes[k]) for k in OUTCOME_KINDS], title="Outcomes by kind"
            ),
            "clusters": charts.bar_chart(per_cluster, title="Meetings held per cluster"),
            "held": charts.heat_map(
                report.matrix_labels, report.matrix_held, title="Meetings held, cluster by cluster"
            ),
            "agreements": charts.heat_map(
                report.matrix_labels,
                report.matrix_agreements,
                title="Confirmed agreements, cluster by cluster",
            ),
        },
    )
    return Template("reports/report.html", context=context, status_code=status)


routes = [report_page]

"""What an impact report holds: its figures (a :class:`Tally` per group), breakdowns, the
cluster matrices, and the labels people read. Built by :mod:`clockevents.followup.reports`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clockevents.followup.models import OUTCOME_KINDS, SURVEY_STAGES

REQUEST_FIGURES = ("sent", "accepted", "declined", "expired", "pending", "cancelled")
AGREEMENT_KINDS = tuple(k for k in OUTCOME_KINDS if k != "none")
DIMENSIONS = ("cluster", "type", "country")
NO_CLUSTER = "No cluster"
TYPE_LABELS = {
    "business": "Business",
    "research": "Research",
    "finance": "Finance",
    "public_body": "Public body",
    "other": "Other",
}
OUTCOME_LABELS = {
    "none": "None",
    "further_contact": "Further contact",
    "technical_cooperation": "Technical cooperation",
    "commercial_agreement": "Commercial agreement",
    "research_cooperation": "Research cooperation",
    "investment": "Investment",
    "licence": "Licence",
}
STAGE_LABELS = {
    "no_contact": "No contact since",
    "negotiation": "In negotiation",
    "agreement_signed": "Agreement signed",
    "joint_project": "Joint project",
}


@dataclass
class Tally:
    """Every figure of the report, for the whole scope or for one group."""

    requests: Counter[str] = field(default_factory=Counter)  # "sent" and each status
    scheduled: int = 0
    held: int = 0
    no_show: int = 0
    upcoming: int = 0
    cancelled: int = 0
    ratings: int = 0
    rating_sum: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    agreements: Counter[str] = field(default_factory=Counter)
    surveys_sent: int = 0
    surveys_answered: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    tasks: int = 0
    tasks_done: int = 0

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.ratings, 2) if self.ratings else None

    @property
    def confirmed(self) -> int:
        return sum(self.agreements.values())

    def figures(self) -> dict[str, Any]:
        """The flat figures, in the order the tables show them."""
        row: dict[str, Any] = {f"requests_{k}": self.requests[k] for k in REQUEST_FIGURES}
        row.update(
            meetings_scheduled=self.scheduled,
            meetings_held=self.held,
            meetings_no_show=self.no_show,
            meetings_upcoming=self.upcoming,
            meetings_cancelled=self.cancelled,
            ratings=self.ratings,
            average_rating=self.average_rating,
        )
        row.update({f"outcome_{k}": self.outcomes[k] for k in OUTCOME_KINDS})
        row["confirmed_agreements"] = self.confirmed
        row.update(surveys_sent=self.surveys_sent, surveys_answered=self.surveys_answered)
        row.update({f"survey_{s}": self.stages[s] for s in SURVEY_STAGES})
        row.update(tasks=self.tasks, tasks_done=self.tasks_done)
        return row


FIGURE_LABELS = {
    **{f"requests_{k}": f"Requests {k}" for k in REQUEST_FIGURES},
    "requests_sent": "Requests sent",
    "meetings_scheduled": "Meetings scheduled",
    "meetings_held": "Meetings held",
    "meetings_no_show": "No-shows",
    "meetings_upcoming": "Meetings still to come",
    "meetings_cancelled": "Meetings cancelled",
    "ratings": "Ratings given",
    "average_rating": "Average rating",
    **{f"outcome_{k}": f"Outcome: {v}" for k, v in OUTCOME_LABELS.items()},
    "confirmed_agreements": "Confirmed agreements",
    "surveys_sent": "Surveys sent",
    "surveys_answered": "Surveys answered",
    **{f"survey_{k}": f"Survey: {v}" for k, v in STAGE_LABELS.items()},
    "tasks": "Follow-up tasks",
    "tasks_done": "Follow-up tasks done",
}


@dataclass
class Group:
    key: str  # cluster id ("" for none), participant type or country code
    label: str
    tally: Tally = field(default_factory=Tally)


@dataclass
class Report:
    event_slug: str
    event_title: str
    generated_at: datetime
    cluster_id: int | None  # the scope: None for the whole event
    cluster_name: str | None
    total: Tally
    breakdowns: dict[str, list[Group]]  # "cluster" | "type" | "country" -> rows
    matrix_labels: list[str]
    matrix_held: list[list[int]]
    matrix_agreements: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the API's answer)."""
        total = self.total
        return {
            "event": {"slug": self.event_slug, "title": self.event_title},
            "generated_at": self.generated_at.isoformat(),
            "scope": {"cluster_id": self.cluster_id, "cluster_name": self.cluster_name},
            "summary": total.figures(),
            "outcomes_by_kind": {k: total.outcomes[k] for k in OUTCOME_KINDS},
            "agreements_by_kind": {k: total.agreements[k] for k in AGREEMENT_KINDS},
            "survey_stages": {s: total.stages[s] for s in SURVEY_STAGES},
            "breakdowns": {
                dim: [{"key": g.key, "label": g.label, **g.tally.figures()} for g in rows]
                for dim, rows in self.breakdowns.items()
            },
            "matrix": {
                "clusters": list(self.matrix_labels),
                "held": [list(r) for r in self.matrix_held],
                "agreements": [list(r) for r in self.matrix_agreements],
            },
        }

"""What every kind of mail shares: who wants it, the body templates, times in the reader's zone.

Links are written with ``BASE_URL_MARK`` and filled in with ``settings.base_url`` at delivery,
because services never see the settings or a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.agenda.problem import Person, load_people
from clockevents.events.models import Event
from clockevents.notify.mail_models import MailPreference
from clockevents.notify.outbox import chunks
from clockevents.notify.transport import BASE_URL_MARK
from clockevents.registration.models import Organisation, Participant

PREFERENCES_PATH = "/account/mail"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Recipient:
    """A participant who wants this kind of mail, with where and how to write to them."""

    participant_id: int
    user_id: int
    email: str
    name: str
    timezone: str
    organisation: str


def agenda_link(event: Event) -> str:
    return f"{BASE_URL_MARK}/events/{event.slug}/agenda"


def local(value: datetime, zone: str) -> str:
    """'Mon 12 Oct 2026, 10:00 CEST' in the reader's zone."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return value.astimezone(tz).strftime("%a %d %b %Y, %H:%M %Z")


def render(
    recipient_name: str, subject: str, lines: list[str], event: Event, link: str, link_label: str
) -> tuple[str, str]:
    """Render the plain-text and HTML bodies of one mail."""
    return render_bodies(recipient_name, subject, lines, event.title, link, link_label)


def render_bodies(
    recipient_name: str, subject: str, lines: list[str], event_title: str, link: str, link_label: str
) -> tuple[str, str]:
    """``render`` with the event's title given as text (for work done away from the session)."""
    context = {
        "name": recipient_name,
        "subject": subject,
        "lines": lines,
        "link": link,
        "link_label": link_label,
        "event_title": event_title,
        "preferences_url": f"{BASE_URL_MARK}{PREFERENCES_PATH}",
    }
    return (
        _templates.get_template("mail.txt").render(context),
        _templates.get_template("mail.html").render(context),
    )


async def recipients(db: AsyncSession, participant_ids: Iterable[int], kind: str) -> list[Recipient]:
    """The participants among ``participant_ids`` with an active account who want ``kind`` mail."""
    wanted = sorted(set(participant_ids))
    rows: list[Any] = []
    for part in chunks(wanted):
        rows += (
            await db.execute(
                select(
                    Participant.id, User.id, User.email, User.name, Participant.timezone, Organisation.name
                )
                .join(User, User.id == Participant.user_id)
                .join(Organisation, Organisation.id == Participant.organisation_id)
                .where(Participant.id.in_(part), User.is_active.is_(True))
            )
        ).all()
    off: set[int] = set()
    for part in chunks(sorted({row[1] for row in rows})):
        off.update(
            await db.scalars(
                select(MailPreference.user_id).where(
                    MailPreference.user_id.in_(part),
                    MailPreference.kind == kind,
                    MailPreference.enabled.is_(False),
                )
            )
        )
    return [Recipient(*row) for row in rows if row[1] not in off]


async def people_of(db: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    people: dict[int, Person] = {}
    for part in chunks(sorted(set(ids))):
        people.update(await load_people(db, part))
    return people


async def labels_of(db: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for part in chunks(sorted(set(ids))):
        rows = await db.execute(
            select(Participant.id, User.name, Organisation.name)
            .join(Organisation, Organisation.id == Participant.organisation_id)
            .outerjoin(User, User.id == Participant.user_id)
            .where(Participant.id.in_(part))
        )
        labels.update({pid: f"{name} ({org})" if name else org for pid, name, org in rows.all()})
    return labels


def place_label(event: Event, table: int | None) -> str:
    if table is None:
        return ""
    return f"{'Room' if event.format == 'virtual' else 'Table'} {table}"

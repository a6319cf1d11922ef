"""The follow-up's timed mail, queued by the job loop: outcome prompts and task reminders.

- Once a participant's last meeting of a day is over, one mail lists that day's meetings they
  have not reported on yet, each with the link to its outcome form.
- Each open follow-up task's owner is mailed once, from the day before the task is due.

Both go to people who have not switched reminders off, and never twice: the prompt's outbox
``dedupe_key`` names the participant and the day, the task keeps ``reminded_at``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.agenda.models import Meeting
from clockevents.agenda.problem import load_people
from clockevents.db import utcnow
from clockevents.events.models import Event, Slot
from clockevents.followup.models import FollowUpTask, MeetingOutcome
from clockevents.notify import mail as mails
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.outbox import Draft, chunks, enqueue, enqueue_many
from clockevents.notify.transport import BASE_URL_MARK

REMIND_DAYS_BEFORE = 1
PROMPT_WINDOW = timedelta(days=2)  # meetings over longer ago than this get no prompt (no backlog storm)


async def queue_followup_mail(db: AsyncSession, now: datetime | None = None) -> int:
    """Queue the due outcome prompts and task reminders; return how many mails were queued."""
    now = now or utcnow()
    return await queue_outcome_prompts(db, now) + await queue_task_reminders(db, now)


# -- outcome prompts --------------------------------------------------------------------------


async def queue_outcome_prompts(db: AsyncSession, now: datetime | None = None) -> int:
    """Ask each party, once their day's meetings are over, to report on the ones still unreported."""
    now = now or utcnow()
    ended = (
        await db.execute(
            select(Meeting.id, Meeting.a_id, Meeting.b_id, Meeting.event_id, Slot.starts_at)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(Meeting.status == "scheduled", Slot.ends_at <= now, Slot.ends_at > now - PROMPT_WINDOW)
            .order_by(Slot.starts_at, Meeting.id)
        )
    ).all()
    if not ended:
        return 0
    events = {e.id: e for e in await db.scalars(select(Event).where(Event.id.in_({row[3] for row in ended})))}
    # Who has not reported on what.
    reported: set[tuple[int, int]] = set()
    for part in chunks([row[0] for row in ended]):
        rows = await db.execute(
            select(MeetingOutcome.meeting_id, MeetingOutcome.participant_id).where(
                MeetingOutcome.meeting_id.in_(part)
            )
        )
        reported.update((mid, pid) for mid, pid in rows)
    # (participant, event, local day) -> (meeting id, start, other party) over and unreported.
    due: dict[tuple[int, int, date], list[tuple[int, datetime, int]]] = defaultdict(list)
    for meeting_id, a_id, b_id, event_id, starts_at in ended:
        day = _today(starts_at, events[event_id].timezone)
        for pid, other in ((a_id, b_id), (b_id, a_id)):
            if (meeting_id, pid) not in reported:
                due[(pid, event_id, day)].append((meeting_id, starts_at, other))
    if not due:
        return 0
    # A party with a meeting still to come that day hears after the last one.
    pids = sorted({pid for pid, _, _ in due})
    for part in chunks(pids):
        later = await db.execute(
            select(Meeting.a_id, Meeting.b_id, Meeting.event_id, Slot.starts_at)
            .join(Slot, Slot.id == Meeting.slot_id)
            .where(
                Meeting.status == "scheduled",
                Slot.ends_at > now,
                Slot.starts_at < now + timedelta(days=1),
                or_(Meeting.a_id.in_(part), Meeting.b_id.in_(part)),
            )
        )
        for a_id, b_id, event_id, starts_at in later:
            event = events.get(event_id)
            if event is None:
                continue
            day = _today(starts_at, event.timezone)
            due.pop((a_id, event_id, day), None)
            due.pop((b_id, event_id, day), None)
    keys = {key: f"outcome-prompt:{key[0]}:{key[2].isoformat()}" for key in due}
    taken: set[str] = set()
    for part in chunks(sorted(keys.values())):
        taken.update(
            k
            for k in await db.scalars(
                select(OutboundMail.dedupe_key).where(OutboundMail.dedupe_key.in_(part))
            )
            if k
        )
    due = {key: items for key, items in due.items() if keys[key] not in taken}
    if not due:
        return 0
    who = {r.participant_id: r for r in await mails.recipients(db, {pid for pid, _, _ in due}, "reminders")}
    people = await load_people(db, {other for items in due.values() for _, _, other in items})
    drafts = []
    for key, items in due.items():
        pid, event_id, day = key
        recipient = who.get(pid)
        if recipient is None:
            continue
        event = events[event_id]
        subject = f"{event.title}: how did your meetings go?"
        lines = ["Please tell us how your meetings went: it takes a minute per meeting."]
        for meeting_id, starts_at, other in items:
            label = people[other].label if other in people else "your partner"
            when = mails.local(starts_at, recipient.timezone or event.timezone)
            lines.append(f"{when} with {label}: {BASE_URL_MARK}/meetings/{meeting_id}/outcome")
        lines.append("The other side sees your shared answers, never your private notes.")
        link = f"{BASE_URL_MARK}/events/{event.slug}/followups"
        text, html = mails.render(recipient.name, subject, lines, event, link, "All your follow-up")
        drafts.append(
            Draft(
                to=recipient.email,
                subject=subject,
                text=text,
                html=html,
                kind="outcome_prompt",
                dedupe_key=keys[key],
            )
        )
    return await enqueue_many(db, drafts)


# -- task reminders ---------------------------------------------------------------------------


def _today(now: datetime, zone: str) -> date:
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (KeyError, ValueError):
        return now.date()


async def queue_task_reminders(db: AsyncSession, now: datetime | None = None) -> int:
    """Mail each open task's owner once, from the day before its due date; return how many went.

    "Today" is the event's local date. A task already overdue when first seen is reminded too.
    """
    now = now or utcnow()
    horizon = now.date() + timedelta(days=REMIND_DAYS_BEFORE + 1)  # widest zone offset covered
    rows = (
        await db.execute(
            select(FollowUpTask, Event)
            .join(Event, Event.id == FollowUpTask.event_id)
            .where(
                FollowUpTask.done_at.is_(None),
                FollowUpTask.reminded_at.is_(None),
                FollowUpTask.due_on.is_not(None),
                FollowUpTask.due_on <= horizon,
                FollowUpTask.owner_id.is_not(None),
            )
            .order_by(FollowUpTask.due_on, FollowUpTask.id)
        )
    ).all()
    due = [
        (task, event)
        for task, event in rows
        if task.due_on is not None
        and task.due_on <= _today(now, event.timezone) + timedelta(days=REMIND_DAYS_BEFORE)
    ]
    if not due:
        return 0
    who = {
        r.participant_id: r
        for r in await mails.recipients(db, {t.owner_id for t, _ in due if t.owner_id}, "reminders")
    }
    count = 0
    for task, event in due:
        task.reminded_at = now
        recipient = who.get(task.owner_id or 0)
        if recipient is None:  # no account any more, or reminders switched off
            continue
        subject = f"Follow-up due {task.due_on:%a %d %b %Y}: {task.title}"[:300]
        link = f"{BASE_URL_MARK}/events/{event.slug}/followups"
        text, html = mails.render(
            recipient.name,
            subject,
            [f"Your follow-up task \u201c{task.title}\u201d is due on {task.due_on:%A %d %B %Y}."],
            event,
            link,
            "See your follow-up tasks",
        )
        mail = await enqueue(
            db,
            to=recipient.email,
            subject=subject,
            text=text,
            html=html,
            kind="followup_reminder",
            dedupe_key=f"followup-task:{task.id}:due:{task.due_on.isoformat()}",
        )
        count += mail is not None
    await db.flush()
    return count

"""CSV export and import of an event's participants, for its organisers.

One column layout serves both ways, so an export can be edited in a spreadsheet and imported
into another event. Cells that a spreadsheet would run as a formula are defused on export with
a leading apostrophe, and that apostrophe is dropped again on import.

An import is all or nothing: every row is checked first and each problem reported as
``row N: column``; only a clean file is written, in one transaction. Imported people get an
account without a usable password (nobody, not even the organiser, knows one); they set their
own through the password reset. An e-mail that already has an account is linked to it.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.services import EMAIL_RE, normalise_email
from clockevents.errors import DomainError, ValidationFailed
from clockevents.events.models import Cluster, Event
from clockevents.events.permissions import Access, require_staff
from clockevents.registration.directory import managed_by, org_order
from clockevents.registration.models import Organisation, Participant
from clockevents.registration.services import register
from clockevents.registration.validation import (
    JOB_TITLE_MAX,
    OrganisationInput,
    RegistrationInput,
    check_cluster,
    check_status,
    check_tags,
    check_text,
    check_type,
    clean,
    validate_organisation,
)

COLUMNS = (
    "email",
    "name",
    "organisation",
    "organisation_kind",
    "country",
    "city",
    "website",
    "cluster",
    "type",
    "job_title",
    "status",
    "listed",
    "keywords",
)
REQUIRED_COLUMNS = ("email", "name", "organisation", "country", "type", "job_title")
KEYWORD_SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5000
NAME_MAX = 200
# Argon2 never produces this shape, so no password can ever match it.
UNUSABLE_PASSWORD_PREFIX = "!imported:"
TRUE_WORDS = {"yes", "y", "true", "1", "x"}
FALSE_WORDS = {"no", "n", "false", "0", ""}

# The registration service names fields after the model; the file names them after its columns.
_SERVICE_TO_COLUMN = {
    "organisation.name": "organisation",
    "organisation.kind": "organisation_kind",
    "organisation.country": "country",
    "organisation.city": "city",
    "organisation.website": "website",
    "organisation_id": "organisation",
    "name": "organisation",
    "kind": "organisation_kind",
    "cluster_id": "cluster",
    "participant_type": "type",
}


def defuse(value: str) -> str:
    """Prefix a cell a spreadsheet would evaluate (=, +, -, @ ...) with an apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def undefuse(value: str) -> str:
    """Undo ``defuse`` so an exported file imports back to the same values."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


async def export_participants(db: AsyncSession, event: Event, actor: User | None) -> str:
    """Return the CSV of the participants ``actor`` manages (a partner: their cluster only)."""
    access = await require_staff(db, event, actor)
    rows = await db.execute(
        select(Participant, Organisation, User, Cluster.name)
        .join(Organisation, Organisation.id == Participant.organisation_id)
        .outerjoin(User, User.id == Participant.user_id)
        .outerjoin(Cluster, Cluster.id == Participant.cluster_id)
        .where(Participant.event_id == event.id, managed_by(access))
        .order_by(*org_order(db), Participant.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for participant, org, user, cluster_name in rows.all():
        values = [
            user.email if user else "",
            user.name if user else "",
            org.name,
            org.kind,
            org.country,
            org.city,
            org.website,
            cluster_name or "",
            participant.participant_type,
            participant.job_title,
            participant.status,
            "yes" if participant.listed else "no",
            f"{KEYWORD_SEPARATOR} ".join(participant.keywords or []),
        ]
        writer.writerow([defuse(v) for v in values])
    return out.getvalue()


@dataclass
class ImportRow:
    """One checked row, ready to write."""

    number: int
    email: str
    name: str
    organisation: OrganisationInput
    cluster_id: int | None
    participant_type: str
    job_title: str
    status: str
    listed: bool
    keywords: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    participants: list[Participant]
    accounts_created: int
    accounts_linked: int


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB."})
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"file": "Save the file as CSV UTF-8."}) from exc


def read_table(content: bytes | str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Split the file into normalised header names and data rows (blank lines dropped).

    Comma, semicolon (spreadsheets in many European locales) and tab separators are accepted.
    """
    text = _decode(content).lstrip("\ufeff")
    if len(text) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": f"The file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB."})
    if "\x00" in text:  # never valid in a CSV export, and PostgreSQL refuses it in text
        raise ValidationFailed({"file": "The file holds NUL characters: save it as CSV UTF-8."})
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        # Numbered as a spreadsheet shows them (blank rows count), then blank rows dropped.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = [(number, r) for number, r in enumerate(reader, start=1) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ValidationFailed({"file": f"The file is not valid CSV ({exc})."}) from exc
    if not records:
        raise ValidationFailed({"file": "The file is empty."})
    header = [clean(h).lower().replace(" ", "_") for h in records[0][1]]
    return header, records[1:]


def _check_header(header: list[str]) -> None:
    errors: dict[str, str] = {}
    if "password" in header:
        errors["password"] = "Passwords are never imported: people set their own."
    unknown = [h for h in header if h not in COLUMNS and h != "password"]
    if unknown:
        errors["columns"] = "Unknown column(s): " + ", ".join(unknown) + ". Use: " + ", ".join(COLUMNS) + "."
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        errors["columns"] = "Missing column(s): " + ", ".join(missing) + "."
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        errors["columns"] = "Repeated column(s): " + ", ".join(repeated) + "."
    if errors:
        raise ValidationFailed(errors, "The file's columns are not right; nothing was imported.")


def _parse_listed(value: str, errors: dict[str, str]) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word not in FALSE_WORDS:
        errors["listed"] = "Write yes or no."
    return False


def _check_row(
    number: int,
    cells: dict[str, str],
    event: Event,
    clusters: list[Cluster],
    access: Access,
    errors: dict[str, str],
) -> ImportRow:
    """Check one row; record each problem in ``errors`` under its column name."""
    email = normalise_email(cells.get("email", ""))
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid e-mail address."
    name = clean(cells.get("name", ""))
    if len(name) > NAME_MAX:
        errors["name"] = f"Use at most {NAME_MAX} characters."
    ptype = cells.get("type", "").strip()
    org_errors: dict[str, str] = {}
    organisation = validate_organisation(
        OrganisationInput(
            name=cells.get("organisation", ""),
            kind=cells.get("organisation_kind", "").strip() or ptype,
            country=cells.get("country", ""),
            city=cells.get("city", ""),
            website=cells.get("website", ""),
        ),
        org_errors,
    )
    errors.update({_SERVICE_TO_COLUMN.get(k, k): v for k, v in org_errors.items()})
    cluster_name = clean(cells.get("cluster", ""))
    if not cluster_name and access.role == "cluster_partner":
        cluster_id: int | None = access.cluster_id
    else:
        service_errors: dict[str, str] = {}
        cluster_id = check_cluster(clusters, None, cluster_name, service_errors)
        if service_errors:
            errors["cluster"] = (
                "Use one of the event's clusters: " + ", ".join(c.name for c in clusters) + "."
            )
    if "cluster" not in errors and not access.covers_cluster(cluster_id):
        own = next((c.name for c in clusters if c.id == access.cluster_id), "your cluster")
        errors["cluster"] = f"You may import participants into {own} only."
    type_errors: dict[str, str] = {}
    check_type(event, ptype, type_errors)
    if type_errors:
        errors["type"] = "Use one of: " + ", ".join(event.participant_types or []) + "."
    job_title = check_text(
        cells.get("job_title", ""), "job_title", JOB_TITLE_MAX, errors, required="Enter the job title."
    )
    status = cells.get("status", "").strip().lower() or "approved"
    check_status(status, errors)
    listed = _parse_listed(cells.get("listed", ""), errors)
    keywords = check_tags(cells.get("keywords", "").split(KEYWORD_SEPARATOR), "keywords", errors)
    return ImportRow(
        number=number,
        email=email,
        name=name,
        organisation=organisation,
        cluster_id=cluster_id,
        participant_type=ptype,
        job_title=job_title,
        status=status,
        listed=listed,
        keywords=keywords,
    )


async def _event_clusters(db: AsyncSession, event: Event) -> list[Cluster]:
    result = await db.scalars(
        select(Cluster).where(Cluster.event_id == event.id).order_by(Cluster.position, Cluster.id)
    )
    return list(result)


async def check_import(
    db: AsyncSession, event: Event, access: Access, content: bytes | str
) -> list[ImportRow]:
    """Check the whole file; raise ValidationFailed with ``{"row N: column": message}`` if anything is wrong."""
    header, records = read_table(content)
    _check_header(header)
    if not records:
        raise ValidationFailed({"file": "The file has a header but no participants."})
    if len(records) > MAX_IMPORT_ROWS:
        raise ValidationFailed({"file": f"Import at most {MAX_IMPORT_ROWS} participants at a time."})
    clusters = await _event_clusters(db, event)
    registered = set(
        await db.scalars(
            select(User.email)
            .join(Participant, Participant.user_id == User.id)
            .where(Participant.event_id == event.id)
        )
    )
    emails = [
        normalise_email(r[header.index("email")]) if len(r) > header.index("email") else ""
        for _, r in records
    ]
    known = {
        email: user_name
        for email, user_name in (
            await db.execute(select(User.email, User.name).where(User.email.in_(set(emails))))
        ).all()
    }
    problems: dict[str, str] = {}
    rows: list[ImportRow] = []
    first_row_of: dict[str, int] = {}
    for number, record in records:
        errors: dict[str, str] = {}
        if len(record) > len(header):
            errors["columns"] = f"Has {len(record)} cells; the header has {len(header)}."
        cells = {name: undefuse(record[i]) if i < len(record) else "" for i, name in enumerate(header)}
        row = _check_row(number, cells, event, clusters, access, errors)
        if "email" not in errors:
            if row.email in registered:
                errors["email"] = "Already registered for this event."
            elif row.email in first_row_of:
                errors["email"] = f"Same e-mail as row {first_row_of[row.email]}."
            first_row_of.setdefault(row.email, number)
        if row.email not in known and not row.name and "name" not in errors:
            errors["name"] = "Enter the person's name (needed for a new account)."
        problems.update({f"row {number}: {column}": message for column, message in errors.items()})
        rows.append(row)
    if problems:
        raise ValidationFailed(
            problems, f"{_count_rows(problems)} of {len(rows)} rows have problems; nothing was imported."
        )
    return rows


def _count_rows(problems: dict[str, str]) -> int:
    return len({key.split(":", 1)[0] for key in problems})


async def _organisation_for(db: AsyncSession, data: OrganisationInput) -> Organisation | None:
    """An existing organisation with the same name (any case) in the same country."""
    return await db.scalar(
        select(Organisation)
        .where(func.lower(Organisation.name) == data.name.lower(), Organisation.country == data.country)
        .order_by(Organisation.id)
        .limit(1)
    )


async def import_participants(
    db: AsyncSession, event: Event, actor: User | None, content: bytes | str
) -> ImportResult:
    """Import the CSV ``content`` into ``event``: every row or none (see the module docstring).

    Staff only; a cluster partner imports into their own cluster only. Raises ValidationFailed
    with one message per problem, keyed ``row N: column``. Nothing is committed here.
    """
    access = await require_staff(db, event, actor)
    rows = await check_import(db, event, access, content)
    participants: list[Participant] = []
    created = linked = 0
    problems: dict[str, str] = {}
    # A savepoint, so a row the registration service still refuses undoes the rows before it.
    savepoint = await db.begin_nested()
    try:
        for row in rows:
            user = await db.scalar(select(User).where(User.email == row.email))
            if user is None:
                user = User(
                    email=row.email,
                    name=row.name,
                    password_hash=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(16),
                )
                db.add(user)
                await db.flush()
                created += 1
            else:
                linked += 1
            organisation = await _organisation_for(db, row.organisation)
            data = RegistrationInput(
                organisation_id=organisation.id if organisation else None,
                organisation=None if organisation else row.organisation,
                cluster_id=row.cluster_id,
                participant_type=row.participant_type,
                job_title=row.job_title,
                keywords=row.keywords,
                listed=row.listed,
            )
            try:
                participant = await register(db, user, event, data, check_window=False, status=row.status)
            except DomainError as exc:
                fields = exc.fields or {"email": exc.message}
                for key, message in fields.items():
                    problems[f"row {row.number}: {_SERVICE_TO_COLUMN.get(key, key)}"] = message
                continue
            participants.append(participant)
        if problems:
            raise ValidationFailed(problems, "Some rows could not be imported; nothing was imported.")
    except BaseException:
        await savepoint.rollback()
        raise
    await savepoint.commit()
    return ImportResult(participants=participants, accounts_created=created, accounts_linked=linked)

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clockevents.accounts.models import User
from clockevents.accounts.passwords import verify_password
from clockevents.errors import PermissionDenied, ValidationFailed
from clockevents.events.models import Event
from clockevents.registration.csvio import (
    defuse,
    export_participants,
    import_participants,
    read_table,
    undefuse,
)
from clockevents.registration.models import Participant
from tests.factories.accounts import make_user
from tests.factories.events import add_role, make_event
from tests.factories.registration import make_organisation, make_participant

HEADER = "email,name,organisation,organisation_kind,country,city,website,cluster,type,job_title,status,listed,keywords"


def test_defuse_prefixes_formula_cells_only() -> None:
    assert [defuse(v) for v in ["=1+1", "+39 050", "-x", "@SUM(A1)", "plain", ""]] == [
        "'=1+1",
        "'+39 050",
        "'-x",
        "'@SUM(A1)",
        "plain",
        "",
    ]


def test_undefuse_reverses_defuse_and_keeps_other_apostrophes() -> None:
    assert [undefuse(defuse(v)) for v in ["=1+1", "@a", "plain"]] == ["=1+1", "@a", "plain"]
    assert undefuse("'quoted") == "'quoted"


def test_read_table_accepts_semicolons_and_bom() -> None:
    header, rows = read_table("\ufeffEmail;Job Title\r\n\r\na@b.it;CEO\r\n\r\n".encode())
    assert (header, rows) == (["email", "job_title"], [(3, ["a@b.it", "CEO"])])


def test_read_table_rejects_nul_characters() -> None:
    with pytest.raises(ValidationFailed) as info:
        read_table(b"email,name\na@b.it,A\x00B\n")
    assert info.value.fields == {"file": "The file holds NUL characters: save it as CSV UTF-8."}


def test_read_table_rejects_non_utf8() -> None:
    with pytest.raises(ValidationFailed) as info:
        read_table("email\nmarìa@x.it\n".encode("utf-16"))
    assert info.value.fields == {"file": "Save the file as CSV UTF-8."}


async def test_export_participants_exact_content(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    cluster = event.clusters[0]
    ada = await make_user(db, email="ada@example.org", name="Ada Rossi")
    org = await make_organisation(db, name="Alpha, Coatings", country="IT")
    p = await make_participant(
        db, event, user=ada, organisation=org, cluster=cluster, keywords=["graphene", "hulls"], listed=False
    )
    p.job_title = '=HYPERLINK("http://evil")'
    await db.commit()
    bob = await make_user(db, email="bob@example.org", name="Bob")
    await make_participant(
        db,
        event,
        user=bob,
        organisation=await make_organisation(db, name="beta", kind="research"),
        participant_type="research",
        status="pending",
    )
    text = await export_participants(db, event, owner)
    assert text == (
        HEADER + "\r\n"
        f'ada@example.org,Ada Rossi,"Alpha, Coatings",business,IT,Pisa,,{cluster.name},business,'
        '"\'=HYPERLINK(""http://evil"")",approved,no,graphene; hulls\r\n'
        "bob@example.org,Bob,beta,research,IT,Pisa,,,research,,pending,yes,\r\n"
    )


async def test_export_participants_partner_gets_own_cluster_only(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    a, b, _ = event.clusters
    mine = await make_participant(db, event, cluster=a)
    await make_participant(db, event, cluster=b)
    partner = await make_user(db)
    await add_role(db, event, partner, "cluster_partner", a)
    lines = (await export_participants(db, event, partner)).splitlines()
    user = await db.get(User, mine.user_id)
    assert [line.split(",")[0] for line in lines[1:]] == [user.email]


async def test_export_participants_refuses_participants(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    p = await make_participant(db, event)
    with pytest.raises(PermissionDenied):
        await export_participants(db, event, await db.get(User, p.user_id))


async def _count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Participant)) or 0)


async def test_import_participants_creates_accounts_and_registrations(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    existing = await make_user(db, email="known@example.org", name="Known Person")
    content = "\r\n".join(
        [
            HEADER,
            f"new@example.org,Nina New,Nautica Srl,business,it,Viareggio,https://nautica.example,{event.clusters[2].name},business,CEO,,yes,yachts; composites",
            "KNOWN@example.org,,Nautica Srl,,IT,,,Advanced Materials,business,CTO,pending,no,",
        ]
    ).encode()
    result = await import_participants(db, event, owner, content)
    await db.commit()
    assert (result.accounts_created, result.accounts_linked) == (1, 1)
    first, second = result.participants
    assert (first.status, first.listed, first.keywords, first.cluster_id) == (
        "approved",
        True,
        ["yachts", "composites"],
        event.clusters[2].id,
    )
    assert (second.user_id, second.status, second.listed) == (existing.id, "pending", False)
    assert first.organisation_id == second.organisation_id  # the same organisation is reused
    assert "nina new" in first.search_text
    new_user = await db.scalar(select(User).where(User.email == "new@example.org"))
    assert new_user.name == "Nina New"
    assert verify_password(new_user.password_hash, "") is False


async def test_import_participants_bad_rows_import_nothing(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    registered = await make_participant(db, event)
    reg_email = (await db.get(User, registered.user_id)).email
    content = "\n".join(
        [
            HEADER,
            "ok@example.org,Ok,Org,business,IT,,,Nautical,business,CEO,,yes,",
            "bad-email,Bad,Org,business,Italy,,,Nowhere,alien,,maybe,perhaps,",
            "ok@example.org,Again,Org,business,IT,,,Nautical,business,CEO,,,",
            f"{reg_email},X,Org,business,IT,,,Nautical,business,CEO,,,",
        ]
    )
    with pytest.raises(ValidationFailed) as info:
        await import_participants(db, event, owner, content)
    await db.rollback()
    assert info.value.fields == {
        "row 3: email": "Enter a valid e-mail address.",
        "row 3: country": "Enter a two-letter country code such as IT or FR.",
        "row 3: cluster": "Use one of the event's clusters: Advanced Materials, ICT & Railway, Nautical.",
        "row 3: type": "Use one of: business, research, finance, public_body, other.",
        "row 3: job_title": "Enter the job title.",
        "row 3: status": "Choose pending, approved or rejected.",
        "row 3: listed": "Write yes or no.",
        "row 4: email": "Same e-mail as row 2.",
        "row 5: email": "Already registered for this event.",
    }
    assert info.value.message == "3 of 4 rows have problems; nothing was imported."
    assert await _count(db) == 1
    assert await db.scalar(select(User).where(User.email == "ok@example.org")) is None


async def test_import_participants_password_column_refused(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    with pytest.raises(ValidationFailed) as info:
        await import_participants(db, event, owner, "email,name,password\na@b.it,A,secret\n")
    assert info.value.fields == {
        "password": "Passwords are never imported: people set their own.",
        "columns": "Missing column(s): organisation, country, type, job_title.",
    }


async def test_import_participants_partner_only_into_own_cluster(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    a, b, _ = event.clusters
    event_id, a_id, a_name = event.id, a.id, a.name
    partner = await make_user(db)
    partner_id = partner.id
    await add_role(db, event, partner, "cluster_partner", a)
    content = "\n".join(
        [
            HEADER,
            "p1@example.org,P1,Org,business,IT,,,,business,CEO,,,",
            f"p2@example.org,P2,Org,business,IT,,,{b.name},business,CEO,,,",
        ]
    )
    with pytest.raises(ValidationFailed) as info:
        await import_participants(db, event, partner, content)
    await db.rollback()
    assert info.value.fields == {"row 3: cluster": f"You may import participants into {a_name} only."}
    event = await db.get(Event, event_id)
    partner = await db.get(User, partner_id)
    result = await import_participants(db, event, partner, "\n".join(content.splitlines()[:2]))
    assert [p.cluster_id for p in result.participants] == [a_id]


async def test_import_participants_undoes_formula_defusing(db: AsyncSession) -> None:
    owner = await make_user(db)
    event = await make_event(db, owner)
    content = HEADER + "\nf@example.org,Fay,'=Org,business,IT,,,Nautical,business,'-CEO,,,\n"
    result = await import_participants(db, event, owner, content)
    participant = result.participants[0]
    assert (participant.organisation.name, participant.job_title) == ("=Org", "-CEO")
    await db.commit()
    exported = (await export_participants(db, event, owner)).splitlines()[1]
    assert exported == "f@example.org,Fay,'=Org,business,IT,,,Nautical,business,'-CEO,approved,no,"

"""SMTP_URL parsing, the MIME shape of a mail, and filling the site address into bodies and .ics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar

from clockevents.events.models import Event
from clockevents.notify.jobs import reminder_minutes
from clockevents.notify.mail_models import OutboundMail
from clockevents.notify.outbox import backoff
from clockevents.notify.transport import BASE_URL_MARK, build_message, fill_calendar, smtp_options
from clockevents.settings import Settings

SETTINGS = Settings(
    database_url="sqlite+aiosqlite:///x.db",
    secret_key="k",
    data_dir=Path("/tmp"),
    base_url="https://meet.example.org",
)


def test_smtp_options_plain_with_credentials_and_starttls() -> None:
    assert smtp_options("smtp://ann%40x.org:p%40ss@mail.example.org:587?starttls=1") == {
        "hostname": "mail.example.org",
        "port": 587,
        "use_tls": False,
        "start_tls": True,
        "timeout": 15.0,
        "username": "ann@x.org",
        "password": "p@ss",
    }


def test_smtp_options_smtps_is_implicit_tls_on_465() -> None:
    options = smtp_options("smtps://relay.example.org")
    assert (options["port"], options["use_tls"], options["start_tls"], "username" in options) == (
        465,
        True,
        False,
        False,
    )


def test_smtp_options_unknown_scheme_is_refused() -> None:
    try:
        smtp_options("http://mail.example.org")
    except ValueError as exc:
        assert "smtp://" in str(exc)
    else:
        raise AssertionError("http:// accepted")


def test_fill_calendar_handles_folded_mark() -> None:
    cal = icalendar.Calendar()
    cal.add("method", "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", "meeting-1@clockevents")
    vevent.add("url", f"{BASE_URL_MARK}/meetings/1/room")
    vevent.add("description", "x" * 60 + f" {BASE_URL_MARK}/events/e/agenda")  # folded mid-mark
    cal.add_component(vevent)
    raw = cal.to_ical().decode()
    assert raw.count(BASE_URL_MARK) == 1  # the fold splits the second: a plain replace misses it

    filled = icalendar.Calendar.from_ical(fill_calendar(raw, "https://meet.example.org"))

    event = filled.walk("VEVENT")[0]
    assert str(event["URL"]) == "https://meet.example.org/meetings/1/room"
    assert str(event["DESCRIPTION"]).endswith(" https://meet.example.org/events/e/agenda")


def test_build_message_without_calendar_has_text_and_html_only() -> None:
    mail = OutboundMail(
        id=7, to="ann@example.org", subject="Hi", text=f"See {BASE_URL_MARK}/x", html="<p>Hi</p>", ics=""
    )
    msg = build_message(SETTINGS, mail)
    assert [p.get_content_type() for p in msg.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert msg.get_body(preferencelist=("plain",)).get_content() == "See https://meet.example.org/x\n"
    assert msg["From"] == "clockevents <no-reply@meet.example.org>"


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3, 9)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(hours=1),
    ]


def test_reminder_minutes_default_by_format_or_configured() -> None:
    assert [reminder_minutes(Event(format=f), None) for f in ("virtual", "in_person", "hybrid")] == [
        5,
        15,
        15,
    ]
    assert reminder_minutes(Event(format="virtual"), 30) == 30

"""Turn an outbox row into a MIME message and hand it to SMTP, or to the outbox folder.

``SMTP_URL`` is ``smtp://user:pass@host:port`` (``?starttls=1`` to upgrade), or ``smtps://`` for
implicit TLS. Without it, every mail is written as one ``.eml`` file under
``data_dir/outbox`` and logged in one line, so a developer can read what would have gone out.
"""

from __future__ import annotations

import io
import logging
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from clockevents.db import utcnow
from clockevents.notify.mail_models import OutboundMail
from clockevents.settings import Settings

log = logging.getLogger("clockevents.mail")

SMTP_TIMEOUT = 15.0
# Python folds a long Subject right after "Subject:", which readers unfold into a leading
# space; lines up to RFC 5322's hard limit of 998 need no folding at all.
MAIL_POLICY = policy.default.clone(max_line_length=998)
# On the wire: CRLF and 7-bit (build_message already encodes non-ASCII bodies). aiosmtplib
# would flatten a message object with its own policy (lines of 78), folding long subjects.
WIRE_POLICY = MAIL_POLICY.clone(linesep="\r\n", cte_type="7bit")


def sender_address(settings: Settings) -> str:
    """The From address: ``MAIL_FROM`` (``settings.mail_from``), else no-reply at the site's host."""
    if settings.mail_from:
        return settings.mail_from
    host = urlsplit(settings.base_url).hostname or "localhost"
    if "." not in host:
        host = f"{host}.localdomain"  # a bare host name is not a valid mail domain
    return formataddr(("clockevents", f"no-reply@{host}"))


BASE_URL_MARK = "__CLOCKEVENTS_BASE_URL__"  # the same mark notify.mail writes


def fill_base_url(body: str, base_url: str) -> str:
    """Put the site's address where the composer left its mark."""
    return body.replace(BASE_URL_MARK, base_url.rstrip("/"))


def _fold(line: str) -> str:
    """Fold one content line at 75 octets (RFC 5545, 3.1): never inside a UTF-8 character, and
    never between a backslash and the character it escapes (as the icalendar library does)."""
    pieces: list[str] = []
    piece: list[str] = []
    size, limit = 0, 75
    for char in line:
        octets = len(char.encode())
        if piece and size + octets > limit:
            carry = [piece.pop()] if len(piece) > 1 and piece[-1] == "\\" else []
            pieces.append("".join(piece))
            piece, size, limit = carry, len(carry), 74  # a continuation starts with a space
        piece.append(char)
        size += octets
    pieces.append("".join(piece))
    return "\r\n ".join(pieces)


def fill_calendar(ics: str, base_url: str) -> str:
    """Fill the mark in an .ics: only the content lines that hold it are unfolded, filled and folded again."""
    if BASE_URL_MARK not in ics.replace("\r\n ", ""):
        return ics
    logical: list[list[str]] = []  # each content line as its physical lines
    for physical in ics.split("\r\n"):
        if physical[:1] in (" ", "\t") and logical:
            logical[-1].append(physical)
        else:
            logical.append([physical])
    out = []
    for physicals in logical:
        whole = physicals[0] + "".join(p[1:] for p in physicals[1:])
        if BASE_URL_MARK in whole:
            out.append(_fold(fill_base_url(whole, base_url)))
        else:
            out.append("\r\n".join(physicals))
    return "\r\n".join(out)


def _cte(body: str) -> str | None:
    """Quoted-printable for non-ASCII text, so no relay needs 8BITMIME and nothing is re-encoded
    while sending; ASCII keeps the library's choice (7bit, or QP for very long lines)."""
    return None if body.isascii() else "quoted-printable"


def build_message(settings: Settings, mail: OutboundMail) -> EmailMessage:
    """Compose the MIME message: text and HTML alternatives, plus the iTIP part and attachment.

    The calendar is both an alternative part (``text/calendar; method=...``, which Outlook and
    Gmail turn into accept/decline buttons) and an ``invite.ics`` attachment for the rest.
    """
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = sender_address(settings)
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(idstring=f"mail{mail.id}", domain="clockevents")
    text = fill_base_url(mail.text, settings.base_url)
    msg.set_content(text, cte=_cte(text))
    if mail.html:
        html = fill_base_url(mail.html, settings.base_url)
        msg.add_alternative(html, subtype="html", cte=_cte(html))
    if mail.ics:
        method = mail.ics_method or "PUBLISH"
        ics = fill_calendar(mail.ics, settings.base_url)
        msg.add_alternative(ics, subtype="calendar", params={"method": method}, cte=_cte(ics))
        msg.add_attachment(
            ics, subtype="calendar", filename="invite.ics", params={"method": method}, cte=_cte(ics)
        )
    return msg


def smtp_options(url: str) -> dict[str, object]:
    """The aiosmtplib.send keyword arguments for ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    implicit = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    options: dict[str, object] = {
        "hostname": parts.hostname or "localhost",
        "port": parts.port or (465 if implicit else 25),
        "use_tls": implicit,
        "start_tls": starttls if not implicit else False,
        "timeout": SMTP_TIMEOUT,
    }
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return options


def wire_bytes(msg: EmailMessage) -> bytes:
    """``msg`` as it goes to the SMTP server (``WIRE_POLICY``)."""
    with io.BytesIO() as out:
        BytesGenerator(out, policy=WIRE_POLICY).flatten(msg)
        return out.getvalue()


def _envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    sender = parseaddr(str(msg["From"]))[1]
    recipients = [address for _, address in getaddresses([str(v) for v in msg.get_all("To", [])])]
    return sender, recipients


def _to_folder(settings: Settings, msg: EmailMessage) -> None:
    folder = settings.data_dir / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    ident = str(msg["Message-ID"]).strip("<>").split("@")[0].replace("/", "_")
    path = folder / f"{stamp}-{ident}.eml"
    path.write_bytes(bytes(msg))
    log.info("mail to %s: %s (written to %s)", msg["To"], msg["Subject"], path)


async def send_message(settings: Settings, msg: EmailMessage) -> None:
    """Deliver ``msg`` through SMTP_URL, or write it to the outbox folder; raise on failure."""
    async with Sender(settings) as sender:
        await sender.send(msg)


class Sender:
    """Send many messages over one SMTP connection (``async with Sender(settings) as s: await s.send(m)``).

    A connection (and its TLS handshake and login) per mail would make a published agenda's
    thousands of invitations take an hour through a remote relay. The connection opens at the
    first mail; after a failure it is dropped and the next mail opens a new one, unless the
    server could not be reached at all: then the rest fail at once instead of each waiting for
    its own timeout (they stay queued and are retried later).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None
        self._unreachable: Exception | None = None

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                await smtp.quit()
            except Exception:  # the server went away: nothing left to close politely
                smtp.close()

    async def send(self, msg: EmailMessage) -> None:
        """Deliver ``msg``; raise on failure (the caller keeps the mail for a retry)."""
        if not self.settings.smtp_url:
            _to_folder(self.settings, msg)
            return
        if self._unreachable is not None:
            raise ConnectionError(f"SMTP server unreachable: {self._unreachable}")
        if self._smtp is None:
            smtp = aiosmtplib.SMTP(**smtp_options(self.settings.smtp_url))  # type: ignore[arg-type]
            try:
                await smtp.connect()
            except Exception as exc:
                self._unreachable = exc
                raise
            self._smtp = smtp
        try:
            sender, recipients = _envelope(msg)
            await self._smtp.sendmail(sender, recipients, wire_bytes(msg))
        except Exception:
            await self.close()
            raise

"""Signed, single-purpose, expiring tokens for links sent by e-mail (the follow-up survey).

A token is ``BODY.SIGNATURE``: the body is base64url JSON with the purpose, the ids it is for
and the expiry; the signature is HMAC-SHA256 over the purpose and the body with the app's
``SECRET_KEY``. A token minted for one purpose never passes as another, and changing any id or
the expiry breaks the signature. Single use is the caller's business (a ``used_at`` column).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from clockevents.errors import DomainError

MAX_TOKEN_LENGTH = 600


class BadToken(DomainError):
    """The link is damaged, forged, or meant for something else."""

    status = 400

    def __init__(
        self, message: str = "This link is not valid. Please use the link from your e-mail."
    ) -> None:
        super().__init__(message)


class TokenGone(DomainError):
    """The link was valid once: it has expired or has been used."""

    status = 410


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    ids: dict[str, int]
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, purpose: str, body: str) -> str:
    mac = hmac.new(secret.encode(), f"clockevents:{purpose}:{body}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def make_token(secret: str, purpose: str, ids: dict[str, int], expires_at: datetime) -> str:
    """Sign ``ids`` for ``purpose`` until ``expires_at``."""
    payload = {"p": purpose, "ids": ids, "exp": int(expires_at.timestamp())}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_signature(secret, purpose, body)}"


def read_token(secret: str, purpose: str, token: str, now: datetime) -> TokenClaims:
    """The claims of a token signed for ``purpose``; BadToken if not, TokenGone once expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadToken()
    body, signature = token.split(".")
    if not hmac.compare_digest(signature.encode(), _signature(secret, purpose, body).encode()):
        raise BadToken()
    try:
        payload: Any = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise BadToken() from None
    if not isinstance(payload, dict):
        raise BadToken()
    ids = payload.get("ids")
    exp = payload.get("exp")
    if (
        payload.get("p") != purpose
        or not isinstance(ids, dict)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in ids.values())
        or not isinstance(exp, int)
    ):
        raise BadToken()
    expires_at = datetime.fromtimestamp(exp, UTC)
    if now >= expires_at:
        raise TokenGone("This link has expired.")
    return TokenClaims(purpose, {str(k): int(v) for k, v in ids.items()}, expires_at)

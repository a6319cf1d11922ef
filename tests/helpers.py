"""Helpers for driving the app as a browser or a script would."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from httpx import Response
from litestar.testing import AsyncTestClient

CSRF_FIELD = "_csrf_token"


async def csrf_token(client: AsyncTestClient[Any], page: str = "/login") -> str:
    """Return the CSRF token, fetching a page first if the client has no cookie yet."""
    token = client.cookies.get("csrftoken")
    if not token:
        await client.get(page)
        token = client.cookies.get("csrftoken")
    assert token, "the app did not set a CSRF cookie"
    return token


async def form_post(
    client: AsyncTestClient[Any], url: str, data: dict[str, Any] | list[tuple[str, str]]
) -> Response:
    """POST a form as a browser does: urlencoded, with the CSRF token, not following redirects."""
    token = await csrf_token(client)
    items = list(data.items()) if isinstance(data, dict) else list(data)
    flat: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, list | tuple):
            flat.extend((key, str(v)) for v in value)
        else:
            flat.append((key, str(value)))
    flat.append((CSRF_FIELD, token))
    return await client.post(
        url,
        content=urlencode(flat),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


async def json_post(client: AsyncTestClient[Any], url: str, body: Any) -> Response:
    """POST JSON from a logged-in browser (cookie session: the CSRF header is needed)."""
    token = await csrf_token(client)
    return await client.post(url, json=body, headers={"x-csrftoken": token})


async def signup(
    client: AsyncTestClient[Any], email: str, password: str = "correct-horse-battery", name: str = "Test User"
) -> Response:
    response = await form_post(client, "/signup", {"email": email, "password": password, "name": name})
    assert response.status_code in (302, 303), response.text
    return response


async def login(
    client: AsyncTestClient[Any], email: str, password: str = "correct-horse-battery"
) -> Response:
    response = await form_post(client, "/login", {"email": email, "password": password})
    assert response.status_code in (302, 303), response.text
    return response


async def api_token(client: AsyncTestClient[Any], email: str, password: str = "correct-horse-battery") -> str:
    response = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def field_error(html: str, field: str) -> str | None:
    """The error message shown under a form field, if any."""
    match = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', html)
    return match.group(1) if match else None

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import bearer, csrf_token, field_error, form_post, login, signup

PASSWORD = "correct-horse-battery"


async def test_signup_api_then_token_then_me(client: AsyncTestClient[Any]) -> None:
    created = await client.post(
        "/api/v1/accounts", json={"email": "bo@example.org", "password": PASSWORD, "name": "Bo"}
    )
    assert created.status_code == 201
    assert created.json()["email"] == "bo@example.org"
    token = await client.post("/api/v1/auth/token", json={"email": "bo@example.org", "password": PASSWORD})
    assert token.status_code == 201
    me = await client.get("/api/v1/me", headers=bearer(token.json()["token"]))
    assert me.status_code == 200
    assert me.json()["name"] == "Bo"


async def test_signup_api_missing_fields_give_message_per_field(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/v1/accounts", json={"email": "x"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password", "name"}


async def test_signup_api_wrong_type_is_400_not_500(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/api/v1/accounts", json={"email": 5, "password": [], "name": None})
    assert response.status_code == 400
    response = await client.post(
        "/api/v1/accounts", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_signup_api_duplicate_email_is_409(client: AsyncTestClient[Any]) -> None:
    body = {"email": "dup@example.org", "password": PASSWORD, "name": "Dup"}
    assert (await client.post("/api/v1/accounts", json=body)).status_code == 201
    response = await client.post("/api/v1/accounts", json=body)
    assert response.status_code == 409
    assert response.json()["errors"] == {"email": "Already registered."}


async def test_me_anonymous_is_401(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer("ce_forged"))).status_code == 401


async def test_token_wrong_password_is_400_and_rate_limited(client: AsyncTestClient[Any]) -> None:
    await client.post(
        "/api/v1/accounts", json={"email": "rl@example.org", "password": PASSWORD, "name": "RL"}
    )
    codes = [
        (
            await client.post(
                "/api/v1/auth/token", json={"email": "rl@example.org", "password": "wrong-wrong"}
            )
        ).status_code
        for _ in range(11)
    ]
    assert codes == [400] * 10 + [429]


async def test_signup_page_logs_in_and_shows_name(client: AsyncTestClient[Any]) -> None:
    response = await signup(client, "page@example.org", name="Page Person")
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert "Page Person" in home.text


async def test_signup_page_reshows_typed_values_with_errors(client: AsyncTestClient[Any]) -> None:
    response = await form_post(
        client, "/signup", {"email": "typed@example.org", "password": "short", "name": "Typed"}
    )
    assert response.status_code == 400
    assert field_error(response.text, "password") == "Use at least 10 characters."
    assert 'value="typed@example.org"' in response.text


async def test_form_post_without_csrf_is_refused(client: AsyncTestClient[Any]) -> None:
    await csrf_token(client)
    response = await client.post(
        "/signup", data={"email": "c@example.org", "password": PASSWORD, "name": "C"}
    )
    assert response.status_code == 403


async def test_cookie_json_post_without_csrf_header_is_refused(client: AsyncTestClient[Any]) -> None:
    await signup(client, "cookie@example.org")
    response = await client.post(
        "/api/v1/auth/token", json={"email": "cookie@example.org", "password": PASSWORD}
    )
    assert response.status_code == 403


async def test_logout_revokes_session(client: AsyncTestClient[Any]) -> None:
    await signup(client, "out@example.org")
    assert (await client.get("/api/v1/me")).status_code == 200
    stolen = client.cookies.get("ce_session")
    response = await form_post(client, "/logout", {})
    assert response.status_code in (302, 303)
    client.cookies.set("ce_session", stolen)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_account_page_requires_login_redirects(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/account", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/account"


async def test_api_token_created_on_page_works_then_revoked(client: AsyncTestClient[Any]) -> None:
    await signup(client, "tok@example.org")
    page = await form_post(client, "/account/tokens", {"name": "CRM sync"})
    assert page.status_code == 201 or page.status_code == 200
    import re

    secret = re.search(r'<code class="token" id="new-token">([^<]+)</code>', page.text).group(1)  # type: ignore[union-attr]
    assert (await client.get("/api/v1/me", headers=bearer(secret))).json()["email"] == "tok@example.org"
    listed = (await client.get("/api/v1/me/tokens")).json()
    assert [t["name"] for t in listed] == ["CRM sync"]
    revoke = await form_post(client, f"/account/tokens/{listed[0]['id']}/revoke", {})
    assert revoke.status_code in (302, 303)
    assert (await client.get("/api/v1/me", headers=bearer(secret))).status_code == 401


async def test_login_page_wrong_password_shows_error(
    client: AsyncTestClient[Any], client2: AsyncTestClient[Any]
) -> None:
    await signup(client, "lp@example.org")
    response = await form_post(client2, "/login", {"email": "lp@example.org", "password": "not-the-password"})
    assert response.status_code == 400
    assert field_error(response.text, "email") == "E-mail or password is wrong."
    await login(client2, "lp@example.org")
    assert (await client2.get("/api/v1/me")).json()["email"] == "lp@example.org"


async def test_health_answers_ok(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_openapi_every_route_has_operation_id(client: AsyncTestClient[Any]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    ids = [
        op.get("operationId")
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict)
    ]
    assert ids and all(ids)
    assert len(ids) == len(set(ids))


async def test_security_headers_present(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"

"""Turn every expected failure into a clear 4xx: JSON for the API, a page for the browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template

from clockevents.errors import DomainError


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/health"


def _json(status: int, detail: str, errors: dict[str, str] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=MediaType.JSON)


def _page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    return Template("errors/error.html", context={"status": status, "detail": detail}, status_code=status)  # type: ignore[return-value]


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if wants_json(request):
        return _json(exc.status, exc.message, exc.fields)
    if exc.status == 401:
        return Redirect(f"/login?next={quote(request.url.path)}")  # type: ignore[return-value]
    return _page(request, exc.status, exc.message)


def _field_of(key: str | None) -> str:
    if not key:
        return "body"
    return key.removeprefix("$.").removeprefix("data.") or "body"


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            errors[_field_of(str(item.get("key") or ""))] = str(item.get("message", "Invalid value."))
    detail = "The request is not valid." if errors else (exc.detail or "The request is not valid.")
    if wants_json(request):
        return _json(400, detail, errors)
    return _page(request, 400, detail + (" " + "; ".join(f"{k}: {v}" for k, v in errors.items())))


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        return Redirect(f"/login?next={quote(request.url.path)}")  # type: ignore[return-value]
    if wants_json(request) or exc.status_code >= 500:
        return _json(exc.status_code, exc.detail)
    return _page(request, exc.status_code, exc.detail)


exception_handlers: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
}

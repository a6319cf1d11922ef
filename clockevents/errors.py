"""Domain errors. The web layer maps each to an HTTP status; the CLI to exit code 2."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input is missing or wrong; ``fields`` maps each field to its message."""

    status = 400

    def __init__(
        self, fields: dict[str, str], message: str = "Please correct the highlighted fields."
    ) -> None:
        super().__init__(message, fields)


class NotAuthenticated(DomainError):
    status = 401

    def __init__(self, message: str = "Please log in.") -> None:
        super().__init__(message)


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str = "Too many attempts; please wait and try again.") -> None:
        super().__init__(message)

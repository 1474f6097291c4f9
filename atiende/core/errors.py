"""Errors that services raise and every interface turns into a clear answer."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `code` is machine-readable, the message is for people."""

    status = 409
    code = "refused"

    def __init__(self, message: str, *, code: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class InvalidInput(DomainError):
    """Input that fails validation. `errors` maps field names to messages."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None, **extra: object):
        super().__init__(message, **extra)  # type: ignore[arg-type]  # code=, status= overrides
        self.errors = errors or {}


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class TransitionRefused(DomainError):
    status = 409
    code = "transition_refused"

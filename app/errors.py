"""One error hierarchy: what went wrong (a detail for the caller) and its status.

Framework-free on purpose: services raise these without depending on the web framework. The
HTTP layer maps them: to application/problem+json (RFC 9457) in app/http/problems.py, and to a
Dutch page in app/web/render.py."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.", **extra: Any) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}, **extra
        )


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(AppError):
    """Also the answer for objects of a conference the caller is not in: the detail must be the
    same for "does not exist" and "exists elsewhere", so nothing leaks."""

    status = 404
    title = "Not found"
    type_slug = "not-found"

    def __init__(self, what: str = "resource", *, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or f"No such {what}, {HIDDEN_SUFFIX}", **extra)


HIDDEN_SUFFIX = "or it is not visible to you."


class Conflict(AppError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class InvalidTransition(Conflict):
    title = "Invalid phase transition"
    type_slug = "invalid-transition"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class PreconditionRequired(AppError):
    status = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class UnprocessableEntity(AppError):
    """A well-formed request that breaks a domain rule, optionally pointing at the field."""

    status = 422
    title = "Unprocessable content"
    type_slug = "validation-error"

    def __init__(self, detail: str, *, pointer: str | None = None, **extra: Any) -> None:
        if pointer is not None:
            extra.setdefault("errors", [{"pointer": pointer, "detail": detail}])
        super().__init__(detail, **extra)


class GuardianSignatureMissing(UnprocessableEntity):
    """The agreement of a minor would become signed without a parent's or guardian's signature."""


class TooManyRequests(AppError):
    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extra)

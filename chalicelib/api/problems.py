"""Errors as RFC 9457 ``application/problem+json``.

Services raise these; the routing layer turns each into a response. Nothing else in the code
builds an error response.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

PROBLEM_CONTENT_TYPE = "application/problem+json"


class FieldError(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] | None = None
    problems: list[dict[str, Any]] | None = None


class ApiError(Exception):
    """An error the client caused, with its HTTP status and a human explanation."""

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[FieldError] | None = None,
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.problems = problems

    def problem(self) -> Problem:
        return Problem(
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
            problems=self.problems,
        )


class BadRequestError(ApiError):
    status = 400
    title = "Bad Request"


class UnauthorizedError(ApiError):
    status = 401
    title = "Unauthorized"


class ForbiddenError(ApiError):
    status = 403
    title = "Forbidden"


class NotFoundError(ApiError):
    status = 404
    title = "Not Found"


class ConflictError(ApiError):
    status = 409
    title = "Conflict"


class PayloadTooLargeError(ApiError):
    status = 413
    title = "Payload Too Large"


class UnprocessableError(ApiError):
    status = 422
    title = "Unprocessable Content"


def invalid(path: str, message: str) -> BadRequestError:
    """A 400 for one bad field: ``invalid("email", "not a valid address")``."""
    return BadRequestError(f"{path}: {message}", errors=[FieldError(path=path, message=message)])


def from_validation_error(error: ValidationError, *, prefix: str = "") -> BadRequestError:
    """A 400 listing every field pydantic rejected, with a dotted path to each."""
    errors = []
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        errors.append(FieldError(path=path, message=item["msg"]))
    detail = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors)
    return BadRequestError(detail, errors=errors)

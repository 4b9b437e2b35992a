"""Operations: one declaration per HTTP call, from which come the Chalice route, the access
check, body and query validation, the response shape, the error mapping and the OpenAPI entry.

A handler receives a :class:`Call` and returns a pydantic model (or None for 204); it never
builds a response or an error body itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from chalice.app import Chalice, ChaliceAuthorizer, Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api.auth import Principal, Role
from chalicelib.api.models import MAX_ID_LENGTH
from chalicelib.api.problems import (
    PROBLEM_CONTENT_TYPE,
    ApiError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    UnauthorizedError,
    from_validation_error,
)

logger = Logger(service="flows")

MAX_BODY_BYTES = 1_000_000
# A flow of 15 splits one inside another is ~64 levels of JSON.
MAX_JSON_DEPTH = 64
JSON_TYPES = ["application/json"]
PATCH_TYPES = ["application/json", "application/merge-patch+json"]


@dataclass
class Call:
    """What a handler gets: the caller, the path parameters, and the validated body and query."""

    principal: Principal | None
    params: dict[str, str]
    body: Any
    query: Any
    request: Request
    json: dict[str, Any] = field(default_factory=dict)

    @property
    def tenant_id(self) -> str:
        assert self.principal is not None, "an authenticated operation"
        return self.principal.tenant_id


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Operation:
    """One HTTP call of the API."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: frozenset[Role] | None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: type[BaseModel] | None = None
    content_types: list[str] = field(default_factory=lambda: list(JSON_TYPES))
    errors: tuple[int, ...] = ()
    raw_body: bool = False
    response_content_type: str = "application/json"
    # Path parameters are ids (at most MAX_ID_LENGTH); a signed token is longer.
    max_param_length: int = MAX_ID_LENGTH
    # The OpenAPI ``requestBody`` of an operation that reads its raw body itself (no ``body``
    # model): CSV, a form post.
    request_body: dict[str, Any] | None = None
    # OpenAPI response objects by status, for answers besides ``status`` with ``response``
    # and the problems: a redirect, an image, a page, a 202.
    responses: dict[int, dict[str, Any]] = field(default_factory=dict)


class Api:
    """The list of operations; routes and the OpenAPI document are both made from it."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        access: frozenset[Role] | None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        query: type[BaseModel] | None = None,
        content_types: list[str] | None = None,
        errors: tuple[int, ...] = (),
        responses: dict[int, dict[str, Any]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare an operation. ``access`` None means public (no key); ``responses`` documents
        answers besides ``status`` and the problems (see ``Operation.responses``)."""

        def register(handler: Handler) -> Handler:
            self.add(
                Operation(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=tag,
                    access=access,
                    body=body,
                    response=response,
                    status=status,
                    query=query,
                    content_types=content_types
                    or (PATCH_TYPES if method == "PATCH" else list(JSON_TYPES)),
                    errors=errors,
                    responses=responses or {},
                )
            )
            return handler

        return register

    def add(self, operation: Operation) -> None:
        self.operations.append(operation)

    def mount(self, app: Chalice, authorizer: ChaliceAuthorizer) -> None:
        """Register every operation as a Chalice route on ``app``."""
        for op in self.operations:
            view = _make_view(app, op)
            app.route(
                op.path,
                methods=[op.method],
                authorizer=authorizer if op.access is not None else None,
                content_types=op.content_types,
            )(view)


def _make_view(app: Chalice, op: Operation) -> Callable[..., Response]:
    def view(**params: str) -> Response:
        request = app.current_request
        assert request is not None
        try:
            return _respond(op, op.handler(_call(op, request, params)))
        except ApiError as error:
            return problem_response(error)
        except Exception:
            logger.exception("unhandled error", extra={"operation": f"{op.method} {op.path}"})
            return problem_response(ApiError("An unexpected error occurred."))

    view.__name__ = op.handler.__name__
    return view


def _call(op: Operation, request: Request, params: dict[str, str]) -> Call:
    principal = principal_of(request) if op.access is not None else None
    if op.access is not None:
        if principal is None:
            raise UnauthorizedError("A valid API key is required: Authorization: Bearer <key>.")
        if principal.role not in op.access:
            raise ForbiddenError(f"The role {principal.role.value!r} may not make this call.")
    for name, value in params.items():
        if not is_id(value, op.max_param_length):
            raise NotFoundError(f"No object with this {name}.")
    query = None
    if op.query is not None:
        try:
            query = op.query.model_validate(dict(request.query_params or {}))
        except ValidationError as error:
            raise from_validation_error(error, prefix="query") from error
    body, data = None, {}
    if op.body is not None:
        data = _json_object(request)
        try:
            body = op.body.model_validate(data)
        except ValidationError as error:
            raise from_validation_error(error) from error
    return Call(
        principal=principal, params=params, body=body, query=query, request=request, json=data
    )


def is_id(value: str, max_length: int = MAX_ID_LENGTH) -> bool:
    """Whether ``value`` may name a stored object at all. Ids are made by the server: an empty
    or oversized one names nothing, and DynamoDB refuses such keys outright (a 500, where the
    caller deserves a 400 or 404)."""
    return 0 < len(value) <= max_length


def raw_body(request: Request) -> bytes:
    """The request's body as bytes; 413 past ``MAX_BODY_BYTES``."""
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    return raw


def content_type(request: Request) -> str:
    """The request's media type, lower case, without parameters (``""`` when absent)."""
    headers: Any = request.headers or {}
    value = str(headers.get("content-type") or "")
    return value.split(";")[0].strip().lower()


def _json_object(request: Request) -> dict[str, Any]:
    raw = raw_body(request)
    data = parse_json(raw) if raw.strip() else None
    if not isinstance(data, dict):
        raise BadRequestError("The body must be a JSON object.")
    return data


def parse_json(raw: bytes | str) -> Any:
    """A request body's JSON (RFC 8259: no NaN or Infinity), at most ``MAX_JSON_DEPTH`` arrays
    and objects deep; 400 otherwise. Deeper data would reach no rule of the API and only make
    the validators and serialisers recurse until they fail."""
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError) as error:
        raise BadRequestError(f"The body is not valid JSON: {error}") from error
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise BadRequestError(f"The body nests arrays and objects deeper than {MAX_JSON_DEPTH}.")
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity; JSON (RFC 8259) has no such numbers.
    raise ValueError(f"{constant} is not a JSON value")


def principal_of(request: Request) -> Principal | None:
    """The principal the authorizer put in the request context, or None for an unknown key."""
    context = (request.context or {}).get("authorizer") or {}
    tenant_id, role, key_id = context.get("tenant_id"), context.get("role"), context.get("key_id")
    if not (tenant_id or role == Role.OPERATOR) or not role or not key_id:
        return None
    try:
        return Principal(tenant_id=tenant_id or "", role=Role(role), key_id=key_id)
    except ValueError:
        return None


def _respond(op: Operation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if op.status == 200 else op.status)
    body = result.model_dump_json() if isinstance(result, BaseModel) else json.dumps(result)
    return Response(
        body=body, status_code=op.status, headers={"Content-Type": op.response_content_type}
    )


def problem_response(error: ApiError) -> Response:
    """The problem+json response for an error."""
    return Response(
        body=error.problem().model_dump_json(exclude_none=True),
        status_code=error.status,
        headers={"Content-Type": PROBLEM_CONTENT_TYPE},
    )

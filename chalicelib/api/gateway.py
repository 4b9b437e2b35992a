"""The answers no route of ours makes, as ``application/problem+json`` like every other error.

Three places answer before (or instead of) an operation, each in its own format:

- **API Gateway**, deployed: a request without an ``Authorization`` header (the TOKEN
  authorizer's identity source), an unknown path or method, throttling, a body over its limit.
  ``GATEWAY_ANSWERS`` declares the answer to each of its response types once;
  ``swagger_gateway_responses()`` is its ``x-amazon-apigateway-gateway-responses`` (added to the
  API's definition by ``infra.template.complete``).
- **chalice.local**, which stands in for API Gateway in ``make run`` and the tests: its
  ``LocalGateway`` raises exceptions with API Gateway's default bodies. ``install_local()``
  gives them the deployed answers (local only, like ``chalicelib.moto_speedups``).
- **chalice's own app**, in Lambda too: a method a known path does not have (405), a content
  type the route does not take (415), and any other error chalice builds itself
  (``{"Code", "Message"}``). ``chalice_errors_as_problems`` is an http middleware that turns
  them into problems with the same status and headers.

See docs/decisions/0015-gateway-errors.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from chalice.app import Request, Response

from chalicelib.api.problems import PROBLEM_CONTENT_TYPE, Problem

# API Gateway substitutes the error's message here, already quoted as a JSON string.
MESSAGE_VARIABLE = "$context.error.messageString"
NO_SUCH_OPERATION = "No such operation: check the method and path (see /openapi.json)."


@dataclass(frozen=True)
class GatewayAnswer:
    """What the gateway answers for one of its response types. ``status`` None keeps the status
    API Gateway chose (DEFAULT_4XX and DEFAULT_5XX cover many): the body's title is then
    API Gateway's own message, and the body has no ``status`` (RFC 9457 makes it optional; no
    status variable is documented for gateway response templates: ``$context.status`` is an
    access-log variable)."""

    status: int | None
    detail: str = ""

    def template(self) -> str:
        """The body, as a gateway response template (simple ``$context`` substitution)."""
        if self.status is None:
            placeholder = "__message__"
            body = json.dumps({"type": "about:blank", "title": placeholder}, separators=(",", ":"))
            return body.replace(json.dumps(placeholder), MESSAGE_VARIABLE)
        return self.problem().model_dump_json(exclude_none=True)

    def problem(self) -> Problem:
        """The body of an answer with a fixed status."""
        assert self.status is not None, "DEFAULT_4XX and DEFAULT_5XX have no fixed status"
        return Problem(title=reason(self.status), status=self.status, detail=self.detail)


_AUTHORIZER_DOWN = GatewayAnswer(500, "The API key could not be checked: try again later.")
_NOT_FOUND = GatewayAnswer(404, NO_SUCH_OPERATION)

GATEWAY_ANSWERS: dict[str, GatewayAnswer] = {
    # No Authorization header: API Gateway does not call the authorizer. (A wrong key reaches
    # the route, which answers the same 401: chalicelib/api/routing.py.)
    "UNAUTHORIZED": GatewayAnswer(401, "A valid API key is required: Authorization: Bearer <key>."),
    # An unknown path, or a method its path does not have: API Gateway's 403 "Missing
    # Authentication Token" says nothing of the kind.
    "MISSING_AUTHENTICATION_TOKEN": _NOT_FOUND,
    "RESOURCE_NOT_FOUND": _NOT_FOUND,
    "ACCESS_DENIED": GatewayAnswer(403, "This key may not make this call."),
    "THROTTLED": GatewayAnswer(429, "Too many requests: slow down and try again."),
    "REQUEST_TOO_LARGE": GatewayAnswer(413, "The request is larger than API Gateway accepts."),
    "AUTHORIZER_FAILURE": _AUTHORIZER_DOWN,
    "AUTHORIZER_CONFIGURATION_ERROR": _AUTHORIZER_DOWN,
    "DEFAULT_4XX": GatewayAnswer(None),
    "DEFAULT_5XX": GatewayAnswer(None),
}


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("Not Found"), the title of its problems."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def swagger_gateway_responses() -> dict[str, Any]:
    """``GATEWAY_ANSWERS`` as the API definition's ``x-amazon-apigateway-gateway-responses``."""
    responses: dict[str, Any] = {}
    for response_type, answer in GATEWAY_ANSWERS.items():
        entry: dict[str, Any] = {
            "responseParameters": {
                # A static value is quoted (a bare one names a request parameter).
                "gatewayresponse.header.Content-Type": f"'{PROBLEM_CONTENT_TYPE}'"
            },
            "responseTemplates": {"application/json": answer.template()},
        }
        if answer.status is not None:
            entry["statusCode"] = str(answer.status)
        responses[response_type] = entry
    return responses


# -- chalice's own errors (in Lambda too) -------------------------------------------------------


def chalice_errors_as_problems(
    request: Request, get_response: Callable[[Request], Response]
) -> Response:
    """An http middleware: an error response chalice built itself (its body ``{"Code",
    "Message"}``: 405, 415, ...) becomes a problem with the same status and headers (``Allow``),
    titled by the status's reason phrase, with chalice's message as detail. Our operations'
    answers (JSON text, never a dict) and the UI's pages pass unchanged."""
    response = get_response(request)
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    status = response.status_code
    problem = Problem(title=reason(status), status=status, detail=str(body["Message"]))
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = PROBLEM_CONTENT_TYPE
    return Response(
        body=problem.model_dump_json(exclude_none=True), status_code=status, headers=headers
    )


# -- chalice.local (make run, the tests, bench/) --------------------------------------------------


def install_local() -> None:
    """Make chalice.local's gateway answer as the deployed API Gateway does (``GATEWAY_ANSWERS``).

    ``LocalGateway.handle_request`` raises a ``LocalGatewayException`` (its status ``CODE``,
    ``headers`` and ``body``) where API Gateway would answer itself; chalice's test client and
    local server both send exactly those three. The wrapper raises instead one with the
    deployed answer's status and body, keeping chalice's ``x-amzn-*`` headers. Idempotent.
    Never called in Lambda: its bundle has chalice/app.py only, not chalice/local.py.
    """
    from chalice import local

    handle_request: Any = local.LocalGateway.handle_request
    if getattr(handle_request, "answers_as_deployed", False):
        return

    class GatewayProblemError(local.LocalGatewayException):
        def __init__(self, response_type: str, headers: dict[str, Any]) -> None:
            answer = GATEWAY_ANSWERS[response_type]
            body = answer.template().encode()
            super().__init__(headers | {"Content-Type": PROBLEM_CONTENT_TYPE}, body)
            self.CODE = answer.status or 500

    def response_type(error: Exception) -> str | None:
        if isinstance(error, local.NotAuthorizedError):
            return "UNAUTHORIZED"
        if isinstance(error, local.InvalidAuthorizerError):
            # The authorizer returned no policy; chalice marks it AuthorizerConfigurationException.
            return "AUTHORIZER_CONFIGURATION_ERROR"
        if isinstance(error, local.ForbiddenError):
            # The authorizer's deny, or (marked UnauthorizedException) a route that does not
            # exist, with or without an Authorization header.
            denied = error.headers.get("x-amzn-ErrorType") == "AccessDeniedException"
            return "ACCESS_DENIED" if denied else "MISSING_AUTHENTICATION_TOKEN"
        return None

    def answering_as_deployed(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handle_request(self, *args, **kwargs)
        except local.LocalGatewayException as error:
            found = response_type(error)
            if found is None:
                raise
            raise GatewayProblemError(found, dict(error.headers)) from error

    answering_as_deployed.answers_as_deployed = True  # type: ignore[attr-defined]
    local.LocalGateway.handle_request = answering_as_deployed  # type: ignore[method-assign]

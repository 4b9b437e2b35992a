"""An operation documents answers besides its own status and the problems."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.api.auth import ANY_ROLE
from chalicelib.api.openapi import build_openapi
from chalicelib.api.routing import Api, Call


class Accepted(BaseModel):
    status: str


def test_extra_responses_are_documented_next_to_the_declared_one() -> None:
    api = Api()
    accepted = {"description": "Done in the background", "content": {"application/json": {
        "schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}  # fmt: skip

    @api.operation("POST", "/v1/things/{id}/jobs", summary="s", tag="t", access=ANY_ROLE,
                   response=Accepted, status=201, responses={202: accepted})  # fmt: skip
    def start_job(call: Call) -> Accepted:
        return Accepted(status="ok")

    entry = build_openapi(api, title="t", version="1")["paths"]["/v1/things/{id}/jobs"]["post"]
    assert list(entry["responses"]) == ["201", "202", "401", "403", "404"]
    assert entry["responses"]["202"] == accepted
    # The gateway's own 401 (no Authorization header) is a problem too (chalicelib/api/gateway.py).
    assert set(entry["responses"]["401"]["content"]) == {"application/problem+json"}

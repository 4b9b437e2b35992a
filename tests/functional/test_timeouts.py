"""Timeouts after the call took effect, on the writes around an outside effect (issue 9's
fault harness found both): the claim's own write, and PynamoDB errors without a response."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ReadTimeoutError
from pynamodb.exceptions import PutError

from chalicelib.engine import worker
from chalicelib.engine.runtime import runtime
from chalicelib.store import records
from tests.functional.engine_kit import Engine
from tests.functional.test_engine_faults import (
    Scripts,
    Tenant,
    _effect_then_wait,
    _next_step_message,
)


@contextmanager
def timing_out_once(when: Callable[[str, dict[str, Any]], bool]) -> Iterator[list[str]]:
    """The first AWS call for which ``when(operation, params)`` holds takes effect, then its
    answer is lost (a read timeout)."""
    real = BaseClient._make_api_call
    fired: list[str] = []

    def call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        result = real(self, operation, params)
        if not fired and when(operation, params):
            fired.append(operation)
            raise ReadTimeoutError(endpoint_url="https://dynamodb.test")
        return result

    BaseClient._make_api_call = call  # type: ignore[method-assign]
    try:
        yield fired
    finally:
        BaseClient._make_api_call = real  # type: ignore[method-assign]


@pytest.fixture
def scripts(engine: Engine) -> Scripts:
    runtime.scripts = fake = Scripts()
    return fake


def test_a_conditional_write_that_timed_out_raises_its_own_error(
    chalice_client: Any, engine: Engine
) -> None:
    """PynamoDB's cause_response_code raised AttributeError for a timeout (no response)."""
    t = Tenant.new(chalice_client)
    with timing_out_once(lambda op, params: op == "PutItem") as fired, pytest.raises(PutError):
        records.claim(t.tenant_id, "scope", "value", "owner")
    assert fired == ["PutItem"]


def test_a_claim_whose_answer_was_lost_is_read_back_and_the_effect_runs_once(
    chalice_client: Any, engine: Engine, scripts: Scripts
) -> None:
    t = Tenant.new(chalice_client)
    flow_id = _effect_then_wait(t)
    pid = t.enrol(flow_id)
    body = json.loads(_next_step_message()["Body"])

    def the_claim(operation: str, params: dict[str, Any]) -> bool:
        item = params.get("Item") or {}
        return operation == "PutItem" and '"claimed"' in str(item.get("data"))

    with timing_out_once(the_claim) as fired:
        worker.run_step(body)
    assert fired == ["PutItem"]
    assert len(scripts.effects) == 1  # before: the claim stayed, and the script never ran
    assert t.participant(flow_id, pid).step_id == "w"

"""Automatic pause (issue 9): a flow whose recent participants fail a step too often pauses
itself, says why, and tells its owner; a resume starts the count afresh."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.engine.outcomes import PermanentStepError
from chalicelib.engine.runtime import runtime
from tests.functional.engine_fixtures import World

ARN = "arn:aws:lambda:us-east-1:123456789012:function:broken"


class BrokenScripts:
    """A script runner whose every start is refused (the step fails for good)."""

    def __init__(self) -> None:
        self.broken = True

    def invoke(self, function_arn: str, payload: dict[str, Any]) -> str:
        if self.broken:
            raise PermanentStepError("the function was deleted")
        return "req"

    def call(self, function_arn: str, payload: dict[str, Any], timeout_s: float) -> Any:
        return None


def test_a_failing_flow_pauses_itself_and_tells_its_owner(world: World) -> None:
    runtime.scripts = scripts = BrokenScripts()
    owner = world.http.post("/v1/associates", {"name": "Olga"}).json["id"]
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    steps = [{"id": "run", "type": "run_script", "settings": {"script_id": script}}]
    rule = {"failure_rate": 0.2, "min_failures": 3, "window": "PT6H"}
    flow = world.flow(steps, owner_id=owner, auto_pause=rule)
    contacts = [world.contact() for _ in range(5)]
    for contact in contacts:
        world.enrol(flow, contact)
    world.engine.drain()

    got = world.http.get(f"/v1/flows/{flow}").json
    assert got["status"] == "paused"
    reason = got["paused_reason"]
    assert (reason["type"], reason["failed"], reason["enrolled"]) == ("step_failures", 3, 5)
    assert "paused itself" in reason["detail"]
    by_status = world.stats(flow)["by_status"]
    assert by_status["dropped_out"] == 3
    assert by_status["active"] == 2  # parked where they stood
    [note] = world.http.get(f"/v1/associates/{owner}/notifications").json["items"]
    assert "paused itself" in note["text"]

    # The script is mended; a resume counts from now, and the rest go through.
    scripts.broken = False
    world.lifecycle(flow, "start")
    assert world.http.get(f"/v1/flows/{flow}").json["paused_reason"] is None
    world.engine.drain()
    assert world.stats(flow)["by_status"]["finished"] == 2
    world.check(flow)


def test_a_few_failures_do_not_pause_and_the_rule_can_be_off(world: World) -> None:
    runtime.scripts = BrokenScripts()
    script = world.http.post("/v1/scripts", {"name": "s", "function_arn": ARN}).json["id"]
    steps = [{"id": "run", "type": "run_script", "settings": {"script_id": script}}]
    below = world.flow(steps, auto_pause={"min_failures": 3})
    off = world.flow(steps, auto_pause={"enabled": False, "min_failures": 1})
    for flow in (below, off):
        for _ in range(2 if flow == below else 4):
            world.enrol(flow, world.contact())
    world.engine.drain()
    assert world.http.get(f"/v1/flows/{below}").json["status"] == "running"
    assert world.http.get(f"/v1/flows/{off}").json["status"] == "running"
    bad = world.http.post("/v1/flows", {"name": "x", "auto_pause": {"failure_rate": 0}})
    assert bad.status == 400
    problems = world.http.post("/v1/flows", {"name": "x", "owner_id": "asc_nope"}).json["problems"]
    assert [p["path"] for p in problems] == ["owner_id"]


def test_an_enrolment_does_not_fail_for_its_health_counter(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    real = BaseClient._make_api_call

    def throttled_counter(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        key = str(params.get("Key", {}).get("pk", {}).get("S", ""))
        if operation == "UpdateItem" and "#health#" in key:
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
            raise ClientError({"Error": error}, operation)
        return real(self, operation, params)

    flow = world.flow([{"id": "w", "type": "wait_time", "settings": {"duration": "P1D"}}])
    monkeypatch.setattr(BaseClient, "_make_api_call", throttled_counter)
    world.enrol(flow, world.contact())  # 201, though its count did not go in
    assert len(world.everyone(flow)) == 1


def test_a_start_through_the_api_counts_failures_from_the_engines_clock(world: World) -> None:
    """The API's lifecycle calls and the workers keep one time: the engine's clock. (The API
    used the wall clock, so once the wall clock passed the tests' fake one, a started flow
    counted no failure as recent and never paused itself.)"""
    from chalicelib.clock import iso
    from chalicelib.store import flows as flow_store

    world.engine.clock.advance(days=-400)  # far from the wall clock
    flow = world.flow([{"id": "w", "type": "wait_time", "settings": {"duration": "P1D"}}])
    found = flow_store.get(world.tenant_id, flow)
    assert found is not None
    assert found.data["health_since"] == iso(world.engine.clock.now)

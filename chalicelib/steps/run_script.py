"""Run script: invoke a script with the participant, without waiting for it (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.api.models import Id
from chalicelib.engine.outcomes import Outcome, RunContext, done, skipped
from chalicelib.engine.runtime import runtime
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import records


class Settings(StepSettings):
    script_id: Id | None = None


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.script_id:
        yield missing("script_id", "choose a script to run")
    yield from ctx.ref("script", settings.script_id, "settings.script_id")


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Start the script with the participant, contact and flow, and go on at once."""
    script = records.get(ctx.participant.tenant_id, "script", settings.script_id or "")
    if script is None:
        return skipped("no_script")
    p = ctx.participant
    payload = {
        "tenant_id": p.tenant_id,
        "flow": {"id": p.flow_id, "name": ctx.flow.name},
        "participant": {"id": p.participant_id, "step_id": ctx.step.id, "seq": p.seq},
        "contact": ctx.facts.contact,
    }
    ctx.outside()
    request_id = runtime.scripts.invoke(script.data["function_arn"], payload)
    return done(script_id=script.id, request_id=request_id)


STEP = StepType("run_script", Settings, check, run=run, outside_effect=True)

"""Run script: invoke a script with the participant, without waiting for it (SPEC.md §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing


class Settings(StepSettings):
    script_id: str | None = None


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.script_id:
        yield missing("script_id", "choose a script to run")
    yield from ctx.ref("script", settings.script_id, "settings.script_id")


STEP = StepType("run_script", Settings, check)

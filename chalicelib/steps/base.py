"""The interface every step type implements.

A step type is a module holding ``Settings`` (a pydantic model: wrong JSON types are a 400, but
every field may be missing, since a flow with gaps can still be saved) and
``check(ctx, settings, step)``, which yields the :class:`Issue` s that become the flow's
``problems``.
The module ends with ``STEP = StepType(...)`` and ``steps.registry`` lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from chalicelib.api.models import ApiModel

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem of a step: where in its settings, what is wrong, and how bad."""

    path: str
    message: str
    severity: Severity = "error"


class StepSettings(ApiModel):
    """Base of every step type's settings."""


class CheckContext(Protocol):
    """What a step's checks may look at: the flow around it and the tenant's objects."""

    @property
    def flow(self) -> Any:
        """The flow definition (``flows.definition.FlowDefinition``)."""

    def ref(self, kind: str, object_id: str | None, path: str) -> Iterator[Issue]:
        """An issue when ``object_id`` is set and no ``kind`` of that id exists in the tenant."""

    def tags(self, text: str | None, path: str) -> Iterator[Issue]:
        """An issue for each unknown merge tag in ``text``."""

    def extra_field_types(self) -> dict[str, str]:
        """The tenant's extra fields: name -> declared type."""

    def attachment_size(self, key: str) -> int | None:
        """The size in bytes of an attachment object, or None when it does not exist."""


Check = Callable[[CheckContext, Any, Any], Iterable[Issue]]
"""``check(ctx, settings, step)``: ``step`` is the whole ``flows.definition.Step`` (a split's
branches live beside its settings)."""


Run = Callable[[Any, Any], Any]
"""``run(ctx: engine.outcomes.RunContext, settings) -> engine.outcomes.Outcome``."""


def no_checks(ctx: CheckContext, settings: Any, step: Any) -> Iterable[Issue]:
    return ()


@dataclass(frozen=True)
class StepType:
    """A step type as the registry lists it.

    ``holds_participants``: participants can stand on it for a while (waits, splits), so a paused
    flow may not remove or move it while they do. ``sends_email``: needs the flow's sender and
    reply-to. ``run(ctx, settings) -> Outcome`` moves a participant (``engine.outcomes``);
    ``sends_message``: waits for the flow's send window; ``outside_effect``: the worker claims
    the journal before running it, so the effect happens at most once.
    """

    name: str
    settings: type[StepSettings]
    check: Check = no_checks
    holds_participants: bool = False
    sends_email: bool = False
    has_branches: bool = False
    run: Run | None = None
    sends_message: bool = False
    outside_effect: bool = False

    def parse(self, settings: dict[str, Any]) -> BaseModel:
        return self.settings.model_validate(settings)


def missing(path: str, message: str) -> Issue:
    return Issue(path=f"settings.{path}", message=message)

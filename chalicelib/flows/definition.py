"""The flow definition: a tree of steps plus the flow's settings (API.md "Flows").

What a client PUTs. Wrong JSON types, unknown step types and duplicate step ids make it
meaningless and are a 400; anything merely missing or dangling is a *problem*
(``flows.validation``) and the flow can still be saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model, field_validator, model_validator

from chalicelib.api.models import ApiModel, Id
from chalicelib.clock import time_zones
from chalicelib.flows.rules import Rule
from chalicelib.ids import new_id
from chalicelib.steps.base import StepSettings, StepType
from chalicelib.steps.durations import Duration
from chalicelib.steps.registry import STEP_TYPES
from chalicelib.steps.split import Condition
from chalicelib.store.flows import MAX_TRIGGER_KEYS
from chalicelib.tenants.models import HHMM, WORKDAYS, Weekday

STEP_ID = r"^[A-Za-z0-9_-]{1,64}$"
READ_ONLY = (
    "id",
    "status",
    "version",
    "created_at",
    "updated_at",
    "problems",
    "stats",
    "paused_reason",
)

TriggerType = Literal[
    "contact_created",
    "contact_updated",
    "sale_created",
    "sale_sold",
    "sale_lost",
    "added_to_project",
    "added_to_selection",
    "request_created",
    "form_submitted",
    "link_clicked",
]
# The target a trigger (or success criterion) of each type names, and that target's kind.
TARGETS: dict[str, tuple[str, str]] = {
    "added_to_project": ("project_id", "project"),
    "added_to_selection": ("selection_id", "selection"),
    "form_submitted": ("form_id", "form"),
    "link_clicked": ("link_id", "link"),
}


class Trigger(ApiModel):
    type: TriggerType
    form_id: Id | None = None
    link_id: Id | None = None
    selection_id: Id | None = None
    project_id: Id | None = None

    @property
    def target(self) -> str | None:
        """The id this trigger listens on (a form, link, selection, project), if any."""
        key = TARGETS.get(self.type, ("", ""))[0]
        return getattr(self, key) if key else None


class Sender(ApiModel):
    type: Literal["specified", "our_contact", "our_service_contact"]
    address: str | None = None
    name: str | None = None
    fallback_address: str | None = Field(
        None, description="our_contact/our_service_contact: used when the associate has none"
    )


class ReplyTo(ApiModel):
    type: Literal["specified", "our_contact", "our_service_contact", "from", "none"]
    address: str | None = None


class EmailSettings(ApiModel):
    from_: Sender | None = Field(None, alias="from")
    reply_to: ReplyTo | None = None
    subscription: str | None = None

    # The API names the field "from": answers must say so too, not the Python name "from_".
    model_config = ApiModel.model_config | {"populate_by_name": True, "serialize_by_alias": True}


class SendWindow(ApiModel):
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS), min_length=1)
    start: str = Field("09:00", pattern=HHMM)
    end: str = Field("17:00", pattern=HHMM)


SuccessType = Literal[
    "contact_updated",
    "sale_created",
    "follow_up_created",
    "request_created",
    "added_to_selection",
    "added_to_project",
    "form_submitted",
    "link_clicked",
]


class Criterion(ApiModel):
    type: SuccessType
    rule: Rule | None = Field(None, description="contact_updated: the field rule to meet")
    selection_id: Id | None = None
    project_id: Id | None = None
    form_id: Id | None = None
    link_id: Id | None = None


class Success(ApiModel):
    criteria: list[Criterion] = Field(default_factory=list)
    jump_to_finish: bool = False


class Finish(ApiModel):
    on_success_flow_id: Id | None = None
    otherwise_flow_id: Id | None = None


class AutoPause(ApiModel):
    """Pause the flow by itself when too many recent participants drop out because a step
    failed (``step_failed``): more than ``failure_rate`` of those enrolled within ``window``,
    and at least ``min_failures`` of them."""

    enabled: bool = True
    failure_rate: float = Field(0.1, gt=0, le=1)
    min_failures: int = Field(5, ge=1, le=1_000_000)
    window: Duration = Field("P1D", description="ISO 8601; how far back 'recent' reaches")


class Branch(ApiModel):
    id: str | None = Field(None, pattern=STEP_ID, description="stable across edits; server-made")
    name: str = Field("", max_length=200)
    condition: Condition | None = None
    steps: list[AnyStep] = Field(default_factory=list)


class EveryoneElse(ApiModel):
    exit: bool = False
    steps: list[AnyStep] = Field(default_factory=list)


class SmsSegments(BaseModel):
    encoding: str
    count: int


class Step(ApiModel):
    """What every step has. Each step type gets a subclass with ``type`` fixed and ``settings``
    of its own model (see ``_step_model``), so a bad setting is a 400 with an exact path and the
    OpenAPI document shows every type's settings."""

    id: str | None = Field(None, pattern=STEP_ID, description="stable across edits; server-made")
    type: str
    settings: StepSettings
    branches: list[Branch] | None = Field(None, description="split only")
    everyone_else: EveryoneElse | None = Field(None, description="split only")
    segments: SmsSegments | None = Field(
        None, description="read-only: the SMS segment count of the step's text"
    )

    @model_validator(mode="after")
    def _branches_only_on_splits(self) -> Step:
        if not STEP_TYPES[self.type].has_branches and (
            self.branches is not None or self.everyone_else is not None
        ):
            raise ValueError(f"a {self.type} step has no branches")
        return self


def _step_model(step_type: StepType) -> type[Step]:
    camel = "".join(part.title() for part in step_type.name.split("_"))
    # Every module calls its model ``Settings``: name each after its type for the schema.
    settings: type[StepSettings] = create_model(f"{camel}Settings", __base__=step_type.settings)
    fields: dict[str, Any] = {
        "type": (Literal[step_type.name], ...),
        "settings": (settings, Field(default_factory=settings)),
    }
    if step_type.has_branches:
        fields["branches"] = (list[Branch], Field(default_factory=list))
        fields["everyone_else"] = (EveryoneElse, Field(default_factory=EveryoneElse))
    model: type[Step] = create_model(f"{camel}Step", __base__=Step, **fields)
    return model


STEP_MODELS: dict[str, type[Step]] = {name: _step_model(t) for name, t in STEP_TYPES.items()}
if TYPE_CHECKING:
    AnyStep = Step
else:
    AnyStep = Annotated[Union[tuple(STEP_MODELS.values())], Field(discriminator="type")]  # noqa: UP007
_models: list[type[BaseModel]] = [Branch, EveryoneElse, *STEP_MODELS.values()]
for _model in _models:
    _model.model_rebuild()


class FlowDefinition(ApiModel):
    """Everything a client may write about a flow (read-only fields it sends back are ignored)."""

    model_config = ApiModel.model_config | {"populate_by_name": True}

    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    timezone: str | None = Field(None, description="IANA name; needed by a send window")
    # Each trigger is a trigger index entry, rewritten in the lifecycle's one transaction.
    triggers: list[Trigger] = Field(default_factory=list, max_length=MAX_TRIGGER_KEYS)
    filter: list[Rule] = Field(default_factory=list)
    exclusion_selection_ids: list[Id] = Field(default_factory=list)
    start_only_once: bool = False
    remove_from_flow_ids: list[Id] = Field(default_factory=list)
    email_settings: EmailSettings = Field(default_factory=EmailSettings)
    send_window: SendWindow | None = None
    sms_sender: str | None = None
    success: Success = Field(default_factory=Success)
    finish: Finish = Field(default_factory=Finish)
    auto_pause: AutoPause = Field(default_factory=AutoPause)
    owner_id: Id | None = Field(None, description="the associate told when the flow pauses itself")
    steps: list[AnyStep] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in READ_ONLY}
        return data

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in time_zones():
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> FlowDefinition:
        seen: set[str] = set()
        for step in walk(self.steps):
            if step.id is not None:
                if step.id in seen:
                    raise ValueError(f"duplicate step id {step.id!r}")
                seen.add(step.id)
        branch_ids = [b.id for s in walk(self.steps) for b in s.branches or [] if b.id]
        if len(branch_ids) != len(set(branch_ids)):
            raise ValueError("duplicate branch id")
        return self

    def assign_ids(self) -> None:
        """Give every step and branch without an id a new one."""
        for step in walk(self.steps):
            if step.id is None:
                step.id = new_id("s")
            for branch in step.branches or []:
                if branch.id is None:
                    branch.id = new_id("b")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def walk(steps: list[Step]) -> Iterator[Step]:
    """Every step of a tree, depth first, in flowchart order."""
    for step in steps:
        yield step
        for branch in step.branches or []:
            yield from walk(branch.steps)
        if step.everyone_else is not None:
            yield from walk(step.everyone_else.steps)


def positions(steps: list[Step], parent: str = "") -> Iterator[tuple[Step, str, int]]:
    """Each step with the list it stands in (``""`` for the top, else ``<split>/<branch>``)
    and its index there."""
    for index, step in enumerate(steps):
        yield step, parent, index
        for branch in step.branches or []:
            yield from positions(branch.steps, f"{step.id}/{branch.id}")
        if step.everyone_else is not None:
            yield from positions(step.everyone_else.steps, f"{step.id}/everyone_else")

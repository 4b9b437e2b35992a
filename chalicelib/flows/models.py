"""Response models of flows (the definition itself is ``flows.definition``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from chalicelib.api.pagination import ListQuery
from chalicelib.flows.definition import FlowDefinition
from chalicelib.flows.lifecycle import FlowStatus
from chalicelib.flows.validation import FlowProblem


class FlowStats(BaseModel):
    enrolled: int = 0
    in_progress: int = 0
    completed: int = 0
    succeeded: int = 0
    success_rate: float = 0.0
    by_status: dict[str, int] = Field(default_factory=dict)


class Flow(FlowDefinition):
    """A flow as the API answers it: the definition plus what the server keeps."""

    id: str
    status: FlowStatus
    version: int
    created_at: str
    updated_at: str
    problems: list[FlowProblem] = Field(default_factory=list)
    stats: FlowStats | None = Field(
        default_factory=FlowStats,
        description="counted on GET; null in the answers of start, pause and end",
    )
    paused_reason: dict[str, Any] | None = Field(
        None, description="why a paused flow paused itself (auto_pause); null otherwise"
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        return data  # an answer keeps them


class FlowVersionInfo(BaseModel):
    version: int
    saved_at: str
    name: str


class FlowVersionOut(BaseModel):
    version: int
    saved_at: str
    definition: FlowDefinition


class FlowListQuery(ListQuery):
    status: FlowStatus | None = Field(None, description="only flows in this status")

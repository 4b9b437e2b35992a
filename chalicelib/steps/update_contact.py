"""Update contact: change fields of the contact or its company (SPEC.md §5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.crm.fields import NOT_UPDATABLE, UPDATE_ACTIONS, field_type
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing

Action = Literal[
    "set", "clear", "search_replace", "regex_replace", "check", "uncheck", "toggle", "select",
    "add", "remove",
]  # fmt: skip
REPLACE_ACTIONS = frozenset({"search_replace", "regex_replace"})
VALUE_ACTIONS = frozenset({"set", "select", "add", "remove"}) | REPLACE_ACTIONS


class Replacement(ApiModel):
    search: str | None = Field(None, description="text, or a regular expression for regex_replace")
    replace: str = ""


class ContactUpdate(ApiModel):
    field: str | None = Field(None, description="<name>, company.<name> or extra.<name>")
    action: Action | None = None
    value: str | int | float | Replacement | None = Field(
        None, description='search_replace/regex_replace: {"search", "replace"}'
    )


class Settings(StepSettings):
    updates: list[ContactUpdate] = Field(default_factory=list)


def check(ctx: CheckContext, settings: Settings, step: Any) -> Iterator[Issue]:
    if not settings.updates:
        yield missing("updates", "the step updates no fields")
    for index, row in enumerate(settings.updates):
        yield from _row(ctx, row, f"settings.updates[{index}]")


def _row(ctx: CheckContext, row: ContactUpdate, path: str) -> Iterator[Issue]:
    kind = field_type(row.field or "", ctx.extra_field_types(), scope="update")
    if kind is None:
        problem = f"unknown field {row.field!r}" if row.field else "the row names no field"
        yield Issue(f"{path}.field", problem)
    elif row.field in NOT_UPDATABLE:
        yield Issue(f"{path}.field", f"{row.field!r} cannot be changed by a flow")
    if row.action is None:
        yield Issue(f"{path}.action", "the row has no action")
    elif kind is not None and row.action not in UPDATE_ACTIONS[kind]:
        yield Issue(f"{path}.action", f"action {row.action!r} does not apply to a {kind} field")
    value = row.value
    if row.action in REPLACE_ACTIONS:
        if not isinstance(value, Replacement) or not value.search:
            yield Issue(f"{path}.value", f'{row.action} needs a value {{"search", "replace"}}')
        elif row.action == "regex_replace":
            try:
                re.compile(value.search)
            except re.error as error:
                yield Issue(f"{path}.value.search", f"not a valid regular expression: {error}")
    elif row.action in VALUE_ACTIONS:
        if value is None:
            yield Issue(f"{path}.value", f"{row.action} needs a value")
        elif kind and not isinstance(value, (int, float) if kind == "number" else str):
            yield Issue(f"{path}.value", f"the value does not fit a {kind} field")
    text = value.replace if isinstance(value, Replacement) else value
    if isinstance(text, str):
        yield from ctx.tags(text, f"{path}.value")


STEP = StepType("update_contact", Settings, check)

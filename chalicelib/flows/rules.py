"""Field rules: ``{"field": "contact.category", "op": "eq", "value": "Lead"}``.

Used by a flow's filter, ``contact_data``/``form_data`` splits and the ``contact_updated``
success criterion. Evaluation comes with the engine; here are the shape and the save checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.crm.fields import field_type
from chalicelib.steps.base import CheckContext, Issue

Op = Literal[
    "eq",
    "ne",
    "contains",
    "not_contains",
    "starts_with",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "is_empty",
    "is_not_empty",
]
NO_VALUE_OPS = frozenset({"is_empty", "is_not_empty"})
ORDER_OPS = frozenset({"gt", "gte", "lt", "lte"})
OPS_BY_TYPE: dict[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "contains", "not_contains", "starts_with", "in"}),
    "number": frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in"}),
    "date": frozenset({"eq", "ne", "gt", "gte", "lt", "lte"}),
    "bool": frozenset({"eq", "ne"}),
    "list": frozenset({"eq", "ne", "in"}),
    "multi": frozenset({"contains", "not_contains"}),
}


class Rule(ApiModel):
    field: str = Field(..., min_length=1, description="contact.<f>, company.<f>, contact.extra.<f>")
    op: Op
    value: Any = None


def check_rules(
    ctx: CheckContext, rules: list[Rule], path: str, *, form_fields: bool = False
) -> Iterator[Issue]:
    """Unknown fields, operators that do not fit the field's type, missing values."""
    for index, rule in enumerate(rules):
        where = f"{path}[{index}]"
        if rule.op not in NO_VALUE_OPS and rule.value is None:
            yield Issue(f"{where}.value", f"the rule on {rule.field!r} has no value")
        if form_fields:
            continue
        kind = field_type(rule.field, ctx.extra_field_types(), scope="rule")
        if kind is None:
            yield Issue(f"{where}.field", f"unknown field {rule.field!r}")
        elif rule.op not in OPS_BY_TYPE[kind] | NO_VALUE_OPS:
            yield Issue(f"{where}.op", f"{rule.op!r} does not apply to a {kind} field")

"""Update contact: change fields of the contact or its company (SPEC.md §5)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import date
from typing import Any, Literal

from pydantic import Field

from chalicelib.api.models import ApiModel
from chalicelib.clock import iso
from chalicelib.crm.fields import NOT_UPDATABLE, UPDATE_ACTIONS, field_type
from chalicelib.engine.outcomes import Outcome, RunContext, done, skipped
from chalicelib.messaging.merge_tags import render, values_for
from chalicelib.messaging.phones import InvalidPhoneError, to_e164
from chalicelib.steps.base import CheckContext, Issue, StepSettings, StepType, missing
from chalicelib.store import records
from chalicelib.store.base import Write
from chalicelib.store.records import Record

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


def run(ctx: RunContext, settings: Settings) -> Outcome:
    """Apply every row to the contact (or its company) in the step's transaction; rows that
    do not fit the field (a problem on save) or would store an invalid value are skipped.
    This does not fire ``contact_updated``."""
    contact_record, company_record = ctx.facts.contact_record, ctx.facts.company_record
    if contact_record is None:
        return skipped("no_contact")
    extra_types = {
        d["name"]: d["type"]
        for d in (r.data for r in _extra_field_records(ctx.participant.tenant_id))
    }
    contact = copy.deepcopy(contact_record.data)
    company = copy.deepcopy(company_record.data) if company_record else None
    tags = values_for(
        contact_record.data, ctx.facts.company, ctx.facts.associate(contact.get("owner_id"))
    )
    changed: list[str] = []
    for row in settings.updates:
        kind = field_type(row.field or "", extra_types, scope="update")
        if kind is None or row.field in NOT_UPDATABLE or row.action not in UPDATE_ACTIONS[kind]:
            continue
        on_company = (row.field or "").startswith("company.")
        target = company if on_company else contact
        if target is None:
            continue
        path = (row.field or "").removeprefix("company.")
        if path.startswith("extra."):
            target = target.setdefault("extra_fields", {})
            path = path.removeprefix("extra.")
        before = _get(target, path)
        after = _apply(kind, row.action or "", before, _rendered(row.value, tags))
        if after is _INVALID or after == before:
            continue
        if path == "mobile_phone" and after:
            try:
                after = to_e164(str(after), None if str(after).startswith("+") else _region(ctx))
            except InvalidPhoneError:
                continue
        _set(target, path, after)
        changed.append(row.field or "")
    if not changed:
        return skipped("nothing_changed")
    now = iso(ctx.now)
    tenant_id = ctx.participant.tenant_id
    writes = [_replace(tenant_id, "contact", contact_record, contact, now)]
    if company_record is not None and company is not None and company != company_record.data:
        writes.append(_replace(tenant_id, "company", company_record, company, now))
    return done(*writes, fields=changed, activity={"type": "fields_changed", "fields": changed})


_INVALID = object()


def _apply(kind: str, action: str, before: Any, value: Any) -> Any:
    if action == "clear":
        return [] if kind == "multi" else None
    if action in ("set", "select"):
        if kind == "number" and not (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return _INVALID
        if kind == "date" and not _is_date(value):
            return _INVALID
        return value if kind == "number" else str(value)
    if action in ("check", "uncheck", "toggle"):
        return {"check": True, "uncheck": False}.get(action, not bool(before))
    if action in ("add", "remove"):
        items = list(before or [])
        if action == "add" and value not in items:
            items.append(str(value))
        if action == "remove":
            items = [i for i in items if i != value]
        return items
    if action in REPLACE_ACTIONS and isinstance(value, Replacement) and value.search:
        text = str(before or "")
        if action == "search_replace":
            return text.replace(value.search, value.replace)
        try:
            return re.sub(value.search, value.replace, text)
        except re.error:
            return _INVALID
    return _INVALID


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _rendered(value: Any, tags: dict[str, str]) -> Any:
    if isinstance(value, str):
        return render(value, tags)
    if isinstance(value, Replacement):
        return Replacement(search=value.search, replace=render(value.replace, tags))
    return value


def _get(target: dict[str, Any], path: str) -> Any:
    node: Any = target
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _replace(tenant_id: str, kind: str, current: Record, data: dict[str, Any], now: str) -> Write:
    updated = Record(id=current.id, data=data | {"updated_at": now}, version=current.version + 1)
    return records.replace_write(tenant_id, kind, updated, expected_version=current.version)


def _extra_field_records(tenant_id: str) -> list[Record]:
    found, _ = records.list_page(tenant_id, "extra_field", limit=1000, after=None)
    return found


def _region(ctx: RunContext) -> str | None:
    from chalicelib.tenants.service import get_settings_of

    return get_settings_of(ctx.participant.tenant_id).default_phone_region


STEP = StepType("update_contact", Settings, check, run=run)

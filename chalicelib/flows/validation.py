"""A flow's problems: everything that would make it misbehave, found on every save.

Problems never refuse a save; those of severity ``error`` refuse a start (422). Each step type
checks its own settings (``steps/<type>.check``); this module checks the flow around them and
gives the checks a :class:`TenantContext` to look things up in the tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.aws import client
from chalicelib.crm.resources import EXTRA_FIELD
from chalicelib.flows.definition import TARGETS, FlowDefinition, Step, walk
from chalicelib.flows.overlap import trigger_overlaps
from chalicelib.flows.rules import check_rules
from chalicelib.messaging.merge_tags import unknown_tags
from chalicelib.settings import get_settings
from chalicelib.steps.base import Issue
from chalicelib.steps.registry import STEP_TYPES
from chalicelib.store import flows as flow_store
from chalicelib.store import records
from chalicelib.tenants import sender_domains

MAX_S3_KEY_BYTES = 1024


class FlowProblem(BaseModel):
    step_id: str | None
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"


def s3_object_size(key: str) -> int | None:
    """The size of an attachment in the product's bucket, or None when it is not there."""
    if not 1 <= len(key.encode()) <= MAX_S3_KEY_BYTES:
        return None  # no object can have this key, and S3 (botocore, for "") refuses the call
    try:
        head = client("s3").head_object(Bucket=get_settings().attachments_bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return int(head["ContentLength"])


class TenantContext:
    """The ``steps.base.CheckContext`` of one save: lookups in the tenant, each made once."""

    def __init__(
        self,
        tenant_id: str,
        flow: FlowDefinition,
        *,
        attachment_size: Callable[[str], int | None] = s3_object_size,
    ) -> None:
        self.tenant_id = tenant_id
        self.flow = flow
        self._attachment_size = cache(attachment_size)
        self._exists = cache(self._lookup)

    def _lookup(self, kind: str, object_id: str) -> bool:
        if kind == "flow":
            return flow_store.exists(self.tenant_id, object_id)
        return records.exists(self.tenant_id, kind, object_id)

    def ref(self, kind: str, object_id: str | None, path: str) -> Iterator[Issue]:
        if object_id and not self._exists(kind, object_id):
            yield Issue(path, f"no {kind.replace('_', ' ')} {object_id} exists")

    def tags(self, text: str | None, path: str) -> Iterator[Issue]:
        for tag in unknown_tags(text or "", self.extra_field_types()):
            yield Issue(path, f"unknown merge tag [[{tag}]]")

    @cache  # noqa: B019  (one context per save; the cache dies with it)
    def extra_field_types(self) -> dict[str, str]:
        found, _ = records.list_page(self.tenant_id, EXTRA_FIELD.kind, limit=1000, after=None)
        return {r.data["name"]: r.data["type"] for r in found}

    def attachment_size(self, key: str) -> int | None:
        return self._attachment_size(key)


def find_problems(ctx: TenantContext) -> list[FlowProblem]:
    """Every problem of the flow: its own settings first, then each step in flowchart order."""
    problems = [FlowProblem(step_id=None, **vars(issue)) for issue in _flow_issues(ctx)]
    email_steps = {s.id for s in walk(ctx.flow.steps) if STEP_TYPES[s.type].sends_email}
    unreachable = {step.id: issue for step, issue in _after_a_split(ctx.flow.steps)}
    for step in walk(ctx.flow.steps):
        issues: list[Issue] = list(STEP_TYPES[step.type].check(ctx, step.settings, step))
        if step.id in unreachable:
            issues.insert(0, unreachable[step.id])
        mailing_step = getattr(step.settings, "mailing_step_id", None)
        if mailing_step and mailing_step not in email_steps:
            issues.append(Issue("settings.mailing_step_id", f"no email step {mailing_step}"))
        problems.extend(FlowProblem(step_id=step.id, **vars(issue)) for issue in issues)
    problems.extend(
        FlowProblem(step_id=step_id, **vars(issue))
        for step_id, issue in trigger_overlaps(ctx.tenant_id, ctx.flow)
    )
    return problems


def _flow_issues(ctx: TenantContext) -> Iterator[Issue]:
    flow = ctx.flow
    if flow.send_window is not None and not flow.timezone:
        yield Issue("send_window", "a send window needs the flow's timezone")
    if flow.send_window is not None and flow.send_window.start >= flow.send_window.end:
        yield Issue("send_window.end", "the send window ends before it starts")
    for index, trigger in enumerate(flow.triggers):
        yield from _target(ctx, trigger, f"triggers[{index}]")
    yield from check_rules(ctx, flow.filter, "filter")
    for index, selection_id in enumerate(flow.exclusion_selection_ids):
        yield from ctx.ref("selection", selection_id, f"exclusion_selection_ids[{index}]")
    for index, flow_id in enumerate(flow.remove_from_flow_ids):
        yield from ctx.ref("flow", flow_id, f"remove_from_flow_ids[{index}]")
    for index, criterion in enumerate(flow.success.criteria):
        path = f"success.criteria[{index}]"
        if criterion.type == "contact_updated":
            if criterion.rule is None:
                yield Issue(f"{path}.rule", "contact_updated needs a field rule")
            else:
                yield from check_rules(ctx, [criterion.rule], f"{path}.rule")
        yield from _target(ctx, criterion, path)
    if flow.success.jump_to_finish and not flow.success.criteria:
        yield Issue("success.jump_to_finish", "jump to finish without success criteria", "warning")
    if any(STEP_TYPES[s.type].sends_email for s in walk(flow.steps)):
        yield from _sender_domain(ctx)
    yield from ctx.ref("associate", flow.owner_id, "owner_id")
    yield from ctx.ref("flow", flow.finish.on_success_flow_id, "finish.on_success_flow_id")
    yield from ctx.ref("flow", flow.finish.otherwise_flow_id, "finish.otherwise_flow_id")


def _after_a_split(steps: list[Step], path: str = "steps") -> Iterator[tuple[Step, Issue]]:
    """A warning for each step that stands after a split in the same list. A split sends every
    participant down one of its branches or out, and branches never join again
    (``engine.navigation``): no participant walks on to such a step. A warning, not an error:
    whoever stood on it before a paused edit put a split in front still goes on from there. Its
    ``path`` is the step's place in the tree (``steps[0].branches[1].steps[2]``)."""
    split: Step | None = None
    for index, step in enumerate(steps):
        place = f"{path}[{index}]"
        if split is not None:
            message = (
                f"no participant reaches this step: the split {split.id} before it sends each "
                "one down a branch or out, and branches do not join again"
            )
            yield step, Issue(place, message, "warning")
        elif STEP_TYPES[step.type].has_branches:
            split = step
        for number, branch in enumerate(step.branches or []):
            yield from _after_a_split(branch.steps, f"{place}.branches[{number}].steps")
        if step.everyone_else is not None:
            yield from _after_a_split(step.everyone_else.steps, f"{place}.everyone_else.steps")


def _sender_domain(ctx: TenantContext) -> Iterator[Issue]:
    """Email steps send from the flow's sender: its domain must be a verified sender domain."""
    sender = ctx.flow.email_settings.from_
    if sender is None:
        return
    for field in ("address", "fallback_address"):
        address = getattr(sender, field)
        if address and "@" in address and not sender_domains.verified(ctx.tenant_id, address):
            domain = address.rsplit("@", 1)[1]
            yield Issue(
                f"email_settings.from.{field}",
                f"the sender domain {domain} is not verified: add it at /v1/sender-domains",
            )


def _target(ctx: TenantContext, item: Any, path: str) -> Iterator[Issue]:
    """A trigger's or criterion's target: present when its type needs one, and existing."""
    if item.type not in TARGETS:
        return
    field, kind = TARGETS[item.type]
    target = getattr(item, field)
    if not target:
        yield Issue(f"{path}.{field}", f"{item.type} needs a {kind}")
    yield from ctx.ref(kind, target, f"{path}.{field}")

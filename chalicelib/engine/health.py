"""A flow's health: pause it by itself when too many recent participants fail a step.

Every enrolment and every drop-out with ``step_failed`` adds 1 to an hourly counter of the flow
(CRM table: ``pk = tenant#health#flow_id``, ``sk = YYYYMMDDTHH#entered|failed``). After each
failure the worker asks :func:`check`: within the flow's ``auto_pause.window`` (and since its last
start or resume), when failures reach ``min_failures`` and exceed ``failure_rate`` of the
enrolments, the flow pauses (a conditional lifecycle write, so it happens once), records why in
``paused_reason``, and notifies its ``owner_id`` (the associate's notifications, and an email).

The counters are a health signal, not figures: they are written after the commit, so a crash in
between may miss one, which moves the rate by one participant.
"""

from __future__ import annotations

import logging
from datetime import datetime

from chalicelib.clock import iso
from chalicelib.engine.notifications import send_notification_email
from chalicelib.engine.runtime import runtime
from chalicelib.steps.durations import parse_duration
from chalicelib.store import records
from chalicelib.store.base import key, transaction
from chalicelib.store.models import CrmItem

log = logging.getLogger("flows.engine")


def _hour(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H")


def count(tenant_id: str, flow_id: str, name: str, at: datetime) -> None:
    """Add 1 to the flow's ``entered`` or ``failed`` counter of the hour of ``at``. Best effort:
    the enrolment or the step it counts has happened, and must not fail for its signal."""
    item = CrmItem(key(tenant_id, "health", flow_id), f"{_hour(at)}#{name}", data="{}")
    try:
        item.update(actions=[CrmItem.version.add(1), CrmItem.data.set("{}")])
    except Exception as error:
        log.warning("flow %s: %s not counted (%s)", flow_id, name, type(error).__name__)


def recent(tenant_id: str, flow_id: str, since: datetime) -> dict[str, int]:
    """``{"entered": n, "failed": m}`` summed over the hours from ``since``'s on."""
    totals = {"entered": 0, "failed": 0}
    low = _hour(since)
    for item in CrmItem.query(
        key(tenant_id, "health", flow_id), CrmItem.sk >= low, consistent_read=True
    ):
        name = item.sk.rpartition("#")[2]
        totals[name] = totals.get(name, 0) + int(item.version)
    return totals


def check(tenant_id: str, flow_id: str) -> bool:
    """Pause the flow if its recent failures cross its threshold; whether it paused now."""
    from chalicelib.flows.definition import FlowDefinition
    from chalicelib.flows.service import FlowService
    from chalicelib.store import flows as flow_store

    flow = flow_store.get(tenant_id, flow_id)
    if flow is None or flow.status != "running":
        return False
    rule = FlowDefinition.model_validate(flow.data["definition"], strict=False).auto_pause
    if not rule.enabled:
        return False
    now = runtime.clock()
    since = now - parse_duration(rule.window)
    restarted = flow.data.get("health_since")
    if restarted:
        since = max(since, datetime.fromisoformat(restarted))
    figures = recent(tenant_id, flow_id, since)
    failed, entered = figures["failed"], max(figures["entered"], 1)
    rate = failed / entered
    if failed < rule.min_failures or rate <= rule.failure_rate:
        return False
    reason = {
        "type": "step_failures",
        "at": iso(now),
        "failed": failed,
        "enrolled": figures["entered"],
        "failure_rate": round(rate, 4),
        "threshold": rule.failure_rate,
        "detail": f"{failed} of {figures['entered']} recent participants dropped out because "
        f"a step failed ({rate:.0%} > {rule.failure_rate:.0%}); the flow paused itself.",
    }
    if not FlowService(tenant_id, clock=runtime.clock).auto_pause(flow_id, reason):
        return False
    log.warning("flow %s paused itself: %d of %d failed", flow_id, failed, figures["entered"])
    owner = flow.data["definition"].get("owner_id")
    if owner:
        _notify(tenant_id, owner, flow_id, flow.data["definition"].get("name", ""), reason, now)
    return True


def _notify(
    tenant_id: str, owner: str, flow_id: str, name: str, reason: dict[str, object], now: datetime
) -> None:
    notification_id = f"ntf_pause_{flow_id}_{_hour(now)}"
    note = {"at": iso(now), "text": f"Flow {name!r} paused itself: {reason['detail']}",
            "flow_id": flow_id, "id": notification_id}  # fmt: skip
    write = records.notification_write(tenant_id, owner, notification_id, note)
    with transaction() as tx:
        write(tx)
    send_notification_email(tenant_id, owner, notification_id)

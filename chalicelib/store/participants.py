"""Participants: one contact's walk through one flow (the engine fills this table)."""

from __future__ import annotations

from collections import Counter

from chalicelib.store.base import key
from chalicelib.store.models import ParticipantItem

STATUSES = ("queued", "active", "finished", "succeeded", "dropped_out", "cancelled")


def status_key(tenant_id: str, flow_id: str, status: str) -> str:
    return key(tenant_id, flow_id, status)


def count_by_status(tenant_id: str, flow_id: str) -> dict[str, int]:
    """How many participants of the flow are in each status."""
    return {
        status: ParticipantItem.by_status.count(status_key(tenant_id, flow_id, status))
        for status in STATUSES
    }


def active_by_step(tenant_id: str, flow_id: str) -> Counter[str]:
    """How many active participants stand on each step of the flow."""
    counts: Counter[str] = Counter()
    for item in ParticipantItem.by_status.query(status_key(tenant_id, flow_id, "active")):
        if item.step_id:
            counts[item.step_id] += 1
    return counts

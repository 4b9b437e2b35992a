"""The sweeper: every 5 minutes, find live participants that have no message and no schedule
(the invariant broken, e.g. by a lost message) and dispatch them again. It should find nothing.

A participant needs help when it is active, not parked, not waiting for ever, has not moved for
``STALE`` and is not waiting for a moment still to come (or one just past, whose wake is due).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from chalicelib.engine.dispatch import dispatch, needs_message
from chalicelib.engine.runtime import PAGE_SIZE, runtime
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.participants import Participant

log = logging.getLogger("flows.engine")

STALE = timedelta(minutes=15)


def stranded(p: Participant, now: datetime) -> bool:
    """Whether a participant looks like it has no live message or schedule."""
    if not needs_message(p):
        return False
    updated = datetime.fromisoformat(p.data.get("updated_at") or now.isoformat())
    if now - updated < STALE:
        return False
    return not (p.wait_until and datetime.fromisoformat(p.wait_until) + STALE > now)


def sweep(now: datetime | None = None) -> int:
    """Re-dispatch every stranded participant of every running flow; returns how many."""
    now = now or runtime.clock()
    found = 0
    for tenant_id, flow_id in flow_store.running_flows():
        after: str | None = None
        while True:
            page, after = store.page_by_status(
                tenant_id, flow_id, "active", limit=PAGE_SIZE, after=after
            )
            for p in page:
                if stranded(p, now):
                    log.warning(
                        "sweeper: participant %s of flow %s had no live message (seq %d)",
                        p.participant_id,
                        flow_id,
                        p.seq,
                    )
                    dispatch(p, now)
                    found += 1
            if after is None:
                break
    return found

"""The sweeper: every 5 minutes, find live participants that have no message and no schedule
(the invariant broken, e.g. by a lost message) and dispatch them again. It should find nothing.

A participant needs help when it is active, not parked, not waiting for ever, has not moved for
``STALE`` and is not waiting for a moment still to come (or one just past, whose wake is due).

A sweep reads a flow's active participants page by page, so one failed AWS call must not end
it: otherwise a flow of many pages, under a steady share of failures, would never be swept to
its last page and a participant stranded there would stay stranded. A page whose read fails
for a transient reason is read again (``READ_TRIES`` in all); a dispatch that fails is left to
the next sweep and the page goes on; a flow whose page still cannot be read is left for the
next sweep and the other flows are swept (docs/decisions/0013-faults-and-auto-pause.md).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from chalicelib.engine.dispatch import dispatch, needs_message
from chalicelib.engine.runtime import PAGE_SIZE, runtime
from chalicelib.engine.worker import transient
from chalicelib.store import flows as flow_store
from chalicelib.store import participants as store
from chalicelib.store.participants import Participant

log = logging.getLogger("flows.engine")

STALE = timedelta(minutes=15)
READ_TRIES = 3


class _PageUnreadableError(Exception):
    """A page of a flow's participants could not be read in ``READ_TRIES`` tries."""


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
        try:
            found += _sweep_flow(tenant_id, flow_id, now)
        except _PageUnreadableError:
            log.warning("sweeper: flow %s not swept to its end; the next sweep goes on", flow_id)
    return found


def _sweep_flow(tenant_id: str, flow_id: str, now: datetime) -> int:
    found = 0
    after: str | None = None
    while True:
        page, after = _read_page(tenant_id, flow_id, after)
        for p in page:
            if stranded(p, now) and _redispatch(p, now):
                found += 1
        if after is None:
            return found


def _read_page(
    tenant_id: str, flow_id: str, after: str | None
) -> tuple[list[Participant], str | None]:
    tries = 1
    while True:
        try:
            return store.page_by_status(tenant_id, flow_id, "active", limit=PAGE_SIZE, after=after)
        except Exception as error:
            if not transient(error):
                raise
            if tries == READ_TRIES:
                raise _PageUnreadableError(flow_id) from error
            tries += 1


def _redispatch(p: Participant, now: datetime) -> bool:
    log.warning(
        "sweeper: participant %s of flow %s had no live message (seq %d)",
        p.participant_id,
        p.flow_id,
        p.seq,
    )
    try:
        dispatch(p, now)
    except Exception as error:
        if not transient(error):
            raise
        log.warning("sweeper: dispatch of participant %s failed; the next sweep tries again",
                    p.participant_id)  # fmt: skip
        return False
    return True

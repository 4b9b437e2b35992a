"""Per-step engagement figures of email steps: opened, clicked, unsubscribed, bounced.

A figure counts each message once (the first open of an email, not every reload of its
pixel): a marker item ``(tenant#once#<figure>, <participant>#<step>)`` and the counter's
increment are written in ONE transaction conditioned on the marker's absence, so a retried or
repeated event never counts twice. Counters live in the CRM table:
``pk = tenant#figures#flow_id``, ``sk = step_id#figure``, the count in ``version``.
"""

from __future__ import annotations

from collections import defaultdict

from chalicelib.store.base import ConditionFailedError, Write, key, transaction
from chalicelib.store.models import CrmItem

FIGURES = ("opened", "clicked", "unsubscribed", "bounced")
# Added by the commit of a send step itself (exactly once with it): SMS segments.
ADDED = ("segments",)


def count_once(tenant_id: str, flow_id: str, step_id: str, figure: str, once: str) -> bool:
    """Count one event of a message (``once`` names it); False when it was counted already."""
    assert figure in FIGURES
    marker = CrmItem(key(tenant_id, "once", figure), once, data="{}")
    counter = CrmItem(key(tenant_id, "figures", flow_id), f"{step_id}#{figure}", data="{}")
    try:
        with transaction() as tx:
            tx.save(marker, condition=CrmItem.sk.does_not_exist())
            tx.update(counter, actions=[CrmItem.version.add(1), CrmItem.data.set("{}")])
    except ConditionFailedError:
        return False
    return True


def add_write(tenant_id: str, flow_id: str, step_id: str, figure: str, amount: int) -> Write:
    """A transaction write adding ``amount`` to a step's figure (in the step's commit)."""
    assert figure in ADDED
    counter = CrmItem(key(tenant_id, "figures", flow_id), f"{step_id}#{figure}", data="{}")
    return lambda tx: tx.update(
        counter, actions=[CrmItem.version.add(amount), CrmItem.data.set("{}")]
    )


def of_flow(tenant_id: str, flow_id: str) -> dict[str, dict[str, int]]:
    """``{step_id: {figure: count}}`` for one flow."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for item in CrmItem.query(key(tenant_id, "figures", flow_id), consistent_read=True):
        step_id, _, figure = item.sk.rpartition("#")
        found[step_id][figure] = int(item.version)
    return dict(found)

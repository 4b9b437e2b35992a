"""The flow's success criteria, re-evaluated before every step (SPEC.md §1).

Any one criterion met is success. Events (a sale, follow-up or request created, a form
submitted, a link clicked) count from the participant's enrolment on; states (a contact field
rule, membership of a selection or project) count as they are now, so a contact who already
meets one at enrolment counts as a success.
"""

from __future__ import annotations

from typing import Any

from chalicelib.engine.facts import Facts
from chalicelib.flows.definition import Criterion, Success

_CREATED = {"sale_created": "sale", "follow_up_created": "follow_up", "request_created": "request"}


def success_met(success: Success, facts: Facts, data: dict[str, Any]) -> bool:
    since = data.get("enrolled_at") or ""
    return any(_met(criterion, facts, since) for criterion in success.criteria)


def _met(criterion: Criterion, facts: Facts, since: str) -> bool:
    kind = criterion.type
    if kind == "contact_updated":
        return criterion.rule is not None and facts.matches([criterion.rule])
    if kind in _CREATED:
        return facts.created_since(_CREATED[kind], since)
    if kind == "added_to_selection":
        return bool(criterion.selection_id) and facts.is_member(criterion.selection_id or "")
    if kind == "added_to_project":
        return bool(criterion.project_id) and facts.is_member(criterion.project_id or "")
    if kind == "form_submitted":
        return bool(criterion.form_id) and bool(
            facts.engaged("submit", criterion.form_id or "", since)
        )
    if kind == "link_clicked":
        return bool(criterion.link_id) and bool(
            facts.engaged("click", criterion.link_id or "", since)
        )
    return False

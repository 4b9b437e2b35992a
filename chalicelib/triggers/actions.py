"""The actions tracked links and forms carry (SPEC.md §6), run for one contact.

Every change goes through the CRM service, so it fires the matching triggers (added to a
selection, request created, contact updated) at depth 0, like any outside event. A reference
that went missing since the link or form was saved (a deleted selection) is skipped and logged:
a click must still reach its page.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.api.problems import ApiError
from chalicelib.clock import Clock, iso
from chalicelib.crm.resources import CONTACT, FOLLOW_UP, PROJECT, REQUEST, SELECTION
from chalicelib.crm.service import CrmService
from chalicelib.steps.durations import parse_duration
from chalicelib.store import records
from chalicelib.triggers.models import FieldValue, FollowUpAction, RequestAction

log = logging.getLogger("flows.triggers")


class Actions:
    """Runs actions for one contact of one tenant on behalf of a link or a form (``cause``)."""

    def __init__(self, tenant_id: str, contact_id: str, cause: str, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self.contact_id = contact_id
        self.clock = clock
        self.crm = CrmService(tenant_id, clock, cause=cause)

    def contact(self) -> dict[str, Any]:
        record = records.get(self.tenant_id, CONTACT.kind, self.contact_id)
        return record.data if record else {}

    def change_contact(
        self,
        *,
        set_field: FieldValue | None = None,
        add_interest: str | None = None,
        remove_interest: str | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        """One merge patch for every field action (one ``contact_updated``, not three)."""
        contact = self.contact()
        patch: dict[str, Any] = {}
        if set_field is not None:
            patch["extra_fields"] = {set_field.field: set_field.value}
        interests = list(contact.get("interests") or [])
        if add_interest and add_interest not in interests:
            interests.append(add_interest)
        if remove_interest and remove_interest in interests:
            interests.remove(remove_interest)
        if interests != list(contact.get("interests") or []):
            patch["interests"] = interests
        for name, value in (defaults or {}).items():
            if value and not contact.get(name):
                patch[name] = value
        if patch:
            self._safely("change the contact", self.crm.patch, CONTACT, self.contact_id, patch)

    def add_to(self, kind: str, list_id: str) -> None:
        resource = SELECTION if kind == "selection" else PROJECT
        self._safely(f"add to {kind}", self.crm.add_member, resource, list_id, self.contact_id)

    def remove_from(self, kind: str, list_id: str) -> None:
        resource = SELECTION if kind == "selection" else PROJECT
        self._safely(
            f"remove from {kind}", self.crm.remove_member, resource, list_id, self.contact_id
        )

    def follow_up(self, action: FollowUpAction) -> None:
        contact = self.contact()
        owner = contact.get("owner_id") if action.assign_to_our_contact else None
        start = self.clock()
        fields: dict[str, Any] = {
            "contact_id": self.contact_id,
            "type": action.type,
            "title": action.title,
            "description": action.description,
            "project_id": action.project_id,
            "associate_id": owner or action.default_recipient_id,
            "start": iso(start),
        }
        if action.duration:
            fields["end"] = iso(start + parse_duration(action.duration))
        body = FOLLOW_UP.fields.model_validate(fields, strict=False)
        self._safely("create a follow-up", self.crm.create, FOLLOW_UP, body)

    def request(self, action: RequestAction) -> None:
        contact = self.contact()
        owner = (
            contact.get("service_owner_id") or contact.get("owner_id")
            if action.owner == "auto"
            else action.owner
        )
        fields = {
            "contact_id": self.contact_id,
            "title": action.title,
            "type": action.type,
            "priority": action.priority,
            "category": action.category,
            "owner_id": owner,
            "message": action.message,
        }
        body = REQUEST.fields.model_validate(fields, strict=False)
        self._safely("create a request", self.crm.create, REQUEST, body)

    def _safely(self, what: str, call: Any, *args: Any) -> None:
        try:
            call(*args)
        except ApiError as error:
            # The object it names was deleted since, or the value no longer fits the field.
            log.warning("could not %s for contact %s: %s", what, self.contact_id, error.detail)

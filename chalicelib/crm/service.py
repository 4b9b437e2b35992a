"""The rules of the CRM endpoints: create, read, list, merge-patch, delete, and membership.

Generic over the kinds in ``crm.resources``; the few rules of one kind (a contact's email is
unique, phone numbers become E.164, extra-field values follow their definitions) are hooks in
``_normalise``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib.api.models import merge_patch
from chalicelib.api.pagination import Page, decode_cursor, encode_cursor
from chalicelib.api.problems import (
    ConflictError,
    NotFoundError,
    from_validation_error,
    invalid,
)
from chalicelib.api.routing import is_id
from chalicelib.clock import Clock, iso, utc_now
from chalicelib.crm.extra_fields import check_extra_fields
from chalicelib.crm.models import ActivityEntry, Member
from chalicelib.crm.resources import ASSOCIATE, CONTACT, EXTRA_FIELD, Resource
from chalicelib.ids import new_id
from chalicelib.messaging.phones import InvalidPhoneError, to_e164
from chalicelib.store import activities, memberships, records
from chalicelib.store.records import Record, UniqueTakenError, VersionConflictError
from chalicelib.tenants.service import get_settings_of
from chalicelib.triggers.fire import fire_all
from chalicelib.triggers.kinds import Fired, changed_triggers, created_triggers

STAMPS = ("id", "created_at", "updated_at")


class CrmService:
    """CRUD for the CRM kinds of one tenant's request; the clock is injected.

    Every change fires the matching triggers (SPEC.md §2) after it is written, at ``depth``
    (0 for the API, a click or a form); ``fire_triggers=False`` is for imports, which fire
    nothing.
    """

    def __init__(
        self,
        tenant_id: str,
        clock: Clock = utc_now,
        *,
        depth: int = 0,
        cause: str = "api",
        fire_triggers: bool = True,
    ) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.depth = depth
        self.cause = cause
        self.fire_triggers = fire_triggers

    # -- reading -------------------------------------------------------------------------

    def get(self, resource: Resource, object_id: str) -> BaseModel:
        return self._out(resource, self._require(resource, object_id))

    def list(
        self, resource: Resource, *, limit: int, cursor: str | None, contact_id: str | None = None
    ) -> Page[Any]:
        after = decode_cursor(cursor)
        if contact_id is not None and resource.by_contact:
            found, last = records.list_for_contact(
                self.tenant_id, resource.kind, contact_id, limit=limit, after=after
            )
        else:
            found, last = records.list_page(self.tenant_id, resource.kind, limit=limit, after=after)
        return Page[Any](items=[self._out(resource, r) for r in found], next=encode_cursor(last))

    def find_contact_by_email(self, email: str) -> Page[Any]:
        contact_id = records.find_unique(self.tenant_id, CONTACT.kind, "email", email.lower())
        record = records.get(self.tenant_id, CONTACT.kind, contact_id) if contact_id else None
        items = [self._out(CONTACT, record)] if record else []
        return Page[Any](items=items, next=None)

    # -- writing -------------------------------------------------------------------------

    def create(self, resource: Resource, body: BaseModel) -> BaseModel:
        data = self._normalise(resource, body.model_dump(mode="json"))
        now = iso(self.clock())
        record = Record(
            id=new_id(resource.prefix),
            data=data | {"created_at": now, "updated_at": now},
            version=1,
        )
        try:
            records.create(
                self.tenant_id,
                resource.kind,
                record,
                unique=self._unique(resource, data),
                contact_id=data.get("contact_id") if resource.by_contact else None,
            )
        except UniqueTakenError as error:
            raise self._taken(resource, error) from error
        if resource.public:
            records.publish(resource.kind, record.id, self.tenant_id)
        if resource.by_contact and data.get("contact_id"):
            self.record_activity(
                data["contact_id"],
                {"type": "activity_created", "kind": resource.kind, "object_id": record.id},
            )
        self._fire(created_triggers(resource.kind, data), _contact_of(resource, record.id, data))
        return self._out(resource, record)

    def patch(self, resource: Resource, object_id: str, patch: dict[str, Any]) -> BaseModel:
        """Apply an RFC 7396 merge patch; the merged object is validated as a whole."""
        current = self._require(resource, object_id)
        fields = {k: v for k, v in current.data.items() if k not in STAMPS}
        try:
            merged = resource.fields.model_validate(merge_patch(fields, patch))
        except ValidationError as error:
            raise from_validation_error(error) from error
        data = self._normalise(resource, merged.model_dump(mode="json"), before=fields)
        record = Record(
            id=object_id,
            data=data | {"created_at": current.data["created_at"], "updated_at": iso(self.clock())},
            version=current.version + 1,
        )
        try:
            records.replace(
                self.tenant_id,
                resource.kind,
                record,
                expected_version=current.version,
                unique_before=self._unique(resource, current.data),
                unique_after=self._unique(resource, data),
                contact_id=data.get("contact_id") if resource.by_contact else None,
            )
        except UniqueTakenError as error:
            raise self._taken(resource, error) from error
        except VersionConflictError as error:
            raise ConflictError(
                f"The {resource.label} changed while this request ran; read it and try again."
            ) from error
        self._fire(
            changed_triggers(resource.kind, fields, data), _contact_of(resource, object_id, data)
        )
        return self._out(resource, record)

    def delete(self, resource: Resource, object_id: str) -> None:
        current = self._require(resource, object_id)
        records.delete(
            self.tenant_id, resource.kind, current, unique=self._unique(resource, current.data)
        )
        if resource.public:
            records.unpublish(resource.kind, object_id)
        if resource is CONTACT:
            for membership in memberships.lists_of(self.tenant_id, object_id):
                memberships.remove(self.tenant_id, membership.list_id, object_id)

    # -- selections and projects -----------------------------------------------------------

    def members(
        self, resource: Resource, list_id: str, *, limit: int, cursor: str | None
    ) -> Page[Member]:
        self._require(resource, list_id)
        found, last = memberships.members_page(
            self.tenant_id, list_id, limit=limit, after=decode_cursor(cursor)
        )
        items = [Member(contact_id=m.contact_id, added_at=m.added_at) for m in found]
        return Page[Member](items=items, next=encode_cursor(last))

    def add_member(self, resource: Resource, list_id: str, contact_id: str) -> Member:
        """Idempotent: adding a member twice keeps the first ``added_at``."""
        self._require(resource, list_id)
        self._require(CONTACT, contact_id)
        now = iso(self.clock())
        if memberships.add(self.tenant_id, list_id, contact_id, now):
            self.record_activity(
                contact_id, {"type": "membership_added", "kind": resource.kind, "list_id": list_id}
            )
            self._fire([Fired(f"added_to_{resource.kind}", list_id)], contact_id)
            return Member(contact_id=contact_id, added_at=now)
        existing = memberships.get(self.tenant_id, list_id, contact_id)
        return Member(contact_id=contact_id, added_at=existing.added_at if existing else now)

    def remove_member(self, resource: Resource, list_id: str, contact_id: str) -> None:
        self._require(resource, list_id)
        if not memberships.remove(self.tenant_id, list_id, contact_id):
            raise NotFoundError(
                f"Contact {contact_id} is not a member of {resource.label} {list_id}."
            )
        self.record_activity(
            contact_id, {"type": "membership_removed", "kind": resource.kind, "list_id": list_id}
        )

    # -- activity ----------------------------------------------------------------------------

    def activity(self, contact_id: str, *, limit: int, cursor: str | None) -> Page[ActivityEntry]:
        self._require(CONTACT, contact_id)
        entries, last = activities.page(
            self.tenant_id, contact_id, limit=limit, after=decode_cursor(cursor)
        )
        items = [ActivityEntry.model_validate(e) for e in entries]
        return Page[ActivityEntry](items=items, next=encode_cursor(last))

    def notifications(self, associate_id: str, *, limit: int, cursor: str | None) -> Page[Any]:
        self._require(ASSOCIATE, associate_id)
        found, last = records.notifications_page(
            self.tenant_id, associate_id, limit=limit, after=decode_cursor(cursor)
        )
        return Page[Any](items=found, next=encode_cursor(last))

    def record_activity(self, contact_id: str, entry: dict[str, Any]) -> None:
        activities.append(self.tenant_id, contact_id, entry | {"at": iso(self.clock())})

    # -- triggers ------------------------------------------------------------------------------

    def _fire(self, triggers: Iterable[Fired], contact_id: str | None) -> None:
        if not (self.fire_triggers and triggers and contact_id):
            return
        fire_all(self.tenant_id, triggers, contact_id, depth=self.depth, cause=self.cause)

    # -- rules ---------------------------------------------------------------------------------

    def normalised(self, resource: Resource, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` as a create would store it, or the 400 a create would answer."""
        return self._normalise(resource, dict(data))

    def _require(self, resource: Resource, object_id: str) -> Record:
        record = records.get(self.tenant_id, resource.kind, object_id)
        if record is None:
            raise NotFoundError(f"No {resource.label} {object_id}.")
        return record

    def _out(self, resource: Resource, record: Record) -> BaseModel:
        return resource.out.model_validate(record.data | {"id": record.id}, strict=False)

    def _unique(self, resource: Resource, data: dict[str, Any]) -> dict[str, str | None]:
        return {
            name: data[name].lower() if isinstance(data.get(name), str) else None
            for name in resource.unique
        }

    def _taken(self, resource: Resource, error: UniqueTakenError) -> ConflictError:
        return ConflictError(
            f"Another {resource.label} already has this {error.field}.",
            errors=[_field_error(error.field, "already taken (compared case-insensitively)")],
        )

    def _normalise(
        self, resource: Resource, data: dict[str, Any], before: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Check references and apply a kind's own rules; a 400 names the first bad field.

        A patch checks only the references it adds: one the object already held may name an
        object deleted since, and that must not make the rest of the object uneditable.
        """
        for name, kind in resource.refs.items():
            held = set(_as_list(_dig(before or {}, name)))
            for ref in _as_list(_dig(data, name)):
                if ref not in held and not (
                    is_id(ref) and records.exists(self.tenant_id, kind, ref)
                ):
                    raise invalid(name, f"no {kind.replace('_', ' ')} {ref}")
        if resource in (CONTACT, ASSOCIATE) and data.get("mobile_phone"):
            region = get_settings_of(self.tenant_id).default_phone_region
            try:
                data["mobile_phone"] = to_e164(data["mobile_phone"], region)
            except InvalidPhoneError as error:
                raise invalid("mobile_phone", str(error)) from error
        if resource is CONTACT and data.get("extra_fields"):
            definitions, _ = records.list_page(
                self.tenant_id, EXTRA_FIELD.kind, limit=1000, after=None
            )
            data["extra_fields"] = check_extra_fields(
                data["extra_fields"], [d.data for d in definitions]
            )
        return data


def _contact_of(resource: Resource, object_id: str, data: dict[str, Any]) -> str | None:
    """The contact an object's triggers are about: itself, or the contact it belongs to."""
    return object_id if resource is CONTACT else data.get("contact_id")


def _dig(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``actions.add_to_selection.selection_id``), or None."""
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _as_list(value: Any) -> Iterable[str]:
    if value is None:
        return ()
    if isinstance(value, list):
        return [str(v) for v in value]
    return (str(value),)


def _field_error(path: str, message: str) -> Any:
    from chalicelib.api.problems import FieldError

    return FieldError(path=path, message=message)

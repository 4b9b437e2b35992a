"""Routes of API.md "CRM", declared once per kind from ``crm.resources``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from chalicelib.api.auth import ANY_ROLE, CONTENT
from chalicelib.api.models import Id
from chalicelib.api.pagination import ListQuery, Page
from chalicelib.api.registry import api
from chalicelib.api.routing import (
    Call,
    Handler,
    Operation,
    content_type,
    raw_body,
)
from chalicelib.crm.imports import MAX_ROWS, ImportResult, import_contacts, parse
from chalicelib.crm.models import ActivityEntry, Member
from chalicelib.crm.resources import CONTACT, RESOURCES, Resource
from chalicelib.crm.service import CrmService
from chalicelib.engine.runtime import runtime


class ContactQuery(ListQuery):
    email: EmailStr | None = Field(None, description="find the contact with this address")


class ByContactQuery(ListQuery):
    contact_id: Id | None = Field(None, description="only those of this contact")


def _service(call: Call) -> CrmService:
    return CrmService(call.tenant_id, clock=runtime.clock)


def _named(name: str, handler: Handler) -> Handler:
    handler.__name__ = name
    return handler


def _declare(resource: Resource) -> None:
    out, kind, path = resource.out, resource.kind, resource.path
    item_path = f"{path}/{{id}}"
    tag = f"{kind}s"
    query = (
        ContactQuery
        if resource is CONTACT
        else ByContactQuery
        if resource.by_contact
        else ListQuery
    )

    def create(call: Call) -> BaseModel:
        return _service(call).create(resource, call.body)

    def list_(call: Call) -> Page[Any]:
        q = call.query
        if resource is CONTACT and q.email:
            return _service(call).find_contact_by_email(q.email)
        contact_id = getattr(q, "contact_id", None)
        return _service(call).list(resource, limit=q.limit, cursor=q.cursor, contact_id=contact_id)

    def get(call: Call) -> BaseModel:
        return _service(call).get(resource, call.params["id"])

    def patch(call: Call) -> BaseModel:
        return _service(call).patch(resource, call.params["id"], call.json)

    def delete(call: Call) -> None:
        _service(call).delete(resource, call.params["id"])

    label = resource.label
    api.add(
        Operation(
            "POST",
            path,
            _named(f"create_{kind}", create),
            f"Create a {label}",
            tag,
            resource.write,
            body=resource.fields,
            response=out,
            status=201,
            errors=(409,),
        )
    )
    api.add(
        Operation(
            "GET",
            path,
            _named(f"list_{kind}s", list_),
            f"List {label}s",
            tag,
            ANY_ROLE,
            response=Page[out],  # type: ignore[valid-type]
            query=query,
        )
    )
    api.add(
        Operation(
            "GET",
            item_path,
            _named(f"get_{kind}", get),
            f"Get a {label}",
            tag,
            ANY_ROLE,
            response=out,
        )
    )
    if resource.patch:
        api.add(
            Operation(
                "PATCH",
                item_path,
                _named(f"patch_{kind}", patch),
                f"Change a {label} (JSON merge patch)",
                tag,
                resource.write,
                body=resource.patch_model,
                response=out,
                errors=(409,),
                content_types=["application/json", "application/merge-patch+json"],
            )
        )
    if resource.delete:
        api.add(
            Operation(
                "DELETE",
                item_path,
                _named(f"delete_{kind}", delete),
                f"Delete a {label}",
                tag,
                resource.write,
                status=204,
            )
        )
    if resource.list_members:
        _declare_members(resource)


def _declare_members(resource: Resource) -> None:
    kind, members_path = resource.kind, f"{resource.path}/{{id}}/members"

    def list_members(call: Call) -> Page[Member]:
        q = call.query
        return _service(call).members(resource, call.params["id"], limit=q.limit, cursor=q.cursor)

    def add_member(call: Call) -> Member:
        return _service(call).add_member(resource, call.params["id"], call.params["contact_id"])

    def remove_member(call: Call) -> None:
        _service(call).remove_member(resource, call.params["id"], call.params["contact_id"])

    tag = f"{kind}s"
    api.add(
        Operation(
            "GET",
            members_path,
            _named(f"list_{kind}_members", list_members),
            f"List the members of a {kind}",
            tag,
            ANY_ROLE,
            response=Page[Member],
            query=ListQuery,
        )
    )
    api.add(
        Operation(
            "PUT",
            f"{members_path}/{{contact_id}}",
            _named(f"add_{kind}_member", add_member),
            f"Add a contact to a {kind} (idempotent)",
            tag,
            CONTENT,
            response=Member,
        )
    )
    api.add(
        Operation(
            "DELETE",
            f"{members_path}/{{contact_id}}",
            _named(f"remove_{kind}_member", remove_member),
            f"Remove a contact from a {kind}",
            tag,
            CONTENT,
            status=204,
        )
    )


for _resource in RESOURCES:
    _declare(_resource)


@api.operation(
    "GET",
    "/v1/contacts/{id}/activity",
    summary="What the product did to or for a contact, newest first",
    tag="contacts",
    access=ANY_ROLE,
    response=Page[ActivityEntry],
    query=ListQuery,
)
def contact_activity(call: Call) -> Page[ActivityEntry]:
    q = call.query
    return _service(call).activity(call.params["id"], limit=q.limit, cursor=q.cursor)


class Notification(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    at: str
    text: str


@api.operation(
    "GET",
    "/v1/associates/{id}/notifications",
    summary="What the product told an associate (new contacts to own, follow-ups), newest first",
    tag="associates",
    access=ANY_ROLE,
    response=Page[Notification],
    query=ListQuery,
)
def associate_notifications(call: Call) -> Page[Notification]:
    q = call.query
    return _service(call).notifications(call.params["id"], limit=q.limit, cursor=q.cursor)


def _import_contacts(call: Call) -> ImportResult:
    service = CrmService(call.tenant_id, fire_triggers=False, clock=runtime.clock)
    rows = parse(raw_body(call.request), content_type(call.request))
    return import_contacts(service, rows)


api.add(
    Operation(
        "POST",
        "/v1/contacts/import",
        _import_contacts,
        "Import contacts from CSV (text/csv, a header row) or a JSON array; fires no trigger",
        "contacts",
        CONTENT,
        response=ImportResult,
        errors=(409,),
        content_types=["application/json", "text/csv"],
        request_body={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/ContactFields"},
                        "minItems": 1,
                        "maxItems": MAX_ROWS,
                    }
                },
                "text/csv": {"schema": {"type": "string"}},
            },
        },
    )
)

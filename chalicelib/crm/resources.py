"""The CRM object kinds: one declaration each, from which the store keys, the routes, the
reference checks and the OpenAPI entries all follow."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from chalicelib.api.auth import CONTENT, FLOW_WRITE, Role
from chalicelib.api.models import ApiModel, partial
from chalicelib.crm import models as m
from chalicelib.triggers import models as t


@dataclass(frozen=True)
class Resource:
    """One kind of CRM object and the rules of its endpoints."""

    kind: str
    path: str
    prefix: str
    fields: type[ApiModel]
    out: type[BaseModel]
    write: frozenset[Role] = CONTENT
    patch: bool = False
    delete: bool = False
    unique: tuple[str, ...] = ()
    refs: dict[str, str] = field(default_factory=dict)
    by_contact: bool = False
    list_members: bool = False
    # Reachable by id alone at a public url (a form's /f/{id}): see records.publish.
    public: bool = False

    @property
    def patch_model(self) -> type[BaseModel]:
        return _partials[self.kind]

    @property
    def label(self) -> str:
        return self.kind.replace("_", " ")


CONTACT = Resource(
    "contact",
    "/v1/contacts",
    "con",
    m.ContactFields,
    m.Contact,
    patch=True,
    delete=True,
    unique=("email",),
    refs={"company_id": "company", "owner_id": "associate", "service_owner_id": "associate"},
)
COMPANY = Resource(
    "company",
    "/v1/companies",
    "com",
    m.CompanyFields,
    m.Company,
    patch=True,
    delete=True,
    refs={"owner_id": "associate"},
)
ASSOCIATE = Resource(
    "associate",
    "/v1/associates",
    "asc",
    m.AssociateFields,
    m.Associate,
    patch=True,
    delete=True,
    refs={"group_ids": "group"},
)
GROUP = Resource("group", "/v1/groups", "grp", m.NamedFields, m.Group)
SELECTION = Resource(
    "selection", "/v1/selections", "sel", m.NamedFields, m.Selection, list_members=True
)
PROJECT = Resource("project", "/v1/projects", "prj", m.NamedFields, m.Project, list_members=True)
EXTRA_FIELD = Resource(
    "extra_field", "/v1/extra-fields", "xf", m.ExtraFieldFields, m.ExtraField, unique=("name",)
)
FOLLOW_UP = Resource(
    "follow_up",
    "/v1/follow-ups",
    "fu",
    m.FollowUpFields,
    m.FollowUp,
    refs={"contact_id": "contact", "associate_id": "associate", "project_id": "project"},
    by_contact=True,
)
REQUEST = Resource(
    "request",
    "/v1/requests",
    "req",
    m.RequestFields,
    m.Request,
    refs={"contact_id": "contact", "owner_id": "associate"},
    by_contact=True,
)
SALE = Resource(
    "sale",
    "/v1/sales",
    "sal",
    m.SaleFields,
    m.Sale,
    patch=True,
    refs={"contact_id": "contact", "owner_id": "associate", "project_id": "project"},
    by_contact=True,
)
MAILING = Resource("mailing", "/v1/mailings", "mal", m.MailingFields, m.Mailing)
# Scripts name a Lambda function the product will invoke: not for content editors.
SCRIPT = Resource("script", "/v1/scripts", "scr", m.ScriptFields, m.Script, write=FLOW_WRITE)

LINK = Resource(
    "link",
    "/v1/links",
    "lnk",
    t.LinkFields,
    t.Link,
    patch=True,
    delete=True,
    refs={
        "actions.add_to_selection.selection_id": "selection",
        "actions.remove_from_selection.selection_id": "selection",
        "actions.add_to_project.project_id": "project",
        "actions.remove_from_project.project_id": "project",
        "actions.follow_up.project_id": "project",
        "actions.follow_up.default_recipient_id": "associate",
        "actions.script_id": "script",
    },
)
FORM = Resource(
    "form",
    "/v1/forms",
    "frm",
    t.FormFields,
    t.Form,
    patch=True,
    delete=True,
    public=True,
    refs={
        "actions.add_to_selection.selection_id": "selection",
        "actions.add_to_project.project_id": "project",
        "actions.response_mailing_id": "mailing",
        "actions.script_id": "script",
    },
)

RESOURCES: tuple[Resource, ...] = (
    CONTACT,
    COMPANY,
    ASSOCIATE,
    GROUP,
    SELECTION,
    PROJECT,
    EXTRA_FIELD,
    FOLLOW_UP,
    REQUEST,
    SALE,
    MAILING,
    SCRIPT,
    LINK,
    FORM,
)

_partials: dict[str, type[BaseModel]] = {
    r.kind: partial(r.fields, f"{r.fields.__name__.removesuffix('Fields')}Patch")
    for r in RESOURCES
    if r.patch
}

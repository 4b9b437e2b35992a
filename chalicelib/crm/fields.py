"""The contact and company fields that filters, split rules and "Update contact" can name.

A field is written ``contact.<name>``, ``company.<name>`` or ``contact.extra.<name>`` in rules;
"Update contact" rows name ``<name>``, ``company.<name>`` or ``extra.<name>``. Types decide the
operators and update actions that apply (SPEC.md §5).
"""

from __future__ import annotations

from typing import Literal

FieldType = Literal["text", "number", "date", "bool", "list", "multi"]

CONTACT_FIELDS: dict[str, FieldType] = {
    "first_name": "text",
    "last_name": "text",
    "email": "text",
    "mobile_phone": "text",
    "category": "list",
    "business": "list",
    "interests": "multi",
    "subscriptions": "multi",
    "consent.email": "bool",
    "consent.sms": "bool",
    "retired": "bool",
    "owner_id": "text",
    "service_owner_id": "text",
    "created_at": "date",
}
COMPANY_FIELDS: dict[str, FieldType] = {
    "name": "text",
    "category": "list",
    "business": "list",
    "owner_id": "text",
}

UPDATE_ACTIONS: dict[FieldType, frozenset[str]] = {
    "text": frozenset({"set", "clear", "search_replace", "regex_replace"}),
    "number": frozenset({"set", "clear"}),
    "date": frozenset({"set", "clear"}),
    "bool": frozenset({"check", "uncheck", "toggle"}),
    "list": frozenset({"select", "clear"}),
    "multi": frozenset({"add", "remove"}),
}
# Fields a flow may not change: identity and ownership have their own steps.
NOT_UPDATABLE = frozenset({"email", "created_at", "owner_id", "service_owner_id"})


def field_type(
    name: str, extra_types: dict[str, str], *, scope: Literal["rule", "update"]
) -> FieldType | None:
    """The type of a field as a rule (``contact.category``) or an update row (``category``)
    names it, or None for an unknown field."""
    if scope == "rule":
        owner, _, rest = name.partition(".")
        if owner == "company":
            return COMPANY_FIELDS.get(rest)
        if owner != "contact":
            return None
        name = rest
    elif name.startswith("company."):
        return COMPANY_FIELDS.get(name.removeprefix("company."))
    if name.startswith("extra."):
        declared = extra_types.get(name.removeprefix("extra."))
        return declared if declared in UPDATE_ACTIONS else None
    return CONTACT_FIELDS.get(name)

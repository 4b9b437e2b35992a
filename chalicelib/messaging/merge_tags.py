"""Merge tags (``[[customer.firstname]]``): which exist, finding the unknown ones, rendering.

Rendering is a plain lookup of each ``[[tag]]`` (no template language): values are escaped in
HTML, unknown tags render empty, and neither the text nor the contact's data can run anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import Any

TAG = re.compile(r"\[\[\s*(.*?)\s*\]\]")
KNOWN_TAGS = frozenset(
    {
        "customer.firstname",
        "customer.lastname",
        "customer.name",
        "customer.email",
        "customer.cellphone",
        "customer.salutation",
        "company.name",
        "ourContact.name",
        "ourContact.email",
    }
)
EXTRA_PREFIX = "customer.extra."
# ``[[link.<link id>]]``: a tracked link's url for the recipient (send_email fills it in).
LINK_PREFIX = "link."


def tags_in(text: str) -> list[str]:
    """Every tag in ``text``, in order, as written between the brackets."""
    return TAG.findall(text)


def unknown_tags(text: str, extra_field_names: Iterable[str]) -> list[str]:
    """The tags of ``text`` that name no known value (extra fields by their exact name)."""
    extras = {EXTRA_PREFIX + name for name in extra_field_names}
    return [
        tag
        for tag in tags_in(text)
        if tag not in KNOWN_TAGS and tag not in extras and not tag.startswith(LINK_PREFIX)
    ]


def render(text: str, values: dict[str, str], *, html: bool = False) -> str:
    """``text`` with each tag replaced by its value (unknown tags: empty). In HTML the values
    are escaped. Nothing in ``text`` or in the values is ever evaluated: this is a lookup."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1), "")
        return escape(found, quote=True) if html else found

    return TAG.sub(value, text)


def values_for(
    contact: dict[str, Any], company: dict[str, Any], our_contact: dict[str, Any]
) -> dict[str, str]:
    """The merge-tag values of one contact (with its company and our contact)."""
    first, last = contact.get("first_name") or "", contact.get("last_name") or ""
    values = {
        "customer.firstname": first,
        "customer.lastname": last,
        "customer.name": f"{first} {last}".strip(),
        "customer.email": contact.get("email") or "",
        "customer.cellphone": contact.get("mobile_phone") or "",
        "customer.salutation": contact.get("salutation") or "",
        "company.name": company.get("name") or "",
        "ourContact.name": our_contact.get("name") or "",
        "ourContact.email": our_contact.get("email") or "",
    }
    for name, extra in (contact.get("extra_fields") or {}).items():
        values[EXTRA_PREFIX + name] = "" if extra is None else str(extra)
    return values

"""Merge tags (``[[customer.firstname]]``): which exist, and finding the unknown ones.

Rendering (HTML-escaped, unknown tags empty, never evaluated as code) is done by the mailer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def tags_in(text: str) -> list[str]:
    """Every tag in ``text``, in order, as written between the brackets."""
    return TAG.findall(text)


def unknown_tags(text: str, extra_field_names: Iterable[str]) -> list[str]:
    """The tags of ``text`` that name no known value (extra fields by their exact name)."""
    extras = {EXTRA_PREFIX + name for name in extra_field_names}
    return [tag for tag in tags_in(text) if tag not in KNOWN_TAGS and tag not in extras]

"""Extra-field values on contacts, checked against the tenant's definitions."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.api.problems import invalid


def check_extra_fields(values: dict[str, Any], definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """The values, each checked against its definition's type; a 400 names the first bad one.

    text: a string; number: a JSON number; date: ``YYYY-MM-DD``; bool: true/false;
    list: one of the definition's options. Names are matched exactly; null clears a value.
    """
    by_name = {d["name"]: d for d in definitions}
    values = {name: value for name, value in values.items() if value is not None}
    for name, value in values.items():
        path = f"extra_fields.{name}"
        definition = by_name.get(name)
        if definition is None:
            raise invalid(path, "no extra field of this name is defined")
        kind = definition["type"]
        if not _fits(kind, value, definition.get("options") or []):
            expected = {
                "text": "a string",
                "number": "a number",
                "date": "a date (YYYY-MM-DD)",
                "bool": "true or false",
                "list": f"one of {definition.get('options')}",
            }[kind]
            raise invalid(path, f"must be {expected}")
    return values


def _fits(kind: str, value: Any, options: list[str]) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return value in options
    if kind == "date":
        # fromisoformat also reads "20240101" and week dates ("2024-W01-1"): only YYYY-MM-DD
        # survives the round trip.
        try:
            return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    return False

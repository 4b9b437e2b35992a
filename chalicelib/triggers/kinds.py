"""Which triggers a change fires (SPEC.md §2): pure rules, shared by the CRM service (API,
link and form actions) and the flow steps that create objects or add to lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fired:
    """One trigger to fire: its type and the id it names (a selection, a form...), if any."""

    type: str
    target: str | None = None

    def dump(self) -> list[str | None]:
        return [self.type, self.target]


def created_triggers(kind: str, data: dict[str, Any]) -> list[Fired]:
    """The triggers creating an object of ``kind`` fires."""
    if kind in ("contact", "sale", "request"):
        fired = [Fired(f"{kind}_created")]
        if kind == "sale" and data.get("status") in ("sold", "lost"):
            fired.append(Fired(f"sale_{data['status']}"))
        return fired
    return []


def changed_triggers(kind: str, before: dict[str, Any], after: dict[str, Any]) -> list[Fired]:
    """The triggers a change fires: any change of a contact; a sale that became sold or lost."""
    if kind == "contact" and any(before.get(k) != v for k, v in after.items()):
        return [Fired("contact_updated")]
    status = after.get("status")
    if kind == "sale" and status in ("sold", "lost") and before.get("status") != status:
        return [Fired(f"sale_{status}")]
    return []


def fired_from(dumped: Iterable[list[str | None]]) -> list[Fired]:
    """Triggers as a journal entry keeps them (``[[type, target], ...]``)."""
    return [Fired(str(t), target) for t, target in dumped]

"""What the engine knows about a contact while it runs a step: the CRM record, its company,
memberships, engagement and activities, each read at most once per run; and field rules
evaluated against them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.flows.rules import Rule
from chalicelib.store import engagement, memberships, records


class Facts:
    """Lazy, cached reads about one contact of one tenant."""

    def __init__(self, tenant_id: str, contact_id: str) -> None:
        self.tenant_id = tenant_id
        self.contact_id = contact_id
        self._lists: set[str] | None = None

    @cached_property
    def contact_record(self) -> records.Record | None:
        """The contact as stored (with its version, for a step that updates it)."""
        return records.get(self.tenant_id, "contact", self.contact_id)

    @property
    def contact(self) -> dict[str, Any] | None:
        found = self.contact_record
        return found.data | {"id": found.id} if found else None

    @cached_property
    def company_record(self) -> records.Record | None:
        company_id = (self.contact or {}).get("company_id")
        return records.get(self.tenant_id, "company", company_id) if company_id else None

    @property
    def company(self) -> dict[str, Any]:
        found = self.company_record
        return found.data if found else {}

    def associate(self, associate_id: str | None) -> dict[str, Any]:
        """An associate's fields ({} when there is none of that id)."""
        found = records.get(self.tenant_id, "associate", associate_id) if associate_id else None
        return found.data | {"id": found.id} if found else {}

    def is_member(self, list_id: str) -> bool:
        if self._lists is None:
            self._lists = {m.list_id for m in memberships.lists_of(self.tenant_id, self.contact_id)}
        return list_id in self._lists

    def engaged(self, kind: str, target_id: str, since: str | None) -> list[dict[str, Any]]:
        return engagement.since(self.tenant_id, self.contact_id, kind, target_id, since)

    def created_since(self, kind: str, since: str) -> bool:
        """Whether a follow-up, request or sale was created for the contact since ``since``."""
        found, _ = records.list_for_contact(
            self.tenant_id, kind, self.contact_id, limit=1000, after=None
        )
        return any(r.data.get("created_at", "") >= since for r in found)

    def value(self, field: str) -> Any:
        """The value a rule's field names (``contact.x``, ``contact.extra.x``, ``company.x``)."""
        owner, _, name = field.partition(".")
        source = self.company if owner == "company" else self.contact or {}
        if name.startswith("extra."):
            return (source.get("extra_fields") or {}).get(name.removeprefix("extra."))
        value: Any = source
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def matches(self, rules: list[Rule]) -> bool:
        """All rules hold (an empty list holds)."""
        return all(holds(rule, self.value(rule.field)) for rule in rules)


def holds(rule: Rule, actual: Any) -> bool:
    """Whether one rule holds for the field's ``actual`` value. Text compares ignore case."""
    op, expected = rule.op, rule.value
    if op == "is_empty":
        return actual in (None, "", [], {})
    if op == "is_not_empty":
        return actual not in (None, "", [], {})
    a, e = _fold(actual), _fold(expected)
    if op == "eq":
        return bool(a == e)
    if op == "ne":
        return bool(a != e)
    if op in ("contains", "not_contains"):
        if isinstance(a, list):
            found = e in a
        else:
            found = isinstance(a, str) and isinstance(e, str) and e in a
        return found if op == "contains" else not found
    if op == "starts_with":
        return isinstance(a, str) and isinstance(e, str) and a.startswith(e)
    if op == "in":
        return isinstance(e, list) and a in e
    try:
        if a is None or e is None:
            return False
        results = {"gt": a > e, "gte": a >= e, "lt": a < e, "lte": a <= e}
        return bool(results[op])
    except TypeError:
        return False


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, list):
        return [_fold(v) for v in value]
    return value

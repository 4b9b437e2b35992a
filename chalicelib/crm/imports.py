"""``POST /v1/contacts/import``: many contacts in one call, from a CSV file or a JSON array.

Rules (README "Importing contacts"): each row is a contact's fields; a row whose email belongs
to a contact already is merged into that contact (merge patch), any other row makes a new one.
Every row is checked first: one bad row answers 400 naming its row and field, and nothing is
imported. An import fires no trigger (SPEC.md §2). At most ``MAX_ROWS`` rows per call.

CSV: a header row of field names; ``interests`` and ``subscriptions`` are ``;``-separated;
``extra_fields.<name>`` columns fill extra fields; ``consent.email``/``consent.sms`` and
``retired`` read ``true``/``false``; empty cells are left out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel, ValidationError

from chalicelib.api.problems import ApiError, BadRequestError, FieldError
from chalicelib.api.routing import parse_json
from chalicelib.crm.models import ContactFields
from chalicelib.crm.resources import CONTACT
from chalicelib.crm.service import CrmService
from chalicelib.store import records

MAX_ROWS = 1000
_LISTS = ("interests", "subscriptions")
_BOOLS = ("consent.email", "consent.sms", "retired")


class ImportResult(BaseModel):
    created: int
    updated: int
    contact_ids: list[str]


def parse(raw: bytes, content_type: str) -> list[dict[str, Any]]:
    """The rows of a CSV or JSON body, as contact field dicts."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequestError("The body is not UTF-8 text.") from error
    if content_type == "text/csv":
        rows = [_csv_row(row) for row in csv.DictReader(io.StringIO(text))]
    else:
        rows = parse_json(text)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadRequestError("The body must be a JSON array of contact objects.")
    if not rows:
        raise BadRequestError("There are no rows to import.")
    if len(rows) > MAX_ROWS:
        raise BadRequestError(f"At most {MAX_ROWS} rows per import; split the file.")
    return rows


def _csv_row(row: dict[str | None, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue  # extra cells without a header, and empty cells
        name = name.strip()
        if name in _LISTS:
            out[name] = [part.strip() for part in value.split(";") if part.strip()]
        elif name in _BOOLS:
            parent, _, child = name.rpartition(".")
            flag = value.strip().lower() in ("true", "1", "yes")
            (out.setdefault(parent, {}) if parent else out)[child] = flag
        elif name.startswith("extra_fields."):
            out.setdefault("extra_fields", {})[name.removeprefix("extra_fields.")] = value
        else:
            out[name] = value
    return out


def import_contacts(service: CrmService, rows: list[dict[str, Any]]) -> ImportResult:
    """Check every row, then create or merge each; nothing is written if a row is bad."""
    checked: list[tuple[str | None, ContactFields, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            # Strict, as a create's body is: a CSV row's cells are typed by _csv_row already.
            fields = ContactFields.model_validate(row)
        except ValidationError as error:
            first = error.errors()[0]
            path = ".".join(str(part) for part in first["loc"])
            raise _row_error(index, path, first["msg"]) from error
        email = (fields.email or "").lower()
        if email and email in seen:
            raise _row_error(index, "email", "the same address is on an earlier row")
        seen.add(email)
        try:
            # References, the phone number, extra fields: the checks a write would make.
            service.normalised(CONTACT, fields.model_dump(mode="json"))
        except ApiError as error:
            first_error = (error.errors or [FieldError(path="", message=error.detail)])[0]
            raise _row_error(index, first_error.path, first_error.message) from error
        existing = (
            records.find_unique(service.tenant_id, CONTACT.kind, "email", email) if email else None
        )
        checked.append((existing, fields, row))
    created = updated = 0
    ids: list[str] = []
    for index, (existing, fields, row) in enumerate(checked):
        try:
            if existing:
                ids.append(service.patch(CONTACT, existing, row).id)  # type: ignore[attr-defined]
                updated += 1
            else:
                ids.append(service.create(CONTACT, fields).id)  # type: ignore[attr-defined]
                created += 1
        except ApiError as error:
            # Only a race can get here (another request took an address meanwhile).
            error.detail = f"Row {index + 1}: {error.detail} ({created + updated} rows imported)"
            raise
    return ImportResult(created=created, updated=updated, contact_ids=ids)


def _row_error(index: int, path: str, message: str) -> BadRequestError:
    return BadRequestError(
        f"Row {index + 1} is not a valid contact; nothing was imported.",
        errors=[FieldError(path=f"[{index}].{path}", message=message)],
    )

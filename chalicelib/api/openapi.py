"""The OpenAPI 3.1 document, made from the declared operations and their pydantic models."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api.problems import Problem
from chalicelib.api.routing import MAX_BODY_BYTES, Api, Operation

_PARAM = re.compile(r"{(\w+)}")
_DEFAULT_ERRORS = {
    400: "Malformed JSON, a wrong type or an invalid value",
    401: "Missing or unknown API key",
    403: "The key's role may not make this call",
    404: "Not found (or another tenant's)",
    409: "A rule of the object's lifecycle forbids the call",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes",
    422: "The object has problems that forbid the call",
}
Mode = Literal["validation", "serialization"]


def build_openapi(api: Api, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every operation of ``api``."""
    wanted: list[tuple[type[BaseModel], Mode]] = [(Problem, "serialization")]
    for op in api.operations:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(op: Operation, refs: dict[tuple[Any, Mode], Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
    }
    if op.access is not None:
        entry["security"] = [{"apiKey": []}]
        roles = ", ".join(sorted(role.value for role in op.access))
        entry["description"] = f"Roles: {roles}."
    if op.body is not None:
        entry["requestBody"] = {
            "required": True,
            "content": {ct: {"schema": refs[(op.body, "validation")]} for ct in op.content_types},
        }
    elif op.request_body is not None:
        entry["requestBody"] = op.request_body
    success: dict[str, Any] = {"description": "Success"}
    if op.response is not None:
        success["content"] = {
            op.response_content_type: {"schema": refs[(op.response, "serialization")]}
        }
    responses: dict[str, Any] = {str(op.status): success}
    problem = {"application/problem+json": {"schema": refs[(Problem, "serialization")]}}
    statuses = set(op.errors)
    if op.access is not None:
        statuses |= {401, 403}
    if op.body is not None or op.query is not None or op.request_body is not None:
        statuses.add(400)
    if op.body is not None or op.request_body is not None:
        statuses.add(413)
    if "{" in op.path:
        statuses.add(404)
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _DEFAULT_ERRORS.get(status, "Error"),
            "content": problem,
        }
    for status, answer in op.responses.items():
        responses[str(status)] = answer
    responses = dict(sorted(responses.items()))
    entry["responses"] = responses
    return entry


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema()
        required = set(schema.get("required", []))
        defs = schema.get("$defs", {})
        for name, prop in schema.get("properties", {}).items():
            prop = _inline(prop, defs)
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            }
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    return params


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """A query parameter's schema with each ``#/$defs/`` reference (an enum) written out: the
    parameter stands alone in the document, where the query model's ``$defs`` do not exist."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        inlined = {key: _inline(value, defs) for key, value in node.items() if key != "$ref"}
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs) | inlined
        return inlined if ref is None else inlined | {"$ref": ref}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node

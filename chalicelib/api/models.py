"""Base classes for the API's pydantic models."""

from __future__ import annotations

from typing import Any, Optional, cast

from pydantic import BaseModel, ConfigDict, create_model


class ApiModel(BaseModel):
    """A request body: unknown fields and wrong JSON types are errors, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Stamped(BaseModel):
    """What the server adds to every stored object."""

    id: str
    created_at: str
    updated_at: str


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """A copy of ``model`` whose every field is optional: the schema of a merge-patch body."""
    fields: dict[str, Any] = {
        field_name: (Optional[info.annotation], None)  # noqa: UP045
        for field_name, info in model.model_fields.items()
    }
    return cast(type[BaseModel], create_model(name, __config__=model.model_config, **fields))


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON merge patch: objects merge, ``null`` removes, anything else replaces."""
    result = dict(target)
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        elif isinstance(value, dict) and isinstance(result.get(name), dict):
            result[name] = merge_patch(result[name], value)
        else:
            result[name] = value
    return result

"""Base classes for the API's pydantic models."""

from __future__ import annotations

from typing import Annotated, Any, Optional, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

MAX_ID_LENGTH = 200
# DynamoDB refuses a sort key over 1,024 bytes (a partition key over 2,048), even in a read;
# 200 characters are at most 800 bytes of UTF-8; the server's ids are a prefix and 26 (``new_id``).

Id = Annotated[str, Field(max_length=MAX_ID_LENGTH)]
"""An id in a request body (a selection, a form, an associate, a flow, ...), bounded like an id
in a path: a longer one names nothing and is a 400 at its field, never a key sent to DynamoDB.
An empty one passes here: a flow takes it as a gap (a problem), a CRM body as a bad reference."""


class ApiModel(BaseModel):
    """A request body: unknown fields and wrong JSON types are errors, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Stamped(BaseModel):
    """What the server adds to every stored object."""

    id: str
    created_at: str
    updated_at: str


def partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """A copy of ``model`` whose every field is optional: the schema of a merge-patch body.

    Each field keeps its constraints and strictness (``info.metadata``) and its description, so
    a patch is read the way a create body is. A nested model becomes a partial too, since its
    patch merges into the stored object; cross-field rules are judged on the merged result.
    """
    fields: dict[str, Any] = {
        field_name: (
            Annotated[
                (
                    Optional[_patch_of(info.annotation)],  # noqa: UP045
                    *info.metadata,
                    Field(description=info.description),
                )
            ],
            None,
        )
        for field_name, info in model.model_fields.items()
    }
    return cast(type[BaseModel], create_model(name, __config__=model.model_config, **fields))


def _patch_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return partial(annotation, f"{annotation.__name__}Patch")
    return annotation


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON merge patch: objects merge, ``null`` removes, anything else replaces."""
    result = dict(target)
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        elif isinstance(value, dict):
            # A member that is not an object is patched as {} (RFC 7396), so nulls never stay.
            current = result.get(name)
            result[name] = merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            result[name] = value
    return result

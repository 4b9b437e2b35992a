"""RFC 7396 JSON merge patch and the partial models that describe patch bodies."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from chalicelib.api.models import ApiModel, merge_patch, partial
from chalicelib.crm.models import ContactFields, FollowUpFields, ScriptFields
from chalicelib.tenants.models import TenantSettings

# Few key names, so that patches and targets share keys and objects merge into objects.
keys = st.sampled_from("abcd")
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=3)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(keys, json_values, max_size=4)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _has_null_member(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or _has_null_member(v) for v in value.values())
    return False


null_free_objects = json_objects.map(_without_nulls)

# Generating nested JSON is slow; with four key names 50 pairs already collide often.
quick = settings(max_examples=50)


# RFC 7396 appendix A, the cases whose target and patch are both objects (a request body is
# always an object, so the array, string and null patches of the appendix cannot occur).
@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_rfc_7396_appendix_a(
    target: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]
) -> None:
    assert merge_patch(target, patch) == result


def test_rfc_7396_section_3_example() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {
        "title": "Hello!",
        "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": None},
        "tags": ["example"],
    }

    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_an_object_replacing_a_scalar_loses_its_nulls() -> None:
    # RFC 7396: a non-object target member is replaced by {} and then patched.
    assert merge_patch({"a": "b"}, {"a": {"x": 1, "y": None}}) == {"a": {"x": 1}}


def test_removing_a_missing_member_is_a_no_op() -> None:
    assert merge_patch({"a": 1}, {"b": None}) == {"a": 1}


@given(json_objects)
def test_an_empty_patch_changes_nothing(target: dict[str, Any]) -> None:
    assert merge_patch(target, {}) == target


@given(json_objects, json_objects)
@quick
def test_the_target_is_never_mutated(target: dict[str, Any], patch: dict[str, Any]) -> None:
    before = copy.deepcopy(target)

    merge_patch(target, patch)

    assert target == before


@given(json_objects, null_free_objects)
@quick
def test_a_patch_without_nulls_makes_every_patched_key_present(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge_patch(target, patch)

    for name, value in patch.items():
        assert name in result
        if not isinstance(value, dict):
            assert result[name] == value


@given(json_objects, json_objects)
@quick
def test_null_removes_and_untouched_keys_stay(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge_patch(target, patch)

    for name, value in patch.items():
        if value is None:
            assert name not in result
    for name, value in target.items():
        if name not in patch:
            assert result[name] == value


@given(null_free_objects, json_objects)
@quick
def test_a_patch_never_leaves_a_null_behind(target: dict[str, Any], patch: dict[str, Any]) -> None:
    assert not _has_null_member(merge_patch(target, patch))


@given(json_objects, json_objects)
@quick
def test_applying_a_patch_twice_is_applying_it_once(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    once = merge_patch(target, patch)

    assert merge_patch(once, patch) == once


class Thing(ApiModel):
    name: str = Field(..., min_length=1, max_length=5)
    count: int = 0
    tags: list[str] = Field(default_factory=list)


ThingPatch = partial(Thing, "ThingPatch")


def test_partial_makes_every_field_optional() -> None:
    patch = ThingPatch.model_validate({})

    assert all(not info.is_required() for info in ThingPatch.model_fields.values())
    assert patch.model_dump() == {"name": None, "count": None, "tags": None}
    assert ThingPatch.__name__ == "ThingPatch"


def test_partial_accepts_null_for_every_field() -> None:
    patch = ThingPatch.model_validate({"name": None, "count": None, "tags": None})

    assert patch.model_dump(exclude_unset=True) == {"name": None, "count": None, "tags": None}


def test_partial_still_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ThingPatch.model_validate({"colour": "red"})


def test_partial_is_still_strict() -> None:
    with pytest.raises(ValidationError):
        ThingPatch.model_validate({"count": "3"})


@pytest.mark.parametrize("model", [ContactFields, FollowUpFields, ScriptFields])
def test_partial_of_every_real_model_accepts_an_empty_patch(model: type[ApiModel]) -> None:
    patch_model = partial(model, f"{model.__name__}Patch")

    assert patch_model.model_validate({}).model_dump(exclude_unset=True) == {}


def test_partial_keeps_the_field_constraints() -> None:
    with pytest.raises(ValidationError, match="at most 5 characters"):
        ThingPatch.model_validate({"name": "too long"})


def test_partial_keeps_a_fields_lax_parsing() -> None:
    # FollowUpFields reads its times from JSON strings (strict=False on the field); so must its
    # patch, or PATCH /v1/follow-ups/{id} with a new start is a 400.
    patch_model = partial(FollowUpFields, "FollowUpPatch")

    patch = patch_model.model_validate({"start": "2025-03-01T09:00:00Z"})

    assert patch.model_dump()["start"].isoformat() == "2025-03-01T09:00:00+00:00"


def test_partial_keeps_the_description() -> None:
    patch_model = partial(ScriptFields, "ScriptPatch")

    assert patch_model.model_fields["function_arn"].description == (
        ScriptFields.model_fields["function_arn"].description
    )


def test_a_nested_object_in_a_patch_is_a_patch_too() -> None:
    # Given stored hours of 09:00-20:00, {"start": "18:00"} is a valid patch: the defaults of
    # WorkingHours (end 17:00) must not be filled in and judged before the merge.
    patch_model = partial(TenantSettings, "TenantSettingsPatch")

    patch = patch_model.model_validate({"working_hours": {"start": "18:00"}})

    assert patch.model_dump(exclude_unset=True) == {"working_hours": {"start": "18:00"}}


def test_a_nested_patch_may_remove_a_member_and_keeps_its_rules() -> None:
    patch_model = partial(TenantSettings, "TenantSettingsPatch")

    assert patch_model.model_validate({"working_hours": {"end": None}})
    with pytest.raises(ValidationError, match="should match pattern"):
        patch_model.model_validate({"working_hours": {"start": "9 am"}})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        patch_model.model_validate({"working_hours": {"lunch": "12:00"}})


def test_a_nested_patch_merged_into_the_stored_object_is_judged_whole() -> None:
    stored = TenantSettings.model_validate({"working_hours": {"end": "20:00"}}).model_dump()

    merged = TenantSettings.model_validate(
        merge_patch(stored, {"working_hours": {"start": "18:00"}})
    )

    assert (merged.working_hours.start, merged.working_hours.end) == ("18:00", "20:00")
    with pytest.raises(ValidationError, match="start must be before end"):
        TenantSettings.model_validate(merge_patch(stored, {"working_hours": {"start": "21:00"}}))

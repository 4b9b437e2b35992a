"""Extra-field values checked against the tenant's definitions."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api.problems import BadRequestError
from chalicelib.crm.extra_fields import check_extra_fields

DEFINITIONS: list[dict[str, Any]] = [
    {"name": "nickname", "type": "text"},
    {"name": "score", "type": "number"},
    {"name": "birthday", "type": "date"},
    {"name": "vip", "type": "bool"},
    {"name": "size", "type": "list", "options": ["S", "M", "L"]},
]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nickname", "Bob"),
        ("nickname", ""),
        ("score", 3),
        ("score", 0),
        ("score", -2.5),
        ("birthday", "1990-02-28"),
        ("birthday", "2024-02-29"),
        ("vip", True),
        ("vip", False),
        ("size", "M"),
    ],
)
def test_a_value_of_the_right_type_is_accepted(name: str, value: Any) -> None:
    assert check_extra_fields({name: value}, DEFINITIONS) == {name: value}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("nickname", 3, "a string"),
        ("nickname", True, "a string"),
        ("nickname", ["Bob"], "a string"),
        ("score", "3", "a number"),
        ("score", True, "a number"),
        ("score", False, "a number"),
        ("score", [1], "a number"),
        ("birthday", "28.02.1990", "a date"),
        ("birthday", "1990-2-28", "a date"),
        ("birthday", "19900228", "a date"),
        ("birthday", "1990-02-30", "a date"),
        ("birthday", "1990-02-28T10:00:00", "a date"),
        ("birthday", "2024-W09-4", "a date"),
        ("birthday", 19900228, "a date"),
        ("vip", "true", "true or false"),
        ("vip", 1, "true or false"),
        ("vip", 0, "true or false"),
        ("size", "XL", "one of"),
        ("size", "m", "one of"),
        ("size", ["S"], "one of"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_400_naming_the_field(
    name: str, value: Any, expected: str
) -> None:
    with pytest.raises(BadRequestError, match=expected) as raised:
        check_extra_fields({name: value}, DEFINITIONS)

    assert raised.value.errors is not None
    assert [e.path for e in raised.value.errors] == [f"extra_fields.{name}"]


def test_a_list_field_error_lists_the_options() -> None:
    with pytest.raises(BadRequestError, match=r"one of \['S', 'M', 'L'\]"):
        check_extra_fields({"size": "XL"}, DEFINITIONS)


def test_null_clears_a_value() -> None:
    result = check_extra_fields({"nickname": None, "score": 1}, DEFINITIONS)

    assert result == {"score": 1}


def test_null_for_every_type_is_accepted() -> None:
    values = {d["name"]: None for d in DEFINITIONS}

    assert check_extra_fields(values, DEFINITIONS) == {}


def test_an_unknown_name_is_a_400() -> None:
    with pytest.raises(BadRequestError, match="no extra field of this name") as raised:
        check_extra_fields({"shoe_size": 42}, DEFINITIONS)

    assert raised.value.errors is not None
    assert raised.value.errors[0].path == "extra_fields.shoe_size"


def test_names_match_exactly() -> None:
    with pytest.raises(BadRequestError, match="no extra field of this name"):
        check_extra_fields({"Nickname": "Bob"}, DEFINITIONS)


def test_no_definitions_means_no_extra_fields() -> None:
    assert check_extra_fields({}, []) == {}
    with pytest.raises(BadRequestError):
        check_extra_fields({"nickname": "Bob"}, [])


def test_several_good_values_all_come_back() -> None:
    values = {"nickname": "Bob", "score": 7, "birthday": "2000-01-01", "vip": True, "size": "L"}

    assert check_extra_fields(values, DEFINITIONS) == values


def test_the_input_is_not_changed() -> None:
    values = {"nickname": None, "score": 1}

    check_extra_fields(values, DEFINITIONS)

    assert values == {"nickname": None, "score": 1}

"""The CRM request models: strict JSON types, closed bodies and the cross-field rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.crm.models import (
    AssociateFields,
    CompanyFields,
    Consent,
    ContactFields,
    ExtraFieldFields,
    FollowUpFields,
    SaleFields,
    ScriptFields,
)

ARN = "arn:aws:lambda:eu-north-1:123456789012:function:enrich-contact"


def _paths(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in error.errors()]


def test_a_contact_body_may_be_empty() -> None:
    contact = ContactFields.model_validate({})

    assert contact.first_name == ""
    assert contact.consent == Consent(email=True, sms=True)
    assert contact.extra_fields == {}


@pytest.mark.parametrize(
    ("model", "body", "path"),
    [
        (ContactFields, {"first_name": 42}, "first_name"),
        (ContactFields, {"retired": "false"}, "retired"),
        (ContactFields, {"retired": 0}, "retired"),
        (ContactFields, {"interests": "golf"}, "interests"),
        (ContactFields, {"consent": {"sms": "no"}}, "consent.sms"),
        (CompanyFields, {"name": 7}, "name"),
        (AssociateFields, {"name": "Ann", "active": "yes"}, "active"),
        (SaleFields, {"title": "Deal", "amount": "100"}, "amount"),
    ],
)
def test_a_wrong_json_type_is_rejected_not_coerced(
    model: type[Any], body: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(body)

    assert _paths(raised.value) == [path]


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (ContactFields, {"shoe_size": 42}),
        (ContactFields, {"consent": {"email": True, "fax": True}}),
        (CompanyFields, {"name": "Acme", "vat": "NO123"}),
        (ExtraFieldFields, {"name": "size", "type": "text", "label": "Size"}),
        (ScriptFields, {"name": "s", "function_arn": ARN, "timeout": 3}),
    ],
)
def test_an_unknown_field_is_rejected(model: type[Any], body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(body)


def test_a_sale_amount_may_be_a_whole_number_but_not_negative() -> None:
    assert SaleFields.model_validate({"title": "Deal", "amount": 100}).amount == 100.0
    with pytest.raises(ValidationError):
        SaleFields.model_validate({"title": "Deal", "amount": -1})


@pytest.mark.parametrize(
    "body",
    [
        {"name": "size", "type": "list", "options": ["S", "M"]},
        {"name": "nickname", "type": "text"},
        {"name": "_x9", "type": "number"},
        {"name": "a" * 64, "type": "bool"},
    ],
)
def test_a_good_extra_field_definition(body: dict[str, Any]) -> None:
    assert ExtraFieldFields.model_validate(body).name == body["name"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "size", "type": "list"}, "a list field needs options"),
        ({"name": "size", "type": "list", "options": []}, "a list field needs options"),
        ({"name": "size", "type": "list", "options": None}, "a list field needs options"),
        ({"name": "size", "type": "text", "options": ["S"]}, "only a list field has options"),
        ({"name": "size", "type": "text", "options": []}, "only a list field has options"),
        ({"name": "size", "type": "colour"}, "Input should be"),
        ({"name": "1size", "type": "text"}, "should match pattern"),
        ({"name": "shoe size", "type": "text"}, "should match pattern"),
        ({"name": "a" * 65, "type": "text"}, "should match pattern"),
    ],
)
def test_a_bad_extra_field_definition(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExtraFieldFields.model_validate(body)


def test_a_follow_up_reads_its_times_from_json_strings() -> None:
    follow_up = FollowUpFields.model_validate(
        {"title": "Call", "start": "2025-03-01T09:00:00+01:00", "end": "2025-03-01T09:30:00Z"}
    )

    assert follow_up.start == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert follow_up.end == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_follow_up_may_start_and_end_at_once() -> None:
    at = "2025-03-01T09:00:00Z"

    assert FollowUpFields.model_validate({"title": "Call", "start": at, "end": at})


def test_a_follow_up_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValidationError, match="end is before start"):
        FollowUpFields.model_validate(
            {"title": "Call", "start": "2025-03-01T10:00:00Z", "end": "2025-03-01T09:00:00Z"}
        )


def test_the_order_of_times_is_compared_across_zones() -> None:
    # 10:00+02:00 is 08:00Z, so an end of 09:00Z is after the start.
    assert FollowUpFields.model_validate(
        {"title": "Call", "start": "2025-03-01T10:00:00+02:00", "end": "2025-03-01T09:00:00Z"}
    )
    with pytest.raises(ValidationError, match="end is before start"):
        FollowUpFields.model_validate(
            {"title": "Call", "start": "2025-03-01T08:00:00Z", "end": "2025-03-01T09:00:00+02:00"}
        )


def test_a_follow_up_time_needs_a_zone() -> None:
    with pytest.raises(ValidationError):
        FollowUpFields.model_validate({"title": "Call", "start": "2025-03-01T09:00:00"})


def test_a_follow_up_needs_a_title_and_a_known_type() -> None:
    with pytest.raises(ValidationError):
        FollowUpFields.model_validate({})
    with pytest.raises(ValidationError):
        FollowUpFields.model_validate({"title": "Call", "type": "lunch"})


@pytest.mark.parametrize(
    "arn",
    [
        ARN,
        f"{ARN}:prod",
        f"{ARN}:7",
        f"{ARN}:$LATEST",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:f_1",
    ],
)
def test_a_lambda_function_arn_is_accepted(arn: str) -> None:
    assert ScriptFields.model_validate({"name": "s", "function_arn": arn}).function_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "enrich-contact",
        "arn:aws:lambda:eu-north-1:12345678901:function:f",
        "arn:aws:lambda:eu-north-1:123456789012:function:",
        "arn:aws:lambda:eu-north-1:123456789012:layer:f",
        "arn:aws:sqs:eu-north-1:123456789012:function:f",
        "arn:aws:lambda:EU-NORTH-1:123456789012:function:f",
        "arn:aws:lambda:eu-north-1:123456789012:function:f:prod:extra",
        f"{ARN}\n",
        f" {ARN}",
    ],
)
def test_anything_but_a_lambda_function_arn_is_rejected(arn: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ScriptFields.model_validate({"name": "s", "function_arn": arn})

    assert _paths(raised.value) == ["function_arn"]

"""Every step type's settings model and save-time checks (SPEC.md §5, API.md "Step settings")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from chalicelib.flows.definition import FlowDefinition
from chalicelib.messaging.merge_tags import unknown_tags
from chalicelib.steps.base import Issue
from chalicelib.steps.registry import STEP_TYPES

API_STEP_TYPES = [
    "send_email",
    "send_sms",
    "wait_time",
    "wait_for_action",
    "split",
    "update_contact",
    "add_to_list",
    "remove_from_list",
    "distribute_to_owner",
    "create_follow_up",
    "create_request",
    "create_sale",
    "run_script",
    "notify_email",
    "notify_sms",
]

EXISTING: dict[str, set[str]] = {
    "mailing": {"m1"},
    "link": {"l1"},
    "form": {"f1"},
    "selection": {"sel1"},
    "project": {"p1"},
    "associate": {"a1", "a2"},
    "group": {"g1"},
    "script": {"sc1"},
    "flow": {"fl1"},
}
EXTRA_FIELDS = {"shoe_size": "number", "vip": "bool", "tier": "list", "note": "text"}
MB = 1024 * 1024
ATTACHMENTS = {"small.pdf": 1024, "big.zip": 20 * MB, "big2.zip": 10 * MB, "exact.zip": 25 * MB}

EMAIL_SETTINGS: dict[str, Any] = {
    "from": {"type": "specified", "address": "news@example.com", "name": "Example"},
    "reply_to": {"type": "from"},
    "subscription": "newsletter",
}


class FakeContext:
    """A CheckContext over fixed tenant objects."""

    def __init__(self, flow: FlowDefinition) -> None:
        self.flow = flow

    def ref(self, kind: str, object_id: str | None, path: str) -> Iterator[Issue]:
        assert kind in EXISTING, kind
        if object_id and object_id not in EXISTING[kind]:
            yield Issue(path, f"{kind} {object_id!r} does not exist")

    def tags(self, text: str | None, path: str) -> Iterator[Issue]:
        for tag in unknown_tags(text or "", self.extra_field_types()):
            yield Issue(path, f"unknown merge tag [[{tag}]]")

    def extra_field_types(self) -> dict[str, str]:
        return EXTRA_FIELDS

    def attachment_size(self, key: str) -> int | None:
        return ATTACHMENTS.get(key)


def flow_of(step: dict[str, Any], **flow: Any) -> FlowDefinition:
    body = {
        "name": "Test",
        "timezone": "Europe/Oslo",
        "email_settings": EMAIL_SETTINGS,
        "sms_sender": "Example",
        "steps": [step],
        **flow,
    }
    return FlowDefinition.model_validate(body)


def issues_of(step: dict[str, Any], **flow: Any) -> list[Issue]:
    definition = flow_of(step, **flow)
    parsed = definition.steps[0]
    return list(STEP_TYPES[parsed.type].check(FakeContext(definition), parsed.settings, parsed))


def step(type_: str, **settings: Any) -> dict[str, Any]:
    return {"type": type_, "settings": settings}


CLEAN = [
    step("send_email", mailing_id="m1"),
    step(
        "send_email",
        mailing_id="m1",
        subject="Hi [[customer.firstname]]",
        attachments=["small.pdf"],
    ),
    step("send_email", subject="Hi", html="<p>[[customer.extra.note]]</p>", text="Hi"),
    step("send_email", mailing_id="m1", attachments=["exact.zip"]),
    step("send_sms", text="Hi [[customer.firstname]]"),
    step("send_sms", sender="Shop", text="Hi", exit_if_no_mobile=True),
    step("wait_time", duration="P2D"),
    step("wait_time", working_days=3),
    step("wait_time", until="2026-12-01T09:00:00Z"),
    step(
        "wait_for_action",
        actions=[
            {"type": "link_clicked", "link_id": "l1"},
            {"type": "form_submitted", "form_id": "f1"},
        ],
        max_wait="P3D",
        exit_on_timeout=True,
    ),
    step("wait_for_action", actions=[{"type": "form_submitted", "form_id": "f1"}], max_wait=None),
    {
        "type": "split",
        "settings": {"basis": "selection_member"},
        "branches": [{"name": "VIP", "condition": {"selection_id": "sel1"}, "steps": []}],
        "everyone_else": {"exit": False, "steps": []},
    },
    step(
        "update_contact",
        updates=[
            {"field": "category", "action": "select", "value": "Lead"},
            {"field": "interests", "action": "add", "value": "Pricing"},
            {"field": "first_name", "action": "set", "value": "[[customer.firstname]]"},
            {
                "field": "last_name",
                "action": "search_replace",
                "value": {"search": "a", "replace": "b"},
            },
            {"field": "mobile_phone", "action": "regex_replace", "value": {"search": r"^0+"}},
            {"field": "consent.sms", "action": "uncheck"},
            {"field": "extra.shoe_size", "action": "set", "value": 42},
            {"field": "extra.vip", "action": "toggle"},
            {"field": "extra.note", "action": "clear"},
            {"field": "company.name", "action": "set", "value": "Acme"},
        ],
    ),
    step("add_to_list", selection_id="sel1", project_id=None),
    step("add_to_list", project_id="p1"),
    step("remove_from_list", selection_id="sel1", project_id="p1"),
    step("distribute_to_owner", associate_ids=["a1", "a2"], fallback_owner_id="a1"),
    step("distribute_to_owner", group_id="g1", only_if_unassigned=False),
    step("create_follow_up", title="Call [[customer.name]]", due_in="P3D", project_id="p1"),
    step(
        "create_follow_up",
        title="Meet",
        type="meeting",
        description="",
        project_id=None,
        meeting={"duration": "PT30M", "first_available_after": "P2D"},
        assign_to="our_service_contact",
    ),
    step("create_follow_up", title="Call", due_in="PT4H", assign_to={"associate_id": "a2"}),
    step(
        "create_request",
        title="Help [[customer.name]]",
        type="question",
        status="open",
        category="Support",
        priority="high",
        owner="auto",
        message="From [[customer.email]]",
    ),
    step("create_request", title="Help", owner="unassigned"),
    step("create_request", title="Help", owner="a1"),
    step(
        "create_sale",
        title="Deal with [[company.name]]",
        type="new",
        stage="lead",
        amount=0,
        description="",
        project_id="p1",
        date={"after": "P30D"},
        owner="our_contact",
    ),
    step("create_sale", title="Deal", amount=12.5, owner="a2"),
    step("run_script", script_id="sc1"),
    step("notify_email", to="our_contact", subject="New lead", text="[[customer.name]] signed up"),
    step("notify_email", to="boss@example.com", subject="New lead", text="Hi"),
    step("notify_sms", to="our_service_contact", text="Call [[customer.cellphone]]"),
    step("notify_sms", to=["+4791234567", "+12015550123"], sender="Shop", text="Hi"),
]


def test_the_registry_lists_the_fifteen_step_types_of_the_api() -> None:
    assert set(STEP_TYPES) == set(API_STEP_TYPES)
    assert list(STEP_TYPES) == API_STEP_TYPES


def test_every_step_type_has_a_clean_example() -> None:
    assert {s["type"] for s in CLEAN} == set(STEP_TYPES)


@pytest.mark.parametrize("clean", CLEAN, ids=[f"{s['type']}-{i}" for i, s in enumerate(CLEAN)])
def test_a_complete_step_has_no_problems(clean: dict[str, Any]) -> None:
    assert issues_of(clean) == []


@pytest.mark.parametrize(
    ("step_type", "flags"),
    [
        ("send_email", {"sends_email": True, "holds_participants": False}),
        ("wait_time", {"holds_participants": True, "sends_email": False}),
        ("wait_for_action", {"holds_participants": True, "sends_email": False}),
        ("split", {"holds_participants": True, "has_branches": True}),
        ("update_contact", {"holds_participants": False, "has_branches": False}),
    ],
)
def test_step_type_flags(step_type: str, flags: dict[str, bool]) -> None:
    for name, value in flags.items():
        assert getattr(STEP_TYPES[step_type], name) is value


def test_an_empty_step_saves_with_the_defaults_of_the_spec() -> None:
    def settings(type_: str) -> Any:
        return flow_of(step(type_)).steps[0].settings

    assert settings("wait_for_action").max_wait == "P7D"
    assert settings("wait_for_action").exit_on_timeout is False
    assert settings("distribute_to_owner").only_if_unassigned is True
    assert settings("send_sms").exit_if_no_mobile is False
    assert flow_of(step("wait_for_action", max_wait=None)).steps[0].settings.max_wait is None
    for type_ in STEP_TYPES:
        flow_of(step(type_))


def test_settings_round_trip_through_the_flow_dump() -> None:
    definition = FlowDefinition.model_validate({"name": "Test", "steps": CLEAN})
    dumped = definition.dump()
    assert FlowDefinition.model_validate(dumped).dump() == dumped
    assert dumped["steps"][1]["settings"]["attachments"] == ["small.pdf"]


# (path, severity, a fragment of the message), in the order the check yields them.
Expected = list[tuple[str, str, str]]
NO_EMAIL_SETTINGS = {"email_settings": {}}


def case(
    step_: dict[str, Any], expected: Expected, id_: str, **flow: Any
) -> Any:  # a pytest ParameterSet
    return pytest.param(step_, flow, expected, id=f"{step_['type']}-{id_}")


PROBLEMS = [
    # send_email
    case(
        step("send_email"),
        [
            ("settings.mailing_id", "error", "no content"),
            ("settings.subject", "error", "no subject"),
        ],
        "empty",
    ),
    case(
        step("send_email", html="<p>Hi</p>"),
        [("settings.subject", "error", "no subject")],
        "no-subject",
    ),
    case(
        step("send_email", subject="Hi"),
        [("settings.mailing_id", "error", "no content")],
        "no-content",
    ),
    case(
        step("send_email", mailing_id="nope"),
        [("settings.mailing_id", "error", "does not exist")],
        "unknown-mailing",
    ),
    case(
        step(
            "send_email",
            mailing_id="m1",
            subject="Hi [[customer.shoe]]",
            html="[[x]]",
            text="[[y]]",
        ),
        [
            ("settings.subject", "error", "[[customer.shoe]]"),
            ("settings.html", "error", "[[x]]"),
            ("settings.text", "error", "[[y]]"),
        ],
        "unknown-tags",
    ),
    case(
        step("send_email", mailing_id="m1", attachments=["small.pdf", "missing.pdf"]),
        [("settings.attachments[1]", "error", "'missing.pdf' does not exist")],
        "missing-attachment",
    ),
    case(
        step("send_email", mailing_id="m1", attachments=["big.zip", "big2.zip"]),
        [("settings.attachments", "error", "25 MB")],
        "attachments-too-big",
    ),
    case(
        step("send_email", mailing_id="m1"),
        [
            ("settings.from", "error", "sender address is missing"),
            ("settings.reply_to", "error", "reply-to address is missing"),
        ],
        "no-email-settings",
        **NO_EMAIL_SETTINGS,
    ),
    case(
        step("send_email", mailing_id="m1"),
        [
            ("settings.from", "error", "sender address is missing"),
            ("settings.reply_to", "error", "reply-to address is missing"),
        ],
        "specified-without-address",
        email_settings={"from": {"type": "specified"}, "reply_to": {"type": "specified"}},
    ),
    case(
        step("send_email", mailing_id="m1"),
        [("settings.from", "warning", "fallback")],
        "owner-without-fallback",
        email_settings={"from": {"type": "our_contact"}, "reply_to": {"type": "none"}},
    ),
    case(
        step("send_email", mailing_id="m1"),
        [],
        "owner-with-fallback",
        email_settings={
            "from": {"type": "our_service_contact", "fallback_address": "news@example.com"},
            "reply_to": {"type": "our_contact"},
        },
    ),
    # send_sms
    case(
        step("send_sms"),
        [("settings.text", "error", "no text"), ("settings.sender", "error", "no sender")],
        "empty-without-flow-sender",
        sms_sender=None,
    ),
    case(step("send_sms", text="Hi [[nope]]"), [("settings.text", "error", "[[nope]]")], "tag"),
    # wait_time
    case(step("wait_time"), [("settings.duration", "error", "no duration")], "empty"),
    case(
        step("wait_time", duration="P1D", working_days=2),
        [("settings.working_days", "error", "give one of")],
        "two-kinds",
    ),
    case(
        step("wait_time", working_days=2),
        [("settings.working_days", "warning", "timezone")],
        "no-timezone",
        timezone=None,
    ),
    # wait_for_action
    case(step("wait_for_action"), [("settings.actions", "error", "no actions")], "no-actions"),
    case(
        step("wait_for_action", actions=[{"type": "link_clicked"}, {"type": "form_submitted"}]),
        [
            ("settings.actions[0].link_id", "error", "names no link"),
            ("settings.actions[1].form_id", "error", "names no form"),
        ],
        "no-targets",
    ),
    case(
        step(
            "wait_for_action",
            actions=[
                {"type": "link_clicked", "link_id": "gone"},
                {"type": "form_submitted", "form_id": "gone"},
            ],
        ),
        [
            ("settings.actions[0].link_id", "error", "link 'gone' does not exist"),
            ("settings.actions[1].form_id", "error", "form 'gone' does not exist"),
        ],
        "unknown-targets",
    ),
    case(
        step(
            "wait_for_action",
            actions=[{"type": "link_clicked", "link_id": "l1"}],
            max_wait=None,
            exit_on_timeout=True,
        ),
        [("settings.exit_on_timeout", "warning", "never times out")],
        "exit-without-timeout",
    ),
    # split
    case(step("split"), [("settings.basis", "error", "no basis")], "no-basis"),
    case(
        {
            "type": "split",
            "settings": {"basis": "link_clicked"},
            "branches": [{"name": "A"}, {"name": "B", "condition": {"link_id": "gone"}}],
        },
        [
            ("branches[0].condition", "error", "no condition"),
            ("branches[1].condition.link_id", "error", "does not exist"),
        ],
        "branches",
    ),
    # update_contact
    case(step("update_contact"), [("settings.updates", "error", "no fields")], "no-updates"),
    case(
        step(
            "update_contact",
            updates=[
                {"field": "category", "action": "select", "value": "Lead"},
                {"field": "shoe", "action": "set", "value": "x"},
                {"field": "interests", "action": "set", "value": "x"},
                {"field": "email", "action": "set", "value": "a@example.com"},
                {"field": "extra.vip", "action": "set", "value": "x"},
                {"action": "clear"},
                {"field": "first_name"},
            ],
        ),
        [
            ("settings.updates[1].field", "error", "unknown field 'shoe'"),
            ("settings.updates[2].action", "error", "action 'set' does not apply to a multi field"),
            ("settings.updates[3].field", "error", "cannot be changed"),
            ("settings.updates[4].action", "error", "action 'set' does not apply to a bool field"),
            ("settings.updates[5].field", "error", "names no field"),
            ("settings.updates[6].action", "error", "no action"),
        ],
        "fields-and-actions",
    ),
    case(
        step(
            "update_contact",
            updates=[
                {"field": "category", "action": "select"},
                {"field": "last_name", "action": "search_replace"},
                {"field": "last_name", "action": "search_replace", "value": "x"},
                {"field": "last_name", "action": "regex_replace", "value": {"search": "("}},
                {"field": "extra.shoe_size", "action": "set", "value": "42"},
                {"field": "first_name", "action": "set", "value": 42},
                {"field": "first_name", "action": "set", "value": "[[customer.shoe]]"},
                {
                    "field": "last_name",
                    "action": "search_replace",
                    "value": {"search": "a", "replace": "[[nope]]"},
                },
                {"field": "interests", "action": "remove", "value": ""},
            ],
        ),
        [
            ("settings.updates[0].value", "error", "select needs a value"),
            ("settings.updates[1].value", "error", "search_replace needs a value"),
            ("settings.updates[2].value", "error", "search_replace needs a value"),
            ("settings.updates[3].value.search", "error", "not a valid regular expression"),
            ("settings.updates[4].value", "error", "does not fit a number field"),
            ("settings.updates[5].value", "error", "does not fit a text field"),
            ("settings.updates[6].value", "error", "[[customer.shoe]]"),
            ("settings.updates[7].value", "error", "[[nope]]"),
        ],
        "values",
    ),
    # add_to_list, remove_from_list
    case(step("add_to_list"), [("settings.selection_id", "error", "no selection")], "empty"),
    case(step("remove_from_list"), [("settings.selection_id", "error", "no selection")], "empty"),
    case(
        step("add_to_list", selection_id="gone", project_id="gone"),
        [
            ("settings.selection_id", "error", "selection 'gone' does not exist"),
            ("settings.project_id", "error", "project 'gone' does not exist"),
        ],
        "unknown",
    ),
    case(
        step("remove_from_list", selection_id="gone", project_id="gone"),
        [
            ("settings.selection_id", "error", "selection 'gone' does not exist"),
            ("settings.project_id", "error", "project 'gone' does not exist"),
        ],
        "unknown",
    ),
    # distribute_to_owner
    case(step("distribute_to_owner"), [("settings.associate_ids", "error", "group")], "empty"),
    case(
        step(
            "distribute_to_owner",
            associate_ids=["a1", "gone"],
            group_id="gone",
            fallback_owner_id="x",
        ),
        [
            ("settings.associate_ids[1]", "error", "associate 'gone' does not exist"),
            ("settings.group_id", "error", "group 'gone' does not exist"),
            ("settings.fallback_owner_id", "error", "associate 'x' does not exist"),
        ],
        "unknown",
    ),
    # create_follow_up
    case(
        step("create_follow_up"),
        [("settings.title", "error", "no title"), ("settings.due_in", "warning", "due in")],
        "empty",
    ),
    case(
        step("create_follow_up", title="Meet", type="meeting"),
        [("settings.meeting", "warning", "no meeting settings")],
        "meeting-without-settings",
    ),
    case(
        step("create_follow_up", title="Meet", type="meeting", meeting={"first_available": False}),
        [("settings.meeting", "warning", "no start")],
        "meeting-without-start",
    ),
    case(
        step(
            "create_follow_up",
            title="Call [[nope]]",
            description="[[customer.extra.gone]]",
            due_in="P1D",
            project_id="gone",
            assign_to={"associate_id": "gone"},
        ),
        [
            ("settings.assign_to.associate_id", "error", "associate 'gone' does not exist"),
            ("settings.project_id", "error", "project 'gone' does not exist"),
            ("settings.title", "error", "[[nope]]"),
            ("settings.description", "error", "[[customer.extra.gone]]"),
        ],
        "unknown",
    ),
    case(
        step("create_follow_up", title="Call", due_in="P1D", assign_to={}),
        [("settings.assign_to.associate_id", "error", "no associate")],
        "assign-to-nobody",
    ),
    # create_request
    case(step("create_request"), [("settings.title", "error", "no title")], "empty"),
    case(
        step("create_request", title="Help [[nope]]", owner="gone", message="[[nope2]]"),
        [
            ("settings.owner", "error", "associate 'gone' does not exist"),
            ("settings.title", "error", "[[nope]]"),
            ("settings.message", "error", "[[nope2]]"),
        ],
        "unknown",
    ),
    # create_sale
    case(step("create_sale"), [("settings.title", "error", "no title")], "empty"),
    case(
        step("create_sale", title="[[nope]]", owner="gone", project_id="gone", description="[[x]]"),
        [
            ("settings.owner", "error", "associate 'gone' does not exist"),
            ("settings.project_id", "error", "project 'gone' does not exist"),
            ("settings.title", "error", "[[nope]]"),
            ("settings.description", "error", "[[x]]"),
        ],
        "unknown",
    ),
    # run_script
    case(step("run_script"), [("settings.script_id", "error", "script")], "empty"),
    case(
        step("run_script", script_id="gone"),
        [("settings.script_id", "error", "script 'gone' does not exist")],
        "unknown",
    ),
    # notify_email
    case(
        step("notify_email"),
        [("settings.subject", "error", "no subject"), ("settings.text", "error", "no text")],
        "empty",
    ),
    case(
        step("notify_email", to="not-an-address", subject="[[nope]]", text="[[x]]"),
        [
            ("settings.to", "error", "not an email address"),
            ("settings.subject", "error", "[[nope]]"),
            ("settings.text", "error", "[[x]]"),
        ],
        "bad-address-and-tags",
    ),
    # notify_sms
    case(
        step("notify_sms"),
        [("settings.text", "error", "no text"), ("settings.sender", "error", "no sender")],
        "empty-without-flow-sender",
        sms_sender=None,
    ),
    case(
        step("notify_sms", to=["+4791234567", "12345", "91234567"], text="[[nope]]"),
        [
            ("settings.to[1]", "error", "'12345'"),
            ("settings.to[2]", "error", "'91234567'"),
            ("settings.text", "error", "[[nope]]"),
        ],
        "bad-numbers",
    ),
    case(
        step("notify_sms", to=[], text="Hi"),
        [("settings.to", "error", "no recipient")],
        "no-numbers",
    ),
]


@pytest.mark.parametrize(("step_", "flow", "expected"), PROBLEMS)
def test_a_step_with_gaps_saves_and_lists_its_problems(
    step_: dict[str, Any], flow: dict[str, Any], expected: Expected
) -> None:
    found = issues_of(step_, **flow)
    assert [(i.path, i.severity) for i in found] == [(p, s) for p, s, _ in expected], found
    for issue, (_, _, fragment) in zip(found, expected, strict=True):
        assert fragment in issue.message


def test_every_step_type_has_a_problem_case() -> None:
    tested = {p.values[0]["type"] for p in PROBLEMS}
    assert tested == set(STEP_TYPES)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "send_fax", "settings": {}},
        {"settings": {}},
        step("send_email", mailing_id=7),
        step("send_email", attachments="a.pdf"),
        step("send_email", from_name="x"),
        step("send_sms", exit_if_no_mobile="yes"),
        step("wait_time", duration="P1M"),
        step("wait_time", working_days="3"),
        step("wait_for_action", actions=[{"type": "opened"}]),
        step("wait_for_action", actions=[{"type": "link_clicked", "form_id": "f1"}]),
        step("wait_for_action", max_wait=7),
        step("wait_for_action", max_wait="7 days"),
        step("wait_for_action", exit_on_timeout="false"),
        step("split", basis="coin_flip"),
        step("update_contact", updates=[{"field": "category", "action": "explode"}]),
        step("update_contact", updates=[{"field": "category", "action": "set", "value": True}]),
        step("update_contact", updates={"field": "category"}),
        step("update_contact", updates=[{"field": "x", "action": "set", "value": {"s": "a"}}]),
        step("add_to_list", selection_id=["sel1"]),
        step("remove_from_list", project=None),
        step("distribute_to_owner", associate_ids="a1"),
        step("distribute_to_owner", only_if_unassigned=1),
        step("create_follow_up", type="call"),
        step("create_follow_up", due_in="tomorrow"),
        step("create_follow_up", meeting={"duration": 30}),
        step("create_follow_up", meeting={"duration": "PT30M", "first_available": "yes"}),
        step("create_follow_up", assign_to="our_boss"),
        step("create_follow_up", assign_to={"associate_id": "a1", "name": "x"}),
        step("create_request", priority=1),
        step("create_request", owner=""),
        step("create_sale", amount=-1),
        step("create_sale", amount="10"),
        step("create_sale", date="P30D"),
        step("create_sale", date={"after": "P1Y"}),
        step("run_script", script_id=1),
        step("notify_email", to=["boss@example.com"]),
        step("notify_sms", to="+4791234567"),
        step("notify_sms", to="our_boss"),
        {"type": "run_script", "settings": {}, "branches": []},
    ],
)
def test_an_unknown_type_or_a_wrong_typed_setting_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FlowDefinition.model_validate({"name": "Test", "steps": [bad]})


def test_a_wrong_setting_in_a_branch_is_refused() -> None:
    split = {
        "type": "split",
        "settings": {"basis": "selection_member"},
        "branches": [{"name": "A", "steps": [step("create_sale", amount=-5)]}],
    }
    with pytest.raises(pydantic.ValidationError):
        FlowDefinition.model_validate({"name": "Test", "steps": [split]})

"""Properties of flow saving over random flow trees: what is saved is what was sent, and the
problems computation copes with any tree (never a 500; every problem names a step of the flow)."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.steps.registry import STEP_TYPES
from tests.functional.conftest import Http

MAX_DEPTH = 3
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BASES = [
    "contact_data",
    "form_submitted",
    "form_data",
    "link_clicked",
    "project_member",
    "selection_member",
]
RULE = {"field": "contact.category", "op": "eq", "value": "Lead"}

# A few settings of each type, each valid JSON for the type (most leave problems behind).
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "send_email": [
        {"mailing_id": "mal_missing"},
        {"subject": "Hi [[customer.firstname]]", "html": "<p>[[customer.nickname]]</p>"},
        {"text": "Plain", "attachments": ["nowhere.pdf"]},
    ],
    "send_sms": [
        {"text": "Hi [[customer.firstname]]"},
        {"text": "€" * 90, "sender": "Shop", "exit_if_no_mobile": True},
        {"text": "👋 [[customer.unknown]]"},
    ],
    "wait_time": [
        {"duration": "P2D"},
        {"working_days": 3},
        {"until": "2026-12-01T09:00:00Z"},
        {"duration": "PT15M", "working_days": 1},
    ],
    "wait_for_action": [
        {"actions": [{"type": "link_clicked", "link_id": "lnk_missing"}]},
        {"actions": [{"type": "form_submitted"}], "max_wait": None, "exit_on_timeout": True},
    ],
    "split": [{"basis": basis} for basis in BASES]
    + [{"basis": "link_clicked", "mailing_step_id": "nowhere"}],
    "update_contact": [
        {"updates": [{"field": "category", "action": "select", "value": "Lead"}]},
        {"updates": [{"field": "first_name", "action": "regex_replace", "value": {"search": "("}}]},
        {"updates": [{"field": "interests", "action": "add"}, {"field": "x", "action": "toggle"}]},
    ],
    "add_to_list": [{"selection_id": "sel_missing"}, {"project_id": "prj_missing"}],
    "remove_from_list": [{"selection_id": "sel_missing", "project_id": None}],
    "distribute_to_owner": [
        {"associate_ids": ["asc_missing"], "group_id": "grp_missing", "only_if_unassigned": False}
    ],
    "create_follow_up": [
        {"title": "Call", "type": "meeting", "meeting": {"first_available": False}},
        {"title": "Task", "due_in": "P3D", "assign_to": {"associate_id": None}},
    ],
    "create_request": [{"title": "Help [[customer.name]]", "owner": "asc_missing"}],
    "create_sale": [{"title": "Deal", "amount": 100.5, "date": {"after": "P30D"}}],
    "run_script": [{"script_id": "scr_missing"}],
    "notify_email": [{"to": "not an address", "subject": "S", "text": "T"}, {"to": "a@b.example"}],
    "notify_sms": [{"to": ["+4712345678", "123"], "text": "X"}, {"to": "our_service_contact"}],
}
CONDITIONS = [
    None,
    {"selection_id": "sel_missing"},
    {"rules": [RULE]},
    {"rules": []},
    {"form_id": "frm_missing", "rules": [RULE | {"field": "size"}]},
    {"link_id": "lnk_missing", "mailing_id": None},
]
FLOW_SETTINGS = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=30)},
    optional={
        "timezone": st.sampled_from([None, "Europe/Oslo", "UTC"]),
        "sms_sender": st.sampled_from([None, "Shop"]),
        "email_settings": st.sampled_from(
            [
                {},
                {
                    "from": {"type": "specified", "address": "a@b.example"},
                    "reply_to": {"type": "from"},
                },
                {"from": {"type": "our_contact"}, "reply_to": {"type": "specified"}},
            ]
        ),
        "send_window": st.sampled_from([None, {}, {"start": "18:00", "end": "08:00"}]),
        "triggers": st.lists(
            st.sampled_from(
                [
                    {"type": "contact_created"},
                    {"type": "form_submitted"},
                    {"type": "added_to_selection", "selection_id": "sel_missing"},
                ]
            ),
            max_size=2,
        ),
        "success": st.sampled_from(
            [{"jump_to_finish": True}, {"criteria": [{"type": "contact_updated"}]}]
        ),
        "finish": st.sampled_from([{}, {"on_success_flow_id": "flw_missing"}]),
    },
)


# -- random trees ----------------------------------------------------------------------------------


def steps_at(depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    # Splits are drawn about half the time, so trees get deep; any type may be drawn.
    types = st.just("split") | st.sampled_from(sorted(STEP_TYPES))
    return st.lists(types.flatmap(lambda t: step(t, depth)), min_size=depth == 0, max_size=3)


def step(type_: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    plain = st.fixed_dictionaries(
        {"type": st.just(type_), "_give_id": st.booleans()},
        optional={"settings": st.sampled_from([{}, *SAMPLES.get(type_, [])])},
    )
    if not STEP_TYPES[type_].has_branches or depth >= MAX_DEPTH:
        return plain
    branch = st.fixed_dictionaries(
        {"name": st.text(max_size=20), "_give_id": st.booleans()},
        optional={"condition": st.sampled_from(CONDITIONS), "steps": steps_at(depth + 1)},
    )
    everyone_else = st.fixed_dictionaries(
        {}, optional={"exit": st.booleans(), "steps": steps_at(depth + 1)}
    )
    return st.tuples(
        plain, st.lists(branch, min_size=1, max_size=2), st.none() | everyone_else
    ).map(
        lambda parts: (
            parts[0]
            | {"branches": parts[1]}
            | ({"everyone_else": parts[2]} if parts[2] is not None else {})
        )
    )


def give_ids(steps: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """Replace each ``_give_id`` flag by a client id (unique in the tree) or no id at all."""
    counter = itertools.count(1)

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.pop("_give_id"):
                item["id"] = f"{prefix}-{next(counter)}"
            for branch in item.get("branches", []):
                if branch.pop("_give_id"):
                    branch["id"] = f"{prefix}-b{next(counter)}"
                visit(branch.get("steps", []))
            visit(item.get("everyone_else", {}).get("steps", []))

    visit(steps)
    return steps


flow_trees = st.tuples(steps_at(0), st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)).map(
    lambda parts: give_ids(*parts)
)


def walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in steps:
        yield item
        for branch in item.get("branches") or []:
            yield from walk(branch.get("steps", []))
        yield from walk((item.get("everyone_else") or {}).get("steps", []))


def contains(saved: Any, sent: Any) -> bool:
    """Whether ``saved`` holds everything ``sent`` gave (the server fills in defaults)."""
    if isinstance(sent, dict):
        return isinstance(saved, dict) and all(contains(saved.get(k), v) for k, v in sent.items())
    if isinstance(sent, list):
        return (
            isinstance(saved, list)
            and len(saved) == len(sent)
            and all(contains(a, b) for a, b in zip(saved, sent, strict=True))
        )
    return bool(saved == sent)


def assert_same_tree(sent: list[dict[str, Any]], saved: list[dict[str, Any]]) -> None:
    """Same steps in the same order and nesting; the client's ids kept, the rest made."""
    assert len(saved) == len(sent)
    for mine, theirs in zip(sent, saved, strict=True):
        assert theirs["type"] == mine["type"]
        assert theirs["id"]
        assert theirs["id"] == mine.get("id", theirs["id"])
        assert contains(theirs.get("settings"), mine.get("settings", {}))
        branches = mine.get("branches", [])
        if STEP_TYPES[mine["type"]].has_branches:
            assert len(theirs["branches"]) == len(branches)
        for branch, saved_branch in zip(branches, theirs["branches"] or [], strict=True):
            assert saved_branch["id"]
            assert saved_branch["id"] == branch.get("id", saved_branch["id"])
            assert contains(saved_branch["condition"], branch.get("condition"))
            assert_same_tree(branch.get("steps", []), saved_branch["steps"])
        if "everyone_else" in mine:
            rest = mine["everyone_else"]
            assert theirs["everyone_else"]["exit"] == rest.get("exit", False)
            assert_same_tree(rest.get("steps", []), theirs["everyone_else"]["steps"])


# -- properties ------------------------------------------------------------------------------------


@EXAMPLES
@given(steps=flow_trees)
def test_a_saved_flow_is_what_was_sent(admin: Http, steps: list[dict[str, Any]]) -> None:
    sent = copy.deepcopy(steps)

    created = admin.post("/v1/flows", {"name": "Random", "steps": steps})

    assert created.status == 201, created.body
    flow = created.json
    assert admin.get(f"/v1/flows/{flow['id']}").json == flow
    assert_same_tree(sent, flow["steps"])
    ids = [s["id"] for s in walk(flow["steps"])]
    assert len(ids) == len(set(ids))
    # What was read can be written back unchanged: the ids stay across edits.
    again = admin.put(f"/v1/flows/{flow['id']}", flow)
    assert again.status == 200, again.body
    assert again.json["steps"] == flow["steps"]
    assert again.json["version"] == 2
    assert again.json["status"] == "not_running"


@EXAMPLES
@given(steps=flow_trees, flow_settings=FLOW_SETTINGS)
def test_problems_never_fail_and_name_steps_of_the_flow(
    admin: Http, steps: list[dict[str, Any]], flow_settings: dict[str, Any]
) -> None:
    created = admin.post("/v1/flows", flow_settings | {"steps": steps})

    assert created.status == 201, created.body
    flow = created.json
    step_ids = {s["id"] for s in walk(flow["steps"])}
    for problem in flow["problems"]:
        assert problem["step_id"] is None or problem["step_id"] in step_ids, problem
        assert problem["severity"] in ("error", "warning")
        assert problem["path"]
        assert problem["message"]
    errors = [p for p in flow["problems"] if p["severity"] == "error"]
    started = admin.post(f"/v1/flows/{flow['id']}/start")
    assert started.status == (422 if errors else 200), started.body
    if errors:
        assert started.json["problems"] == errors
    expected = "not_running" if errors else "running"
    assert admin.get(f"/v1/flows/{flow['id']}").json["status"] == expected

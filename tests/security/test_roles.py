"""Every role against every call (SPEC.md §8), generated from the operations registry so that a
new operation cannot escape: its access rule must be the one the policy below gives its path,
and each key role is refused (403, before anything is read) exactly where that rule says."""

from __future__ import annotations

import re
from typing import Any

import pytest

import app  # noqa: F401  (importing the app declares every operation)
from chalicelib.api.auth import Role
from chalicelib.api.registry import api
from chalicelib.api.routing import Operation
from tests.functional.conftest import OPERATOR_KEY, Http, key_with_role
from tests.functional.helpers import assert_problem

ANY = frozenset({Role.ADMIN, Role.FLOW_ADMIN, Role.CONTENT_EDITOR})
FLOW_WRITE = frozenset({Role.ADMIN, Role.FLOW_ADMIN})
ADMIN = frozenset({Role.ADMIN})
OPERATOR = frozenset({Role.OPERATOR})

# SPEC.md §8 as (method, path pattern) -> roles, first match wins. admin: everything, keys
# included; flow_admin: flows (create, edit, start, pause, end, delete, participants) and all
# content; content_editor: CRM data, mailings, forms, links, and reads flows. Scripts name a
# Lambda function the product will run, and sender domains are what the tenant sends email as:
# flow work, not content. Every operation of the registry must match a rule.
POLICY: list[tuple[str, str, frozenset[Role]]] = [
    ("POST", r"/v1/admin/tenants", OPERATOR),
    ("*", r"/v1/keys(/.*)?", ADMIN),
    ("PATCH", r"/v1/settings", ADMIN),
    ("GET", r"/v1/settings", ANY),
    ("POST", r"/v1/sender-domains", FLOW_WRITE),
    ("GET", r"/v1/sender-domains", ANY),
    ("GET", r"/v1/flows(/.*)?", ANY),
    ("*", r"/v1/flows(/.*)?", FLOW_WRITE),
    ("GET", r"/v1/scripts(/.*)?", ANY),
    ("*", r"/v1/scripts(/.*)?", FLOW_WRITE),
    ("*", r"/v1/(contacts|companies|associates|groups|selections|projects|extra-fields"
          r"|follow-ups|requests|sales|mailings|links|forms)(/.*)?", ANY),
    ("GET", r"/(health|openapi\.json)", frozenset()),
    ("*", r"/(l|o|u|f)/\{\w+\}", frozenset()),
]  # fmt: skip
PUBLIC = frozenset[Role]()


def expected(op: Operation) -> frozenset[Role]:
    for method, pattern, roles in POLICY:
        if method in ("*", op.method) and re.fullmatch(pattern, op.path):
            return roles
    raise AssertionError(f"{op.method} {op.path}: no rule in POLICY; say who may call it")


KEYED = [op for op in api.operations if op.access is not None]
NAMES = [f"{op.method} {op.path}" for op in KEYED]


def test_every_operation_has_the_access_the_policy_gives_it() -> None:
    wrong = [
        f"{op.method} {op.path}: {sorted(op.access or PUBLIC)} != {sorted(expected(op))}"
        for op in api.operations
        if (op.access or PUBLIC) != expected(op)
    ]
    assert wrong == []


def url(op: Operation) -> str:
    """The operation's path with ids that name nothing, and its required query."""
    path = re.sub(r"{(\w+)}", lambda m: "1" if m.group(1) == "n" else f"nope_{m.group(1)}", op.path)
    return path + ("?contact_id=nope" if op.path.endswith("/url") else "")


@pytest.fixture(scope="module")
def callers(chalice_client: Any) -> dict[str, Http]:
    """A key of each role (one tenant), the operator's, an unknown one and none."""
    from tests.functional.conftest import new_tenant

    admin = new_tenant(chalice_client)
    return {
        Role.ADMIN: admin,
        Role.FLOW_ADMIN: key_with_role(admin, "flow_admin"),
        Role.CONTENT_EDITOR: key_with_role(admin, "content_editor"),
        Role.OPERATOR: admin.as_key(OPERATOR_KEY),
    }


@pytest.mark.parametrize("op", KEYED, ids=NAMES)
def test_each_role_is_refused_exactly_where_it_may_not_call(
    callers: dict[str, Http], op: Operation
) -> None:
    assert op.access is not None
    for role, caller in callers.items():
        # A body no operation accepts: a caller that may not call gets 403 before it is
        # read; one that may gets as far as the body or the ids (400 or 404), never 401/403.
        reply = caller.request(op.method, url(op), raw=b'{"no such field": 1}')
        if role in op.access:
            assert reply.status not in (401, 403), (role, reply.body)
        else:
            body = assert_problem(reply, 403)
            assert role in body["detail"], body


@pytest.mark.parametrize("op", KEYED, ids=NAMES)
def test_no_key_and_an_unknown_key_are_401(anon: Http, op: Operation) -> None:
    assert_problem(anon.request(op.method, url(op)), 401)
    assert_problem(anon.as_key("flw_not-a-key").request(op.method, url(op)), 401)

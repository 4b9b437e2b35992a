"""schemathesis against the local stack's ``/openapi.json``: every operation, with a valid key.

No response may be a 5xx, and every response must be one the document declares: its status
code, its content type and its body's schema (schemathesis' checks, all of them). The run is
bounded (a few examples per operation, a fixed seed, deterministic generation) so ``make test``
stays fast and sends the same requests each time; ``FLOWS_CONTRACT_EXAMPLES=50`` searches
harder by hand.

schemathesis' own pytest plugin cannot run under pytest 9 yet (it reads a node attribute
pytest removed), so the test drives its engine, the one its CLI uses, and fails with every
failure it reports and the curl command that reproduces it.

The stack is the shared ``local_stack`` (tests/local_stack.py); the cases run in a tenant of
their own, so what they create stays out of the dev tenant the browser tests use. Nothing is
sent beyond the stack on 127.0.0.1: redirects (``/l/`` and ``/f/`` answer them) are never
followed.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from tests.local_stack import LocalStack

EXAMPLES = int(os.environ.get("FLOWS_CONTRACT_EXAMPLES", "3"))
# The coverage phase (boundary and type-confusion cases of every field, ~5,000 requests): too
# slow for make test (~6 minutes), so by hand: FLOWS_CONTRACT_COVERAGE=1.
COVERAGE = os.environ.get("FLOWS_CONTRACT_COVERAGE") == "1"
SEED = 20261123


@pytest.fixture(scope="module")
def contract_key(local_stack: LocalStack) -> str:
    """The admin key of a tenant made for these cases alone."""
    status, created = local_stack.call(
        "POST", "/v1/admin/tenants", {"name": "Contract"}, key=local_stack.operator_key
    )
    assert status == 201, created
    return str(created["api_key"])


def contract_schema(base_url: str, key: str) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {key}"},
            "max-redirects": 0,
            # A 1,000-row import takes ~13 s on the local stack (moto over HTTP).
            "request-timeout": 30,
            # One worker: hypothesis' source inspection is not thread-safe (two workers fail
            # at random with "AST constructor recursion depth mismatch").
            "workers": 1,
            "generation": {"deterministic": True, "max-examples": EXAMPLES},
            "phases": {
                "stateful": {"enabled": False},
                # TRACE reaches no code of ours: the local server (http.server) has no handler
                # for it and answers 501 itself; API Gateway refuses it before the app too.
                # Every other undeclared method gets chalice's 405, and is still checked.
                "coverage": {
                    "enabled": COVERAGE,
                    "unexpected-methods": ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"],
                },
            },
            "checks": {
                "enabled": True,
                # "A schema-valid request is accepted" cannot hold here: a valid-looking id that
                # names no object, a cursor this service did not issue, a time zone that does
                # not exist or a list field without its options are all 400 (API.md), and no
                # JSON schema says which ids exist. The opposite check (schema-invalid requests
                # are refused) and every response check stay on.
                "positive_data_acceptance": {"enabled": False},
                # A body past 1 MB is refused with 413 before it is read (API.md), e.g. a
                # mailing's html at its maximum length and one character more.
                "negative_data_rejection": {
                    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422]
                },
            },
            "operations": [
                {
                    # A flow's steps are a recursive tree of fifteen step types: the coverage
                    # phase's combinations of it run for many minutes. Fuzzing covers them.
                    "include-operation-id": ["create_flow", "replace_flow"],
                    "phases": {"coverage": {"enabled": False}},
                }
            ],
        }
    )
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)


def test_every_operation_answers_as_documented(local_stack: LocalStack, contract_key: str) -> None:
    schema = contract_schema(local_stack.base_url, contract_key)
    operations: set[str] = set()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    errors: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            operations.add(recorder.label)
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.append(
                            f"{recorder.label}: {check.name}: {failure.title}\n"
                            f"{failure.message}\n{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    print(
        f"schemathesis: {len(operations)} operations, {sum(statuses.values())} requests, "
        f"statuses {dict(sorted(statuses.items()))}, {len(failures)} failures"
    )
    unique = list(dict.fromkeys(failures))
    # Every operation ran but the document itself (schemathesis skips the url it loaded).
    _, document = local_stack.call("GET", "/openapi.json")
    declared = {f"{m.upper()} {p}" for p, ms in document["paths"].items() for m in ms}
    assert operations == declared - {"GET /openapi.json"}
    assert not errors, "\n\n".join(errors)
    assert not unique, f"{len(unique)} failures:\n\n" + "\n\n".join(unique)

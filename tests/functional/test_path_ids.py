"""Path ids the server never made answer 404, never 500 (DynamoDB refuses empty keys)."""

import pytest

from tests.functional.conftest import Http


@pytest.mark.parametrize("bad", ["", "x" * 300])
@pytest.mark.parametrize(
    "template",
    [
        "/v1/contacts/{}",
        "/v1/flows/{}",
        "/v1/flows/{}/participants",
        "/v1/flows/{}/stats",
        "/v1/selections/{}/members",
    ],
)
def test_empty_or_oversized_ids_are_not_found(admin: Http, template: str, bad: str) -> None:
    if not bad and template.endswith("{}"):
        pytest.skip("a trailing empty id is the list route (/v1/contacts/)")
    reply = admin.get(template.format(bad))
    assert reply.status == 404, reply.body
    assert reply.content_type == "application/problem+json"

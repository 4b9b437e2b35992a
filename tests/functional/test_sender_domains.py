"""Sender domains: added per tenant, verified by SES, required by flows that send email."""

from tests.functional.conftest import Http


def _email_flow(http: Http, address: str) -> dict:  # type: ignore[type-arg]
    reply = http.post(
        "/v1/flows",
        {
            "name": "Mail",
            "email_settings": {
                "from": {"type": "specified", "address": address},
                "reply_to": {"type": "from"},
            },
            "steps": [{"id": "m", "type": "send_email", "settings": {"subject": "s", "text": "t"}}],
        },
    )
    assert reply.status == 201, reply.body
    return reply.json  # type: ignore[no-any-return]


def test_a_flow_sending_from_an_unverified_domain_cannot_start(admin: Http) -> None:
    flow = _email_flow(admin, "news@unverified.example.org")
    [problem] = [p for p in flow["problems"] if p["path"] == "email_settings.from.address"]
    assert "unverified.example.org" in problem["message"]
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 422

    added = admin.post("/v1/sender-domains", {"domain": "Unverified.Example.org."})
    assert added.status == 201, added.body
    assert added.json["domain"] == "unverified.example.org"
    assert added.json["status"] == "verified"  # moto verifies at once; SES waits for DKIM
    assert admin.put(f"/v1/flows/{flow['id']}", flow).json["problems"] == []
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200


def test_a_domain_belongs_to_one_tenant(admin: Http, other: Http) -> None:
    assert admin.post("/v1/sender-domains", {"domain": "mine.example.net"}).status == 201
    assert admin.post("/v1/sender-domains", {"domain": "mine.example.net"}).status == 201
    taken = other.post("/v1/sender-domains", {"domain": "mine.example.net"})
    assert taken.status == 409
    assert taken.content_type == "application/problem+json"
    assert [d["domain"] for d in admin.get("/v1/sender-domains").json["items"]] == [
        "mine.example.net"
    ]
    assert other.get("/v1/sender-domains").json["items"] == []
    assert admin.post("/v1/sender-domains", {"domain": "not a domain"}).status == 400

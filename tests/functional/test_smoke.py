from tests.functional.conftest import Http


def test_health_and_a_contact(anon: Http, admin: Http) -> None:
    assert anon.get("/health").status == 200
    reply = admin.post("/v1/contacts", {"first_name": "Ada", "email": "Ada@Example.com"})
    assert reply.status == 201, reply.body
    contact = reply.json
    assert admin.get(f"/v1/contacts/{contact['id']}").json == contact
    found = admin.get("/v1/contacts?email=ada@example.COM").json
    assert [c["id"] for c in found["items"]] == [contact["id"]]

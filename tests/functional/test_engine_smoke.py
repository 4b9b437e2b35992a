from tests.functional.conftest import OPERATOR_KEY, Http
from tests.functional.engine_kit import (
    Engine,
    assert_invariant,
    participants_of,
)


def test_three_steps_with_a_two_day_wait(chalice_client: object, engine: Engine) -> None:
    created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
    tenant_id, admin = created["tenant_id"], Http(chalice_client, created["api_key"])
    vip = admin.post("/v1/selections", {"name": "VIP"}).json["id"]
    contact = admin.post("/v1/contacts", {"email": "a@example.com"}).json["id"]
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Welcome",
            "steps": [
                {"id": "w1", "type": "wait_time", "settings": {"duration": "P2D"}},
                {
                    "id": "sp",
                    "type": "split",
                    "settings": {"basis": "selection_member"},
                    "branches": [{"name": "VIP", "condition": {"selection_id": vip}, "steps": []}],
                },
            ],
        },
    ).json
    assert flow["problems"] == []
    assert admin.post(f"/v1/flows/{flow['id']}/start").status == 200
    reply = admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
    assert reply.status == 201, reply.body
    engine.drain()
    [p] = participants_of(tenant_id, flow["id"])
    assert (p.status, p.step_id) == ("active", "w1")
    assert_invariant(tenant_id, flow["id"])

    engine.advance(days=1)
    assert participants_of(tenant_id, flow["id"])[0].step_id == "w1"
    engine.advance(days=1, minutes=1)
    [p] = participants_of(tenant_id, flow["id"])
    assert p.status == "finished", p
    assert_invariant(tenant_id, flow["id"])
    detail = admin.get(f"/v1/flows/{flow['id']}/participants/{p.participant_id}").json
    assert [h.get("outcome") or h.get("event") for h in detail["history"]] == [
        "enrolled",
        "waiting",
        "done",
        "branch",
    ], detail


def test_stats_count_entered_on_step_and_skips(chalice_client: object, engine: Engine) -> None:
    created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
    tenant_id, admin = created["tenant_id"], Http(chalice_client, created["api_key"])
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Counted",
            "steps": [
                {"id": "w1", "type": "wait_time", "settings": {"duration": "PT1H"}},
                {"id": "w2", "type": "wait_time", "settings": {"duration": "P1D"}},
            ],
        },
    ).json
    admin.post(f"/v1/flows/{flow['id']}/start")
    for n in range(3):
        contact = admin.post("/v1/contacts", {"email": f"c{n}@example.com"}).json["id"]
        assert (
            admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact}).status
            == 201
        )
    engine.drain()
    engine.advance(hours=1, minutes=1)
    stats = admin.get(f"/v1/flows/{flow['id']}/stats").json
    assert stats["enrolled"] == 3
    assert (stats["steps"]["w1"]["entered"], stats["steps"]["w1"]["on_step"]) == (3, 0)
    assert (stats["steps"]["w2"]["entered"], stats["steps"]["w2"]["on_step"]) == (3, 3)
    assert_invariant(tenant_id, flow["id"])
    assert participants_of(tenant_id, flow["id"])[0].step_id == "w2"


def test_deleting_a_flow_erases_its_participants(chalice_client: object, engine: Engine) -> None:
    from chalicelib.store import participants as store

    created = Http(chalice_client, OPERATOR_KEY).post("/v1/admin/tenants", {"name": "t"}).json
    tenant_id, admin = created["tenant_id"], Http(chalice_client, created["api_key"])
    flow = admin.post(
        "/v1/flows",
        {
            "name": "Gone",
            "steps": [{"id": "w", "type": "wait_time", "settings": {"duration": "P1D"}}],
        },
    ).json
    admin.post(f"/v1/flows/{flow['id']}/start")
    for n in range(3):
        contact = admin.post("/v1/contacts", {"email": f"g{n}@example.com"}).json["id"]
        admin.post(f"/v1/flows/{flow['id']}/participants", {"contact_id": contact})
    engine.drain()
    before = participants_of(tenant_id, flow["id"])
    assert len(before) == 3
    admin.post(f"/v1/flows/{flow['id']}/end")
    engine.drain()
    assert admin.delete(f"/v1/flows/{flow['id']}").status == 204
    engine.drain()
    assert participants_of(tenant_id, flow["id"]) == []
    assert all(store.history(tenant_id, p.participant_id) == [] for p in before)


def test_a_proposal_with_an_empty_or_oversized_id_is_400(admin: Http) -> None:
    flow = admin.post("/v1/flows", {"name": "f"}).json["id"]
    for body in ({"contact_id": ""}, {"contact_id": "x" * 2000}, {"selection_id": "y" * 300}):
        reply = admin.post(f"/v1/flows/{flow}/participants", body)
        assert reply.status == 400, (body, reply.body)

from tests.functional.conftest import Http


def test_flow_round_trip_and_lifecycle(admin: Http) -> None:
    selection = admin.post("/v1/selections", {"name": "VIP"}).json
    body = {
        "name": "Welcome",
        "timezone": "Europe/Oslo",
        "sms_sender": "Example",
        "triggers": [{"type": "added_to_selection", "selection_id": selection["id"]}],
        "steps": [
            {"id": "s1", "type": "send_sms", "settings": {"text": "Hi [[customer.firstname]]"}},
            {"id": "s2", "type": "wait_time", "settings": {"duration": "P2D"}},
            {
                "id": "s3",
                "type": "split",
                "settings": {"basis": "selection_member"},
                "branches": [
                    {"name": "VIP", "condition": {"selection_id": selection["id"]}, "steps": []}
                ],
            },
        ],
    }
    reply = admin.post("/v1/flows", body)
    assert reply.status == 201, reply.body
    flow = reply.json
    assert flow["status"] == "not_running"
    assert flow["version"] == 1
    assert flow["problems"] == [], flow["problems"]
    assert flow["steps"][0]["segments"] == {"encoding": "GSM-7", "count": 1}
    assert admin.get(f"/v1/flows/{flow['id']}").json == flow

    started = admin.post(f"/v1/flows/{flow['id']}/start")
    assert started.status == 200, started.body
    assert started.json["status"] == "running"
    assert admin.put(f"/v1/flows/{flow['id']}", flow).status == 409
    assert admin.post(f"/v1/flows/{flow['id']}/pause").json["status"] == "paused"
    edited = admin.put(f"/v1/flows/{flow['id']}", flow | {"name": "Welcome 2"})
    assert edited.status == 200, edited.body
    assert edited.json["version"] == 2
    assert admin.post(f"/v1/flows/{flow['id']}/end").json["status"] == "not_running"
    versions = admin.get(f"/v1/flows/{flow['id']}/versions").json["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert admin.delete(f"/v1/flows/{flow['id']}").status == 204
    assert admin.get(f"/v1/flows/{flow['id']}").status == 404


def test_problems_block_start(admin: Http) -> None:
    reply = admin.post("/v1/flows", {"name": "Gaps", "steps": [{"type": "send_sms"}]})
    assert reply.status == 201, reply.body
    paths = {(p["step_id"] is not None, p["path"]) for p in reply.json["problems"]}
    assert (True, "settings.text") in paths
    start = admin.post(f"/v1/flows/{reply.json['id']}/start")
    assert start.status == 422
    assert start.json["problems"]

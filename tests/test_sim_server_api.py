"""REST behaviour of the simulator: availability delays, 202/200, URL expiry, tokens, limits,
data tables, custom attributes, paging and every fault knob."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from sim_server_fixtures import FAST, Api, SocketReader, queue_topics, token, wait_until

from simulator.app import Simulator


@pytest.fixture(scope="module")
def sim() -> Any:
    with Simulator(seed=9, **FAST) as s:
        yield s


@pytest.fixture(autouse=True)
def _no_faults(sim: Simulator) -> Any:
    sim.faults.reset()
    yield
    sim.faults.reset()


def finished_call(sim: Simulator, **kwargs: Any) -> Any:
    kwargs.setdefault("kind", "inbound_simple")
    kwargs.setdefault("queue_name", "Sales")
    kwargs.setdefault("duration_s", 20)
    call = sim.inject_call(**kwargs)
    assert sim.wait_until_published(call.conversation_id, 15)
    return call


# -- availability, 202 then 200, media URLs ----------------------------------------------------------
def test_documents_become_available_after_their_delays() -> None:
    with Simulator(
        seed=4, event_speed=400, details_delay_s=3.0, recording_delay_s=1.5, transcript_delay_s=1.5
    ) as sim:
        api = Api(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
        cid = call.conversation_id
        assert sim.wait_until_published(cid, 10)
        live = sim.live(cid)
        assert api.get(f"/api/v2/analytics/conversations/{cid}/details").status_code == 404
        comm = next(iter(call.transcript_ids))
        sta = f"/api/v2/speechandtextanalytics/conversations/{cid}/communications/{comm}/transcripturl"
        assert api.get(sta).status_code == 404
        meta = api.ok("GET", f"/api/v2/conversations/{cid}/recordingmetadata")
        if time.time() < live.recordings_s:
            assert {m["fileState"] for m in meta} == {"UPLOADING"}
            assert api.get(f"/api/v2/conversations/{cid}/recordings?formatId=WAV").status_code == 202
        wait_until(lambda: api.get(f"/api/v2/analytics/conversations/{cid}/details").status_code == 200, 10)
        assert time.time() >= live.details_s
        details = api.ok("GET", f"/api/v2/analytics/conversations/{cid}/details")
        assert details["conversationId"] == cid and "conversationEnd" in details
        assert {m["fileState"] for m in api.ok("GET", f"/api/v2/conversations/{cid}/recordingmetadata")} == {
            "AVAILABLE"
        }
        wait_until(lambda: api.get(sta).status_code == 200, 10)
        url = api.ok("GET", sta)["url"]
        doc = requests.get(url, timeout=10).json()  # pre-signed: no bearer
        assert doc["conversationId"] == cid


def test_202_count_then_200_with_media_url_and_extra_202(sim: Simulator) -> None:
    call = finished_call(sim)
    api = Api(sim)
    cid, rid = call.conversation_id, call.recordings[0].recording_id
    path = f"/api/v2/conversations/{cid}/recordings/{rid}?formatId=OGG_OPUS"
    sim.faults.extra_202 = 2
    statuses = [api.get(path).status_code for _ in range(3)]  # transcode_202_count=1 + 2 extra
    assert statuses == [202, 202, 202]
    first = api.get(path)
    assert first.status_code == 200
    doc = first.json()
    assert doc["estimatedTranscodeTimeMs"] > 0
    uri = doc["mediaUris"]["S"]["mediaUri"]
    media = requests.get(uri, timeout=60)
    assert media.status_code == 200 and media.headers["Content-Type"] == "audio/ogg"
    assert media.content[:4] == b"OggS"
    assert int(media.headers["Content-Length"]) == len(media.content)
    assert "Authorization" not in (sim.requests[-1].headers)


def test_list_endpoint_max_wait_and_format_none(sim: Simulator) -> None:
    call = finished_call(sim, kind="multi_recording", duration_s=60)
    api = Api(sim)
    cid = call.conversation_id
    none = api.get(f"/api/v2/conversations/{cid}/recordings?formatId=NONE")
    assert none.status_code == 200 and all("mediaUris" not in r for r in none.json())
    waited = api.get(f"/api/v2/conversations/{cid}/recordings?formatId=WAV&maxWaitMs=10000")
    screens = sim.live(cid).screen_recordings  # a screen recording keeps the whole list at 202
    assert waited.status_code == (202 if screens else 200)
    audio = [r for r in waited.json() if r["media"] == "audio"]
    assert len(audio) == len(call.recordings) >= 2
    assert all(r["mediaUris"]["S"]["mediaUri"] for r in audio)
    assert api.get(f"/api/v2/conversations/{cid}/recordings?formatId=FLAC").status_code == 400


def test_media_urls_expire_and_reject_tampering() -> None:
    with Simulator(seed=6, media_url_ttl_s=2.0, transcode_202_count=0, **FAST) as sim:
        call = finished_call(sim)
        api = Api(sim)
        cid, rid = call.conversation_id, call.recordings[0].recording_id
        uri = api.ok("GET", f"/api/v2/conversations/{cid}/recordings/{rid}?formatId=WAV")["mediaUris"]["S"][
            "mediaUri"
        ]
        assert requests.get(uri, timeout=30).status_code == 200
        assert requests.get(uri.replace("Signature=", "Signature=0"), timeout=10).status_code == 403
        time.sleep(2.1)
        expired = requests.get(uri, timeout=10)
        assert expired.status_code == 403 and b"expired" in expired.content


# -- auth, rate limits, limits -------------------------------------------------------------------
def test_oauth_errors_expiry_and_rate_limit_headers() -> None:
    with Simulator(seed=3, token_ttl_s=2.0) as sim:
        bad = requests.post(
            f"{sim.login_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sim.client_id, "nope"),
            timeout=10,
        )
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        assert (
            requests.post(
                f"{sim.login_url}/oauth/token",
                data={"grant_type": "password"},
                auth=(sim.client_id, sim.client_secret),
                timeout=10,
            ).status_code
            == 400
        )
        ok = requests.post(
            f"{sim.login_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sim.client_id, sim.client_secret),
            timeout=10,
        )
        assert ok.json()["expires_in"] == 2
        headers = {"Authorization": f"Bearer {ok.json()['access_token']}"}
        r1 = requests.get(f"{sim.api_url}/api/v2/date", headers=headers, timeout=10)
        r2 = requests.get(f"{sim.api_url}/api/v2/date", headers=headers, timeout=10)
        assert r1.status_code == 200
        assert int(r2.headers["inin-ratelimit-count"]) == int(r1.headers["inin-ratelimit-count"]) + 1
        assert (
            r2.headers["inin-ratelimit-allowed"] == "300"
            and 0 <= int(r2.headers["inin-ratelimit-reset"]) <= 60
        )
        assert r2.headers["ININ-Correlation-Id"]
        time.sleep(2.1)
        expired = requests.get(f"{sim.api_url}/api/v2/date", headers=headers, timeout=10)
        assert expired.status_code == 401 and expired.json()["status"] == 401
        assert "inin-ratelimit-count" in expired.headers
        assert requests.get(f"{sim.api_url}/api/v2/date", timeout=10).status_code == 401


def test_injected_429_has_retry_after_and_normalized_body(sim: Simulator) -> None:
    api = Api(sim)
    sim.faults.rate_429 = 1.0
    sim.faults.retry_after_s = 42
    r = api.get("/api/v2/routing/queues")
    assert r.status_code == 429 and r.headers["Retry-After"] == "42"
    body = r.json()
    assert body["code"] == "too.many.requests.retry.after" and body["status"] == 429
    assert body["message"] == "Rate limit exceeded the maximum. Retry the request in [42] seconds"
    assert body["contextId"] == r.headers["ININ-Correlation-Id"]
    # never the login or downloads
    assert (
        requests.post(
            f"{sim.login_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sim.client_id, sim.client_secret),
            timeout=10,
        ).status_code
        == 200
    )


def test_revoked_tokens_get_401(sim: Simulator) -> None:
    api = Api(sim)
    assert api.get("/api/v2/date").status_code == 200
    assert sim.faults.revoke_tokens() >= 1
    r = api.get("/api/v2/date")
    assert r.status_code == 401 and r.json()["code"] == "bad.credentials"
    assert Api(sim).get("/api/v2/date").status_code == 200


def test_topic_limit_channel_limit_and_subscription_semantics(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    subs = f"/api/v2/notifications/channels/{ch['id']}/subscriptions"
    q = sim.org.queue_by_name("Support").id
    api.ok("POST", subs, json=[{"id": f"v2.routing.queues.{q}.conversations"}])
    assert len(api.ok("GET", subs)["entities"]) == 3  # POST adds
    api.ok("PUT", subs, json=[{"id": f"v2.routing.queues.{q}.conversations"}])
    assert [t["id"] for t in api.ok("GET", subs)["entities"]] == [f"v2.routing.queues.{q}.conversations"]
    many = [{"id": f"v2.users.{i:04d}.conversations"} for i in range(1001)]
    r = api.call("PUT", subs, json=many)
    assert r.status_code == 400 and r.json()["code"] == "bad.request"
    assert len(api.ok("GET", subs)["entities"]) == 1  # nothing changed
    api.ok("PUT", subs, json=many[:1000])
    assert api.call("POST", subs, json=[{"id": "v2.users.x.conversations"}]).status_code == 400
    unknown_queue = [{"id": "v2.routing.queues.not-a-queue.conversations"}]
    assert api.call("PUT", subs, json=unknown_queue).status_code == 403
    rejected = api.ok("PUT", subs + "?ignoreErrors=true", json=unknown_queue)["entities"]
    assert rejected[0]["state"] == "Rejected"
    api.ok("DELETE", subs, status=204)
    assert api.ok("GET", subs)["entities"] == []

    # 20 channels per client: the oldest unconnected one is evicted, connected ones survive
    fresh = Simulator(seed=9, **FAST).start()
    try:
        api2 = Api(fresh)
        first = api2.ok("POST", "/api/v2/notifications/channels")
        reader = SocketReader(first["connectUri"])
        wait_until(lambda: fresh.ws.is_connected(first["id"]))
        created = [api2.ok("POST", "/api/v2/notifications/channels")["id"] for _ in range(20)]
        listed = {c["id"] for c in api2.ok("GET", "/api/v2/notifications/channels")["entities"]}
        assert len(listed) == 20 and first["id"] in listed and created[0] not in listed
        assert api2.call("HEAD", f"/api/v2/notifications/channels/{created[0]}").status_code == 404
        reader.close()
    finally:
        fresh.close()


# -- data tables and custom attributes -----------------------------------------------------------
def test_data_table_crud(sim: Simulator) -> None:
    api = Api(sim)
    tables = api.ok("GET", "/api/v2/flows/datatables?name=callexport*")
    assert [t["name"] for t in tables["entities"]] == ["CallExport Configuration"]
    tid = tables["entities"][0]["id"]
    rows = f"/api/v2/flows/datatables/{tid}/rows"
    assert api.get(rows + "/config").status_code == 404
    api.ok("POST", rows, json={"key": "config", "Configuration": "{}"})
    dup = api.call("POST", rows, json={"key": "config", "Configuration": "{}"})
    assert dup.status_code == 409 and dup.json()["status"] == 409
    assert api.call("POST", rows, json={"key": "x", "Unknown": "1"}).status_code == 400
    api.ok("PUT", rows + "/config", json={"key": "config", "Configuration": '{"a": 1}'})
    assert api.ok("GET", rows + "/config?showbrief=false")["Configuration"] == '{"a": 1}'
    assert api.ok("GET", rows + "/config") == {"key": "config", "Configuration": '{"a": 1}'}
    assert api.call("PUT", rows + "/nope", json={"key": "nope", "Configuration": "1"}).status_code == 404
    for i in range(5):
        api.ok("POST", rows, json={"key": f"r{i}", "Configuration": str(i)})
    page = api.ok("GET", rows + "?pageSize=2&pageNumber=2")
    assert page["total"] == 6 and page["pageCount"] == 3 and len(page["entities"]) == 2
    assert page["entities"][0] == {"key": "r1"}  # showbrief defaults to true
    assert "nextUri" in page and "previousUri" in page
    api.ok("DELETE", rows + "/r0", status=204)
    assert api.call("DELETE", rows + "/r0").status_code == 404
    assert {r["key"] for r in sim.datatable_rows(tid)} == {"config", "r1", "r2", "r3", "r4"}
    sim.set_config_document({"profiles": []})
    assert api.ok("GET", rows + "/config?showbrief=false")["Configuration"] == '{"profiles": []}'
    assert api.call("DELETE", f"/api/v2/flows/datatables/{tid}").status_code == 409
    assert (
        api.call(
            "POST",
            "/api/v2/flows/datatables",
            json={"name": "CallExport Configuration", "schema": {"properties": {"key": {"type": "string"}}}},
        ).status_code
        == 409
    )


def test_custom_attributes_versions(sim: Simulator) -> None:
    call = finished_call(sim)
    api = Api(sim)
    schema = api.ok(
        "POST",
        "/api/v2/conversations/customattributes/schemas",
        json={
            "title": "Export status",
            "properties": {
                "status_text": {
                    "allOf": [{"$ref": "#/definitions/text"}],
                    "title": "Status",
                    "maxLength": 20,
                },
                "files_integer": {"allOf": [{"$ref": "#/definitions/integer"}], "title": "Files"},
            },
        },
    )
    ca = f"/api/v2/conversations/{call.conversation_id}/customattributes"
    body = {
        "id": "export",
        "schemaId": schema["id"],
        "divisions": [],
        "customAttributes": {"status_text": "started"},
    }
    assert api.ok("PUT", ca, json=body) == {"id": "export"}
    assert api.ok("GET", ca + "/export")["version"] == 1
    assert api.call("PUT", ca, json={**body, "version": 5}).status_code == 409
    api.ok(
        "PUT",
        ca,
        json={**body, "version": 1, "customAttributes": {"status_text": "done", "files_integer": 2}},
    )
    api.ok(
        "PATCH", ca, status=204, json={"id": "export", "version": 2, "customAttributes": {"files_integer": 3}}
    )
    record = api.ok("GET", ca + "/export")
    assert record["version"] == 3 and record["customAttributes"] == {
        "status_text": "done",
        "files_integer": 3,
    }
    assert (
        api.call("PATCH", ca, json={"id": "export", "version": 2, "customAttributes": {}}).status_code == 409
    )
    assert api.call("PUT", ca, json={**body, "customAttributes": {"files_integer": "x"}}).status_code == 400
    assert (
        api.call("PUT", ca, json={**body, "customAttributes": {"status_text": "x" * 21}}).status_code == 400
    )
    assert sim.custom_attributes(call.conversation_id)[0]["customAttributes"]["files_integer"] == 3
    assert (
        api.get("/api/v2/conversations/customattributes/schemas/limits").json()["maxNumberOfSchemasPerOrg"]
        > 0
    )


def test_participant_attributes_merge_and_show_in_conversation_and_events(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Billing"]))
    reader = SocketReader(ch["connectUri"])
    try:
        call = finished_call(sim, queue_name="Billing")
        cid, pid = call.conversation_id, call.customer().participant_id
        path = f"/api/v2/conversations/calls/{cid}/participants/{pid}/attributes"
        api.ok("PATCH", path, json={"attributes": {"a": "1"}})
        merged = api.ok("PATCH", path, json={"attributes": {"b": "2"}})
        assert merged["attributes"]["a"] == "1" and merged["attributes"]["b"] == "2"
        assert api.call("PATCH", path, json={"attributes": {"n": 3}}).status_code == 400
        assert (
            api.call(
                "PATCH",
                f"/api/v2/conversations/calls/{cid}/participants/nobody/attributes",
                json={"attributes": {}},
            ).status_code
            == 404
        )
        conv = api.ok("GET", f"/api/v2/conversations/{cid}")
        customer = next(p for p in conv["participants"] if p["id"] == pid)
        assert customer["attributes"]["a"] == "1" and customer["attributes"]["b"] == "2"
        assert sim.participant_attributes(cid) == {pid: {"a": "1", "b": "2"}}
        event = reader.wait_for(
            lambda m: any(
                p.get("attributes", {}).get("b") == "2"
                for p in m.get("eventBody", {}).get("participants", [])
            )
        )
        assert event["eventBody"]["id"] == cid
    finally:
        reader.close()


# -- queries and paging ---------------------------------------------------------------------------
def test_queue_filters_and_analytics_query(sim: Simulator) -> None:
    api = Api(sim)
    assert [q["name"] for q in api.ok("GET", "/api/v2/routing/queues?name=sup*")["entities"]] == ["Support"]
    assert api.ok("GET", "/api/v2/routing/queues?name=*System")["entities"][0]["name"] == "CallExport System"
    page = api.ok("GET", "/api/v2/routing/queues?pageSize=2&pageNumber=3")
    assert page["pageCount"] == 3 and page["total"] == 6 and "nextUri" not in page
    assert api.get("/api/v2/routing/queues?pageSize=0").status_code == 400
    assert api.get("/api/v2/routing/queues/nope").status_code == 404

    old = sim.inject_call(kind="inbound_simple", queue_name="Claims", ended_ago_s=3600)
    new = finished_call(sim, queue_name="Claims")
    sim.wait_until_available(new.conversation_id, "details")
    claims = sim.org.queue_by_name("Claims").id
    now = time.time()
    interval = (
        time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - 3 * 3600))
        + "/"
        + time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 60))
    )
    query = {
        "interval": interval,
        "order": "asc",
        "orderBy": "conversationStart",
        "conversationFilters": [
            {
                "type": "and",
                "predicates": [{"type": "dimension", "dimension": "conversationEnd", "operator": "exists"}],
            }
        ],
        "segmentFilters": [
            {
                "type": "and",
                "predicates": [
                    {"type": "dimension", "dimension": "queueId", "value": claims},
                    {"type": "dimension", "dimension": "purpose", "value": "acd"},
                ],
            }
        ],
        "paging": {"pageSize": 1, "pageNumber": 1},
    }
    res = api.ok("POST", "/api/v2/analytics/conversations/details/query", json=query)
    ids = [c["conversationId"] for c in res["conversations"]]
    assert res["totalHits"] >= 2 and ids == [old.conversation_id]
    query["paging"]["pageNumber"] = 2
    assert api.ok("POST", "/api/v2/analytics/conversations/details/query", json=query)["conversations"]
    query["conversationFilters"] = [
        {"type": "or", "predicates": [{"dimension": "conversationId", "value": new.conversation_id}]}
    ]
    query["paging"]["pageNumber"] = 1
    res = api.ok("POST", "/api/v2/analytics/conversations/details/query", json=query)
    assert [c["conversationId"] for c in res["conversations"]] == [new.conversation_id]
    assert api.call("POST", "/api/v2/analytics/conversations/details/query", json={}).status_code == 400
    multi = api.ok(
        "GET", f"/api/v2/analytics/conversations/details?id={old.conversation_id},{new.conversation_id}"
    )
    assert {c["conversationId"] for c in multi["conversations"]} == {old.conversation_id, new.conversation_id}


def test_callback_on_system_queue_signals_on_its_topic(sim: Simulator) -> None:
    api = Api(sim)
    system = sim.org.system_queue
    ch = api.channel([f"v2.routing.queues.{system.id}.conversations"])
    reader = SocketReader(ch["connectUri"])
    try:
        wait_until(lambda: sim.ws.is_connected(ch["id"]))
        res = api.ok(
            "POST",
            "/api/v2/conversations/callbacks",
            json={
                "queueId": system.id,
                "callbackNumbers": ["+15550100"],
                "callbackUserName": "config changed",
                "data": {"row": "config"},
            },
        )
        event = reader.wait_for(lambda m: m.get("eventBody", {}).get("id") == res["conversation"]["id"])
        acd = next(p for p in event["eventBody"]["participants"] if p["purpose"] == "acd")
        assert acd["queueId"] == system.id
        assert res["conversation"]["id"] in sim.callbacks
        assert (
            api.call("POST", "/api/v2/conversations/callbacks", json={"queueId": system.id}).status_code
            == 400
        )
    finally:
        reader.close()


# -- fault knobs ------------------------------------------------------------------------------------
def test_fault_knobs_5xx_slow_forbidden(sim: Simulator) -> None:
    api = Api(sim)
    sim.faults.rate_5xx = 1.0
    statuses = {api.get("/api/v2/date").status_code for _ in range(12)}
    assert statuses <= {502, 503, 504} and len(statuses) >= 2
    sim.faults.rate_5xx = 0.0
    sim.faults.slow_ms = 300
    t0 = time.time()
    assert api.get("/api/v2/date").status_code == 200
    assert time.time() - t0 >= 0.3
    sim.faults.slow_ms = 0
    sim.faults.forbidden_paths = {"/api/v2/speechandtextanalytics", "/api/v2/flows/datatables"}
    r = api.get("/api/v2/flows/datatables")
    assert r.status_code == 403 and r.json()["code"] == "missing.permissions"
    assert api.get("/api/v2/date").status_code == 200
    sim.faults.fault_paths = {"/api/v2/analytics"}
    sim.faults.forbidden_paths = set()
    sim.faults.rate_429 = 1.0
    assert api.get("/api/v2/date").status_code == 200
    assert api.call("POST", "/api/v2/analytics/conversations/details/query", json={}).status_code == 429
    with pytest.raises(AttributeError):
        sim.faults.no_such_knob = 1
    with pytest.raises(ValueError):
        sim.faults.rate_429 = 2


def test_fault_knobs_media_and_transcripts(sim: Simulator) -> None:
    call = finished_call(sim)
    api = Api(sim)
    cid, rid = call.conversation_id, call.recordings[0].recording_id
    path = f"/api/v2/conversations/{cid}/recordings/{rid}?formatId=WAV&maxWaitMs=10000"
    uri = api.ok("GET", path)["mediaUris"]["S"]["mediaUri"]
    clean = requests.get(uri, timeout=30).content
    sim.faults.corrupt_media = True
    corrupted = requests.get(uri, timeout=30).content
    assert len(corrupted) == len(clean) and corrupted != clean
    sim.faults.corrupt_media = False
    sim.faults.expire_media_urls = True
    assert requests.get(uri, timeout=10).status_code == 403
    fresh = api.ok("GET", path)["mediaUris"]["S"]["mediaUri"]
    assert requests.get(fresh, timeout=10).status_code == 403
    sim.faults.expire_media_urls = False
    assert requests.get(uri, timeout=30).content == clean
    comm = next(iter(call.transcript_ids))
    sta = f"/api/v2/speechandtextanalytics/conversations/{cid}/communications/{comm}/transcripturl"
    sim.wait_until_available(cid, "transcript")
    sim.faults.transcripts_never = True
    assert api.get(sta).status_code == 404
    sim.faults.transcripts_never = False
    assert api.get(sta).status_code == 200
    no_rec = finished_call(sim, kind="no_recording")
    listing = api.get(f"/api/v2/conversations/{no_rec.conversation_id}/recordings")
    # no audio recording; the agent's screen may still be recorded (another policy), and a screen
    # recording still transcoding answers 202 (which one depends on the calls drawn before this one)
    assert listing.status_code in (200, 202), listing.text[:300]
    assert [r for r in listing.json() if r.get("media") != "screen"] == []


def test_requests_log_and_truth(sim: Simulator) -> None:
    api = Api(sim)
    api.call(
        "PUT",
        f"/api/v2/flows/datatables/{sim.config_table_id}/rows/zzz",
        params={"x": "1"},
        json={"key": "zzz", "Configuration": "v"},
    )
    last = sim.requests[-1]
    assert (last.method, last.path, last.query, last.status) == (
        "PUT",
        f"/api/v2/flows/datatables/{sim.config_table_id}/rows/zzz",
        {"x": ["1"]},
        404,
    )
    assert last.json == {"key": "zzz", "Configuration": "v"} and last.headers["Authorization"].startswith(
        "Bearer "
    )
    call = finished_call(sim)
    assert sim.calls[call.conversation_id] == call
    assert token(sim)


def test_archived_recordings_have_no_media() -> None:
    with Simulator(seed=8, archived_fraction=1.0, **FAST) as sim:
        call = finished_call(sim)
        api = Api(sim)
        cid = call.conversation_id
        meta = api.ok("GET", f"/api/v2/conversations/{cid}/recordingmetadata")
        assert {m["fileState"] for m in meta} == {"ARCHIVED"}
        recs = api.ok("GET", f"/api/v2/conversations/{cid}/recordings?formatId=WAV")
        assert recs and all(r["fileState"] == "ARCHIVED" and "mediaUris" not in r for r in recs)


def test_traffic_generates_calls_until_stopped(sim: Simulator) -> None:
    before = len(sim.calls)
    sim.start_traffic(1200, queue_names=["Retention"])
    wait_until(lambda: len(sim.calls) >= before + 5, 10)
    sim.stop_traffic()
    settled = len(sim.calls)
    time.sleep(0.3)
    assert len(sim.calls) == settled
    new = [c for c in sim.calls.values() if c.queue_name == "Retention"]
    assert len(new) >= 5


def test_enforced_rate_limit_answers_429_until_the_window_resets() -> None:
    with Simulator(seed=12, rate_limit_allowed=5) as sim:
        api = Api(sim)
        sim.faults.enforce_rate_limit = True
        statuses = [api.get("/api/v2/date") for _ in range(7)]
        assert [r.status_code for r in statuses] == [200] * 5 + [429] * 2
        limited = statuses[-1]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert (
            limited.headers["inin-ratelimit-count"] == "7"
            and limited.headers["inin-ratelimit-allowed"] == "5"
        )
        assert Api(sim).get("/api/v2/date").status_code == 200  # per token

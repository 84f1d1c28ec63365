"""Fidelity: every JSON body the simulator serves and every eventBody it publishes round-trips
through the official SDK model used for that endpoint or topic (tests/sim_fidelity.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from bulk_fidelity import walk_bulk_routes
from sim_admin_routes import walk_admin_routes
from sim_fidelity import assert_sdk_roundtrip
from sim_server_fixtures import FAST, Api, SocketReader, queue_topics, wait_until

from simulator.app import Simulator
from simulator.scenarios import KINDS

# Routes that serve no JSON model of the SDK (downloads, the login host's pages and the OAuth token;
# tests/test_sim_oauth.py checks those by shape).
NON_MODEL_ROUTES = {
    ("POST", "/oauth/token"),
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/authorize"),
    ("GET", "/logout"),
    ("GET", "/media/{conversationId}/{recordingId}/{formatId}"),
    ("GET", "/transcripts/{conversationId}/{communicationId}"),
    ("GET", "/transcripts/{conversationId}/{communicationId}/{part}"),
}

EVENT_MODELS = {
    "conversations": "QueueConversationEventTopicConversation",
    "calls": "QueueConversationCallEventTopicCallConversation",
}


@pytest.fixture(scope="module")
def world() -> Any:
    with Simulator(seed=11, socket_closing_grace_s=0.3, **FAST) as sim:
        api = Api(sim)
        ch = api.channel(queue_topics(sim))
        reader = SocketReader(ch["connectUri"])
        calls = [sim.inject_call(kind=k, duration_s=(300 if k == "long" else None)) for k in KINDS]
        calls += [sim.inject_call() for _ in range(6)]
        for c in calls:
            assert sim.wait_until_published(c.conversation_id, 30)
        yield sim, api, reader, ch, calls
        reader.close()


def test_every_published_event_body_is_an_sdk_model(world: Any) -> None:
    sim, api, reader, ch, calls = world
    queued = [c for c in calls if sim.live(c.conversation_id).queue_snapshots]
    wait_until(
        lambda: (
            {m["eventBody"]["id"] for m in reader.snapshot() if "eventBody" in m and "id" in m["eventBody"]}
            >= {c.conversation_id for c in queued}
        )
    )
    events = [m for m in reader.snapshot() if m["topicName"].startswith("v2.routing.queues.")]
    shapes_seen = set()
    for m in events:
        assert m["version"] == "2" and m["metadata"]["CorrelationId"]
        shape = "calls" if m["topicName"].endswith(".calls") else "conversations"
        shapes_seen.add(shape)
        assert_sdk_roundtrip(m["eventBody"], EVENT_MODELS[shape])
    assert shapes_seen == {"conversations", "calls"}
    # the callback on the system queue (configuration-change signal) is a queue conversation event too
    system = sim.org.system_queue
    created = api.ok(
        "POST",
        "/api/v2/conversations/callbacks",
        json={"queueId": system.id, "callbackNumbers": ["+4512345678"], "callbackUserName": "cfg"},
    )
    assert_sdk_roundtrip(created, "CreateCallbackResponse")
    cid = created["conversation"]["id"]
    event = reader.wait_for(lambda m: m.get("eventBody", {}).get("id") == cid)
    assert event["topicName"] == f"v2.routing.queues.{system.id}.conversations"
    assert_sdk_roundtrip(event["eventBody"], "QueueConversationEventTopicConversation")
    assert_sdk_roundtrip(api.ok("GET", f"/api/v2/conversations/{cid}"), "Conversation")


def test_every_endpoint_body_is_an_sdk_model(world: Any) -> None:
    sim, api, reader, ch, calls = world
    covered: set[tuple[str, str]] = set()
    matched = sim.router.match

    def check(
        method: str,
        path: str,
        model: str | None,
        status: int = 200,
        *,
        as_person: bool = False,
        **kwargs: Any,
    ) -> Any:
        route, _ = matched(method, path.split("?")[0])
        covered.add((route.method, route.template))
        if as_person:
            kwargs.setdefault("timeout", 30)
            r = person.request(method, sim.api_url + path, **kwargs)
        else:
            r = api.call(method, path, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:400]}"
        assert r.headers["ININ-Correlation-Id"] and r.headers["inin-ratelimit-allowed"]
        body = r.json() if r.content else None
        if model is not None:
            assert_sdk_roundtrip(body, model)
        return body

    # OAuth (no SDK model: checked by shape)
    r = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    )
    assert (
        set(r.json()) == {"access_token", "token_type", "expires_in"} and r.json()["token_type"] == "bearer"
    )

    # the signed-in person (a token of the admin app's client)
    person = requests.Session()
    person.headers["Authorization"] = f"Bearer {sim.issue_person_token(sim.admin.username)}"
    check("GET", "/api/v2/users/me", "UserMe", as_person=True)
    check(
        "GET",
        "/api/v2/users/me?expand=authorization,authorization.unusedRoles,date",
        "UserMe",
        as_person=True,
    )
    check("GET", "/api/v2/tokens/me", "TokenInfo", as_person=True)
    check("GET", "/api/v2/tokens/me", "TokenInfo")
    check("GET", f"/api/v2/users/{sim.admin.id}", "User", as_person=True)
    check("GET", "/api/v2/users/me", "ErrorBody", status=400)  # client credentials: no user

    # notifications
    chan = check("POST", "/api/v2/notifications/channels", "Channel")
    cpath = f"/api/v2/notifications/channels/{chan['id']}"
    check("GET", "/api/v2/notifications/channels", "ChannelEntityListing")
    check("GET", "/api/v2/notifications/availabletopics", "AvailableTopicEntityListing")
    q = sim.org.queues[0]
    topic = [{"id": f"v2.routing.queues.{q.id}.conversations"}]
    check("PUT", cpath + "/subscriptions", "ChannelTopicEntityListing", json=topic)
    check(
        "POST",
        cpath + "/subscriptions",
        "ChannelTopicEntityListing",
        json=[{"id": f"v2.routing.queues.{q.id}.conversations.calls"}],
    )
    check("GET", cpath + "/subscriptions", "ChannelTopicEntityListing")
    check("DELETE", cpath + "/subscriptions", None, status=204)
    check("HEAD", cpath, None)

    # routing, users, policies, org, date
    check("GET", "/api/v2/routing/queues?pageSize=2", "QueueEntityListing")
    check("GET", f"/api/v2/routing/queues/{q.id}", "Queue")
    check("GET", "/api/v2/routing/wrapupcodes?pageSize=3", "WrapupCodeEntityListing")
    check("GET", f"/api/v2/routing/wrapupcodes/{sim.org.wrapup_codes[0].id}", "WrapupCode")
    check("GET", "/api/v2/users?pageSize=5&pageNumber=2", "UserEntityListing")
    check("GET", f"/api/v2/users/{sim.org.users[0].id}", "User")
    check("GET", "/api/v2/recording/mediaretentionpolicies", "PolicyEntityListing")
    check("GET", f"/api/v2/recording/mediaretentionpolicies/{sim.org.policies[0].id}", "Policy")
    check("GET", "/api/v2/organizations/me", "Organization")
    check("GET", "/api/v2/date", "ServerDate")

    # data tables
    table = check("GET", "/api/v2/flows/datatables?expand=schema", "DataTablesDomainEntityListing")[
        "entities"
    ][0]
    assert_sdk_roundtrip(table, "DataTable")
    new = check(
        "POST",
        "/api/v2/flows/datatables",
        "DataTable",
        json={
            "name": "Fidelity",
            "schema": {
                "properties": {
                    "key": {"type": "string", "title": "key"},
                    "n": {"type": "integer", "title": "n"},
                }
            },
        },
    )
    tpath = f"/api/v2/flows/datatables/{new['id']}"
    check("GET", tpath + "?expand=schema", "DataTable")
    check("PUT", tpath, "DataTable", json={"name": "Fidelity", "description": "d"})
    check("POST", tpath + "/rows", "dict(str, object)", json={"key": "a", "n": 1})
    check("GET", tpath + "/rows?showbrief=false", "DataTableRowEntityListing")
    check("GET", tpath + "/rows/a?showbrief=false", "dict(str, object)")
    check("PUT", tpath + "/rows/a", "dict(str, object)", json={"key": "a", "n": 2})
    check("DELETE", tpath + "/rows/a", None, status=204)
    check("DELETE", tpath, None, status=204)

    # custom attribute schemas
    schema = check(
        "POST",
        "/api/v2/conversations/customattributes/schemas",
        "ConversationDataSchema",
        json={
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Export",
            "description": "export status",
            "properties": {
                "status_text": {
                    "allOf": [{"$ref": "#/definitions/text"}],
                    "title": "Status",
                    "minLength": 0,
                    "maxLength": 50,
                }
            },
        },
    )
    check(
        "POST",
        "/api/v2/conversations/customattributes/schemas",
        "ErrorBody",
        status=400,
        json={"title": "Plain", "properties": {"status": {"type": "string"}}},
    )
    check("GET", "/api/v2/conversations/customattributes/schemas/coretypes", "CoretypeListing")
    check("GET", "/api/v2/conversations/customattributes/schemas/coretypes/longtext", "Coretype")
    check("GET", "/api/v2/conversations/customattributes/schemas", "ConversationDataSchemaListing")
    check("GET", f"/api/v2/conversations/customattributes/schemas/{schema['id']}", "ConversationDataSchema")
    check("GET", "/api/v2/conversations/customattributes/schemas/limits", "SchemaQuantityLimits")

    # every call: conversation, details, recordings, transcripts, attributes
    media_checked = False
    for call in calls:
        cid = call.conversation_id
        conv = check("GET", f"/api/v2/conversations/{cid}", "Conversation")
        check(
            "GET", f"/api/v2/analytics/conversations/{cid}/details", "AnalyticsConversationWithoutAttributes"
        )
        check("GET", f"/api/v2/conversations/{cid}/recordingmetadata", "list[RecordingMetadata]")
        fmt = "WAV" if not media_checked and call.recordings and call.kind == "inbound_simple" else "NONE"
        recs = check(
            "GET",
            f"/api/v2/conversations/{cid}/recordings?formatId={fmt}",
            "list[Recording]",
            status=202 if fmt == "WAV" else 200,
        )
        for rec in call.recordings:
            rid = rec.recording_id
            check("GET", f"/api/v2/conversations/{cid}/recordingmetadata/{rid}", "RecordingMetadata")
            one = check("GET", f"/api/v2/conversations/{cid}/recordings/{rid}?formatId={fmt}", "Recording")
            if fmt == "WAV":
                assert one["mediaUris"]["S"]["mediaUri"].startswith(sim.api_url)
                media_checked = True
        screens = sim.live(cid).screen_recordings
        for sr in screens:  # screen recordings are listed too (media "screen")
            check(
                "GET", f"/api/v2/conversations/{cid}/recordingmetadata/{sr.recording_id}", "RecordingMetadata"
            )
            check(
                "GET",
                f"/api/v2/conversations/{cid}/recordings/{sr.recording_id}?formatId={fmt}",
                "Recording",
                status=202 if fmt == "WAV" else 200,
            )
        assert len(recs) == len(call.recordings) + len(screens)
        for comm in call.transcript_ids:
            base = f"/api/v2/speechandtextanalytics/conversations/{cid}/communications/{comm}"
            check("GET", base + "/transcripturl", "TranscriptUrl")
            check("GET", base + "/transcripturls", "TranscriptUrls")
        customer = next(p for p in conv["participants"] if p["purpose"] in ("customer", "external"))
        check(
            "PATCH",
            f"/api/v2/conversations/calls/{cid}/participants/{customer['id']}/attributes",
            "ParticipantAttributes",
            json={"attributes": {"exported": "yes"}},
        )
        check(
            "PATCH",
            f"/api/v2/conversations/{cid}/participants/{customer['id']}/attributes",
            None,
            status=202,
            json={"attributes": {"exportedBy": "callexport"}},
        )
        assert_sdk_roundtrip(api.ok("GET", f"/api/v2/conversations/{cid}"), "Conversation")
        ca = f"/api/v2/conversations/{cid}/customattributes"
        check(
            "PUT",
            ca,
            "CustomAttributesIdResponse",
            json={"id": "export", "schemaId": schema["id"], "customAttributes": {"status_text": "done"}},
        )
        check(
            "PATCH", ca, None, status=204, json={"id": "export", "customAttributes": {"status_text": "again"}}
        )
        check("GET", ca, "CustomAttributesListing")
        check("GET", ca + "/export", "CustomAttributes")
        check("DELETE", ca + "/export", None, status=204)
    assert media_checked
    ids = ",".join(c.conversation_id for c in calls[:5])
    check(
        "GET",
        f"/api/v2/analytics/conversations/details?id={ids}",
        "AnalyticsConversationWithoutAttributesMultiGetResponse",
    )
    now = time.gmtime()
    # from yesterday: just after midnight UTC a call may have started the day before (the query matches
    # conversations that started on a day the interval touches)
    interval = (
        time.strftime("%Y-%m-%dT00:00:00.000Z", time.gmtime(time.time() - 86400))
        + "/"
        + time.strftime("%Y-%m-%dT23:59:59.000Z", now)
    )
    res = check(
        "POST",
        "/api/v2/analytics/conversations/details/query",
        "AnalyticsConversationQueryResponse",
        json={
            "interval": interval,
            "paging": {"pageSize": 5, "pageNumber": 1},
            "segmentFilters": [
                {"type": "and", "predicates": [{"dimension": "queueId", "value": calls[0].queue_ids()[0]}]}
            ],
        },
    )
    assert res["totalHits"] >= 1
    created = check(
        "POST",
        "/api/v2/conversations/callbacks",
        "CreateCallbackResponse",
        json={"routingData": {"queueId": sim.org.system_queue.id}, "callbackNumbers": ["+1555"]},
    )
    callback = created["conversation"]["id"]
    check(
        "GET", f"/api/v2/analytics/conversations/{callback}/details", "AnalyticsConversationWithoutAttributes"
    )
    check(
        "PATCH",
        f"/api/v2/conversations/callbacks/{callback}",
        "Conversation",
        json={"state": "disconnected"},
    )
    check(
        "PATCH",
        f"/api/v2/conversations/callbacks/{callback}",
        "ErrorBody",
        status=400,
        json={"state": "connected"},
    )

    walk_bulk_routes(check, sim)  # batch recordings, analytics jobs, past calls (tests/bulk_fidelity.py)
    walk_admin_routes(check, sim)  # roles, OAuth clients, queues, integrations (run.py setup)

    # error bodies are ErrorBody
    check("GET", "/api/v2/conversations/00000000-0000-4000-8000-000000000000", "ErrorBody", status=404)
    check("GET", f"{tpath}/rows/missing", "ErrorBody", status=404)

    served = set(sim.router.templates()) - NON_MODEL_ROUTES
    assert served - covered == set(), f"routes not walked by the fidelity test: {sorted(served - covered)}"


def test_socket_closing_body_is_a_system_message(world: Any) -> None:
    sim, api, reader, ch, calls = world
    fresh = api.channel(queue_topics(sim, ["Sales"]))
    other = SocketReader(fresh["connectUri"])
    wait_until(lambda: sim.ws.is_connected(fresh["id"]))
    assert sim.faults.send_socket_closing() >= 1
    msg = other.wait_for(lambda m: m["topicName"] == "v2.system.socket_closing")
    assert_sdk_roundtrip(msg["eventBody"], "SystemMessageSystemMessage")
    assert other.closed.wait(5)

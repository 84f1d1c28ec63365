"""The official SDK, as a client, authenticates against the simulator and calls the APIs the
service uses (recording, analytics, routing, architect, notifications, utilities, ...)."""

from __future__ import annotations

import time
from typing import Any

import PureCloudPlatformClientV2 as sdk
import pytest
import requests
from PureCloudPlatformClientV2.rest import ApiException
from sim_server_fixtures import FAST, SocketReader

from simulator.app import Simulator


@pytest.fixture(scope="module")
def sim() -> Any:
    with Simulator(seed=5, **FAST) as s:
        yield s


def client(sim: Simulator) -> sdk.ApiClient:
    """An SDK client bound to the simulator; the host is per client (Configuration is a singleton)."""
    api_client = sdk.ApiClient(host=sim.api_url)
    return api_client.get_client_credentials_token(sim.client_id, sim.client_secret)


def test_sdk_authenticates_and_calls_the_service_apis(sim: Simulator) -> None:
    c = client(sim)
    assert c.access_token
    assert sim.requests[-1].path == "/oauth/token"  # login host == API host on loopback

    # utilities, routing, users
    date = sdk.UtilitiesApi(c).get_date()
    assert abs(date.current_date.timestamp() - time.time()) < 5
    queues = sdk.RoutingApi(c).get_routing_queues(name="Sales", page_size=25, page_number=1)
    assert [q.name for q in queues.entities] == ["Sales"] and queues.page_count == 1
    sales = queues.entities[0]
    assert sdk.RoutingApi(c).get_routing_queue(sales.id).name == "Sales"
    code = sim.org.wrapup_codes[0]
    assert sdk.RoutingApi(c).get_routing_wrapupcode(code.id).name == code.name
    users = sdk.UsersApi(c).get_users(page_size=5)
    assert users.total == len(sim.all_users()) and len(users.entities) == 5
    policies = sdk.RecordingApi(c).get_recording_mediaretentionpolicies()
    for_queues = [
        q.id for p in policies.entities for q in p.media_policies.call_policy.conditions.for_queues or []
    ]
    assert sales.id in for_queues

    # notifications
    notifications = sdk.NotificationsApi(c)
    channel = notifications.post_notifications_channels()
    topics = [sdk.ChannelTopic(), sdk.ChannelTopic()]
    topics[0].id = f"v2.routing.queues.{sales.id}.conversations"
    topics[1].id = f"v2.routing.queues.{sales.id}.conversations.calls"
    subscribed = notifications.put_notifications_channel_subscriptions(channel.id, topics)
    assert {t.id for t in subscribed.entities} == {t.id for t in topics}
    reader = SocketReader(channel.connect_uri)
    try:
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=30)
        cid = call.conversation_id
        assert sim.wait_until_published(cid, 20)
        reader.wait_for(lambda m: m.get("eventBody", {}).get("id") == cid)
    finally:
        reader.close()

    # conversations and attributes
    conversations = sdk.ConversationsApi(c)
    conv = conversations.get_conversation(cid)
    customer = next(p for p in conv.participants if p.purpose == "customer")
    body = sdk.ParticipantAttributes()
    body.attributes = {"callexport.status": "exported"}
    conversations.patch_conversations_call_participant_attributes(cid, customer.id, body)
    assert sim.participant_attributes(cid)[customer.id] == {"callexport.status": "exported"}

    # analytics
    analytics = sdk.AnalyticsApi(c)
    sim.wait_until_available(cid, "details")
    details = analytics.get_analytics_conversation_details(cid)
    assert details.conversation_id == cid and details.conversation_end is not None
    query = sdk.ConversationQuery()
    query.interval = time.strftime("%Y-%m-%dT00:00:00Z/%Y-%m-%dT23:59:59Z", time.gmtime())
    result = analytics.post_analytics_conversations_details_query(query)
    assert cid in [x.conversation_id for x in result.conversations]

    # recordings: 202 while transcoding (the SDK returns the partial body), then 200 with mediaUris
    recording_api = sdk.RecordingApi(c)
    meta = recording_api.get_conversation_recordingmetadata(cid)
    assert [m.id for m in meta] == [r.recording_id for r in call.recordings]
    rid = meta[0].id
    first = recording_api.get_conversation_recording(cid, rid, format_id="MP3")
    assert first.media_uris is None
    second = recording_api.get_conversation_recording(cid, rid, format_id="MP3")
    media = requests.get(second.media_uris["S"].media_uri, timeout=60)
    assert media.status_code == 200 and media.headers["Content-Type"] == "audio/mpeg"
    assert len(media.content) == int(media.headers["Content-Length"]) > 1000

    # transcripts
    sta = sdk.SpeechTextAnalyticsApi(c)
    sim.wait_until_available(cid, "transcript")
    comm = next(iter(call.transcript_ids))
    url = sta.get_speechandtextanalytics_conversation_communication_transcripturl(cid, comm).url
    transcript = requests.get(url, timeout=10).json()
    assert transcript["conversationId"] == cid and transcript["communicationId"] == comm

    # architect data tables
    architect = sdk.ArchitectApi(c)
    tables = architect.get_flows_datatables(name="CallExport*")
    table_id = tables.entities[0].id
    assert table_id == sim.config_table_id
    architect.post_flows_datatable_rows(table_id, {"key": "config", "Configuration": '{"version": 1}'})
    row = architect.get_flows_datatable_row(table_id, "config", showbrief=False)
    assert row["Configuration"] == '{"version": 1}'
    architect.put_flows_datatable_row(
        table_id, "config", body={"key": "config", "Configuration": '{"version": 2}'}
    )
    assert sim.datatable_rows()[0]["Configuration"] == '{"version": 2}'


def test_sdk_sees_401_after_revocation_and_for_bad_credentials(sim: Simulator) -> None:
    c = client(sim)
    sdk.UtilitiesApi(c).get_date()
    sim.faults.revoke_tokens()
    with pytest.raises(ApiException) as err:
        sdk.UtilitiesApi(c).get_date()
    assert err.value.status == 401
    sdk.UtilitiesApi(client(sim)).get_date()  # a new token works
    bad = sdk.ApiClient(host=sim.api_url)
    with pytest.raises(ApiException) as err:
        bad.get_client_credentials_token(sim.client_id, "wrong-secret")
    assert err.value.status == 401


def test_sdk_surfaces_429_with_retry_after(sim: Simulator) -> None:
    """The SDK's urllib3 layer retries 429s itself (honouring Retry-After), then raises."""
    c = client(sim)
    sim.faults.rate_429 = 1.0
    sim.faults.retry_after_s = 0  # keep the SDK's own Retry-After sleeps out of the test
    before = len(sim.requests)
    try:
        with pytest.raises(ApiException) as err:
            sdk.RoutingApi(c).get_routing_queues()
        assert err.value.status == 429
        assert err.value.headers["Retry-After"] == "0"
        assert [r.status for r in sim.requests[before:]].count(429) > 1
        sim.faults.rate_429 = 0.5
        assert sdk.RoutingApi(c).get_routing_queues().total == len(sim.org.all_queues())
    finally:
        sim.faults.reset()

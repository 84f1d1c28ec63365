"""GenesysClient against the simulator over real HTTP: auth, retries, errors, endpoints."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from genesys_fixtures import make_client, requests_to, running_sim

from genesys.config import ClientConfig
from genesys.errors import (
    AuthenticationFailed,
    ClientClosed,
    Forbidden,
    NotFound,
    TransientError,
)
from genesys.rest import GenesysClient, Pending


@pytest.fixture(scope="module")
def sim():
    with running_sim(seed=11, token_ttl_s=3600) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset_faults(sim):
    sim.faults.reset()
    yield
    sim.faults.reset()


def test_reads_and_paging(sim) -> None:
    client = make_client(sim)
    assert client.get_date()["currentDate"].endswith("Z")
    assert client.get_organization()["id"] == sim.org.id
    names = {q["name"] for q in client.find_queues()}
    assert {q.name for q in sim.org.all_queues()} <= names
    sales = client.find_queues(name="Sales")
    assert [q["name"] for q in sales] == ["Sales"]
    assert client.get_queue(sales[0]["id"])["name"] == "Sales"
    resolved = client.queues_by_name(["sales", "Support", "Nope"])
    assert set(resolved) == {"sales", "Support"} and resolved["sales"]["id"] == sales[0]["id"]
    before = len(requests_to(sim, "/api/v2/routing/queues", "GET"))
    client.page_size = 2
    assert {q["name"] for q in client.find_queues()} == names  # every page was read
    assert len(requests_to(sim, "/api/v2/routing/queues", "GET")) - before >= 3
    user = sim.org.users[0]
    assert client.get_user(user.id)["name"] == user.name
    users = client.get_users([u.id for u in sim.org.users[:3]] + [sim.org.users[0].id])
    assert {u["id"] for u in users} == {u.id for u in sim.org.users[:3]}
    assert client.list_retention_policies()
    # the raw JSON is returned, not SDK models
    assert isinstance(client.get_date(), dict)


def test_token_is_cached_and_sent_as_bearer(sim) -> None:
    client = make_client(sim)
    client.get_date()
    client.get_date()
    assert client.tokens.fetch_count == 1
    last = requests_to(sim, "/api/v2/date")[-1]
    auth = {k.lower(): v for k, v in last.headers.items()}["authorization"]
    assert auth.startswith("Bearer ") and sim.client_secret not in auth
    token_req = [r for r in sim.requests if r.path == "/oauth/token"][-1]
    assert {k.lower(): v for k, v in token_req.headers.items()}["authorization"].startswith("Basic ")


def test_revoked_token_refreshes_and_retries_once(sim, caplog) -> None:
    client = make_client(sim)
    client.get_date()
    assert sim.faults.revoke_tokens() >= 1
    caplog.set_level(logging.WARNING, logger="genesys")
    assert client.get_organization()["id"] == sim.org.id
    assert client.tokens.fetch_count == 2
    statuses = [r.status for r in requests_to(sim, "/api/v2/organizations/me")][-2:]
    assert statuses == [401, 200]
    assert any("attempt 1" in r.getMessage() and "organizations/me" in r.getMessage() for r in caplog.records)


def test_bad_credentials_are_a_clear_error(sim, caplog) -> None:
    cfg = ClientConfig(sim.api_url, sim.client_id, "wrong-secret-value")
    client = GenesysClient(cfg)
    with pytest.raises(AuthenticationFailed) as info:
        client.get_date()
    assert "refused the client credentials" in str(info.value)
    assert "wrong-secret-value" not in str(info.value)
    assert all("wrong-secret-value" not in r.getMessage() for r in caplog.records)


def test_429_storm_honours_retry_after(sim, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="genesys")
    sim.faults.retry_after_s = 1
    sim.faults.fault_paths = ["/api/v2/date"]
    sim.faults.rate_429 = 0.5
    client = make_client(sim, max_retries=10)
    start = time.monotonic()
    for _ in range(3):
        assert "currentDate" in client.get_date()
    elapsed = time.monotonic() - start
    throttled = [r for r in requests_to(sim, "/api/v2/date") if r.status == 429]
    assert throttled, "the storm produced no 429"
    retries = [r for r in caplog.records if "GET /api/v2/date: attempt" in r.getMessage()]
    assert len(retries) >= 1 and all(r.levelno == logging.WARNING for r in retries)
    assert elapsed >= 0.9 * len(retries)  # every retry waited Retry-After (1 s)


def test_5xx_is_raised_at_once_for_the_owner_of_the_work_to_retry(sim, caplog) -> None:
    """Retries happen in one layer: the client does not retry a 5xx (the export state machine,
    the listener and the configuration loader do, with reliability.backoff)."""
    caplog.set_level(logging.WARNING, logger="genesys")
    sim.faults.fault_paths = ["/api/v2/organizations/me"]
    sim.faults.rate_5xx = 1.0
    client = make_client(sim, max_retries=5)
    before = len(requests_to(sim, "/api/v2/organizations/me"))
    with pytest.raises(TransientError) as info:
        client.get_organization()
    assert info.value.status in (502, 503, 504)
    assert len(requests_to(sim, "/api/v2/organizations/me")) - before == 1
    assert "organizations/me" in str(info.value)
    sim.faults.rate_5xx = 0.0
    assert client.get_organization()["id"] == sim.org.id


def test_other_4xx_not_retried(sim) -> None:
    client = make_client(sim)
    before = len(requests_to(sim, "/api/v2/conversations/"))
    with pytest.raises(NotFound) as info:
        client.get_conversation("00000000-0000-4000-8000-000000000000")
    assert len(requests_to(sim, "/api/v2/conversations/")) - before == 1
    assert "GET /api/v2/conversations/{conversationId}" in str(info.value)
    sim.faults.forbidden_paths = ["/api/v2/routing/queues"]
    with pytest.raises(Forbidden):
        client.find_queues()


def test_close_aborts_a_retry_wait(sim) -> None:
    sim.faults.fault_paths = ["/api/v2/date"]
    sim.faults.retry_after_s = 30
    sim.faults.rate_429 = 1.0
    client = make_client(sim)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.get_date()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    th = threading.Thread(target=call)
    th.start()
    time.sleep(0.5)
    start = time.monotonic()
    client.close()
    th.join(5)
    assert not th.is_alive() and time.monotonic() - start < 2
    assert isinstance(errors[0], ClientClosed)


def test_close_ends_a_wait_for_the_request_budget_and_spares_other_clients_of_the_budget(sim) -> None:
    """Two clients of one OAuth client share its budget: a request of one waiting for a slot ends
    with ClientClosed as soon as that client closes (a service shutting down never waits out the
    budget), while the other client's waiting request still gets its slot."""
    from genesys.ratelimit import RateLimiter

    limiter = RateLimiter(1, window_s=3.0)
    closing, staying = make_client(sim, limiter=limiter), make_client(sim, limiter=limiter)
    closing.get_date()  # the window's one request
    outcome: dict[str, object] = {}

    def call(name: str, client: GenesysClient) -> None:
        try:
            outcome[name] = client.get_date()
        except BaseException as exc:  # noqa: BLE001
            outcome[name] = exc

    threads = [
        threading.Thread(target=call, args=(n, c)) for n, c in (("closing", closing), ("staying", staying))
    ]
    for th in threads:
        th.start()
    time.sleep(0.5)
    start = time.monotonic()
    closing.close()
    threads[0].join(5)
    assert not threads[0].is_alive() and time.monotonic() - start < 1
    assert isinstance(outcome["closing"], ClientClosed)
    threads[1].join(10)
    assert "currentDate" in outcome["staying"], outcome  # type: ignore[operator]  # the date, once the window had room


def test_two_simulators_in_one_process(sim) -> None:
    with running_sim(seed=12) as other:
        a, b = make_client(sim), make_client(other)
        assert a.get_organization()["id"] == sim.org.id
        assert b.get_organization()["id"] == other.org.id
        assert a.get_organization()["id"] == sim.org.id


def test_recordings_202_then_ready_and_transcript_url(sim) -> None:
    client = make_client(sim)
    call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
    cid = call.conversation_id
    assert sim.wait_until_published(cid, 20)
    assert sim.wait_until_available(cid, "recordings", 20)
    meta = client.get_recording_metadata(cid)
    assert [m["id"] for m in meta] == [r.recording_id for r in call.recordings]
    sim.faults.extra_202 = 1
    first = client.get_recordings(cid, "WAV", max_wait_ms=0)
    assert isinstance(first, Pending) and first.estimated_ms and first.estimated_ms > 0
    rid = meta[0]["id"]
    second = client.get_recording(cid, rid, "WAV")
    assert isinstance(second, Pending)
    third = client.get_recording(cid, rid, "WAV")
    assert not isinstance(third, Pending) and third["mediaUris"]["S"]["mediaUri"].startswith("http")
    assert sim.wait_until_available(cid, "transcript", 20)
    if call.transcript_available:
        url = client.get_transcript_url(cid, call.customer().communication_id)
        assert url.startswith("http") and "/transcripts/" in url
    else:
        with pytest.raises(NotFound):
            client.get_transcript_url(cid, call.customer().communication_id)
    assert sim.wait_until_available(cid, "details", 20)
    details = client.get_conversation_details(cid, require_end=True)
    assert details["conversationId"] == cid
    conv = client.get_conversation(cid)
    assert conv["id"] == cid and conv["participants"]


def test_details_not_found_while_lagging() -> None:
    with running_sim(seed=13, details_delay_s=30) as sim:
        client = make_client(sim)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        with pytest.raises(NotFound):
            client.get_conversation_details(call.conversation_id)


def test_write_back_and_data_tables_and_callbacks(sim) -> None:
    client = make_client(sim)
    call = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=10)
    cid = call.conversation_id
    assert sim.wait_until_published(cid, 20)
    customer = call.customer().participant_id
    client.patch_participant_attributes(cid, customer, {"callexport.status": "exported", "n": 3})
    assert sim.participant_attributes(cid)[customer]["callexport.status"] == "exported"
    assert sim.participant_attributes(cid)[customer]["n"] == "3"

    schema = client.ensure_custom_attribute_schema(
        "callexport_status",
        {"status_text": {"allOf": [{"$ref": "#/definitions/text"}], "title": "Status", "maxLength": 50}},
        description="export status",
    )
    assert client.ensure_custom_attribute_schema("callexport_status", {})["id"] == schema["id"]
    client.put_custom_attributes(cid, "rec-1", schema["id"], {"status_text": "exported"})
    records = client.get_custom_attributes(cid)
    assert records and records[0]["customAttributes"]["status_text"] == "exported"
    client.patch_custom_attributes(cid, "rec-1", {"status_text": "again"}, version=records[0].get("version"))
    assert sim.custom_attributes(cid)[0]["customAttributes"]["status_text"] == "again"

    table = client.find_datatable("callexport configuration")
    assert table is not None and table["id"] == sim.config_table_id
    assert client.find_datatable("no such table") is None
    with pytest.raises(NotFound):
        client.get_datatable_row(table["id"], "missing-row")
    client.put_datatable_row(table["id"], "config", {"Configuration": '{"Profiles": []}'})
    assert client.get_datatable_row(table["id"], "config")["Configuration"] == '{"Profiles": []}'

    created = client.create_callback(sim.org.system_queue.id)
    assert created["conversation"]["id"] in sim.callbacks


def test_short_lived_tokens_are_refreshed_ahead_of_expiry() -> None:
    with running_sim(seed=14, token_ttl_s=2.0) as short:
        client = make_client(short)
        start = time.monotonic()
        while client.tokens.fetch_count < 3 and time.monotonic() - start < 8:
            client.get_date()
            time.sleep(0.05)
        assert client.tokens.fetch_count >= 3
        assert all(r.status == 200 for r in requests_to(short, "/api/v2/date"))  # never a 401


def test_concurrent_callers_share_one_token_and_one_refresh(sim) -> None:
    client = make_client(sim)
    errors: list[BaseException] = []

    def burst() -> None:
        try:
            for _ in range(3):
                client.get_date()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def run_threads() -> None:
        threads = [threading.Thread(target=burst) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)

    run_threads()
    assert not errors and client.tokens.fetch_count == 1
    sim.faults.revoke_tokens()
    run_threads()
    assert not errors and client.tokens.fetch_count == 2  # one refresh for all threads


def test_slow_responses_time_out_as_transient(sim) -> None:
    sim.faults.fault_paths = ["/api/v2/date"]
    sim.faults.slow_ms = 1500
    client = make_client(sim, timeout_s=0.3, max_retries=1)
    start = time.monotonic()
    with pytest.raises(TransientError) as info:
        client.get_date()
    assert info.value.status == 0
    assert "Timeout" in str(info.value)
    assert time.monotonic() - start < 3


def test_server_budget_headers_pause_the_shared_limiter() -> None:
    from genesys.errors import RateLimitTimeout

    with running_sim(seed=15, rate_limit_allowed=5) as small:
        client = make_client(small)
        for _ in range(5):
            client.get_date()
        with pytest.raises(RateLimitTimeout):  # the server said 5/5 used: every caller now waits
            client.limiter.acquire(max_wait_s=0.2, what="GET /api/v2/date")

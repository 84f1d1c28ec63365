"""The simulator's protocol logic without sockets or threads."""

from __future__ import annotations

import time

import pytest

from simulator.analytics_query import run_query
from simulator.channels import MAX_TOPICS_PER_CHANNEL, ChannelRegistry
from simulator.datatables import DataTableStore, string_schema
from simulator.errors import ApiError
from simulator.faults import Faults, corrupt
from simulator.http_api import Router
from simulator.paging import listing, name_matches
from simulator.signing import UrlSigner
from simulator.state import compressed_instant_s
from simulator.tokens import TokenStore


def test_faults_are_seeded_and_scoped_to_api_paths() -> None:
    a, b = Faults(seed=1), Faults(seed=1)
    for f in (a, b):
        f.rate_429 = 0.5
    seq_a = [a.transport_fault("/api/v2/date") for _ in range(50)]
    seq_b = [b.transport_fault("/api/v2/date") for _ in range(50)]
    assert seq_a == seq_b and 5 < sum(1 for x in seq_a if x and x.status == 429) < 45
    assert a.transport_fault("/oauth/token") is None
    assert a.transport_fault("/media/x/y/WAV") is None
    a.reset()
    assert a.transport_fault("/api/v2/date") is None and a.snapshot()["rate_429"] == 0.0
    a.forbidden_paths = "/api/v2/users"
    assert a.transport_fault("/api/v2/users/1").status == 403  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        a.slow_ms = -1


def test_corrupt_keeps_length_and_is_deterministic() -> None:
    data = bytes(range(256)) * 10
    assert len(corrupt(data, 0)) == len(data) and corrupt(data, 0) != data
    # chunking does not change the result
    assert corrupt(data[:100], 0) + corrupt(data[100:], 100) == corrupt(data, 0)


def test_channel_registry_limits_and_eviction() -> None:
    removed: list[str] = []
    reg = ChannelRegistry(3600, lambda: ["q1"], removed.append)
    chans = [reg.create("client", "tok") for _ in range(20)]
    reg.set_connected(chans[0].id, True)
    newest = reg.create("client", "tok")
    assert removed == [chans[1].id]  # oldest without a connection
    assert reg.get(chans[0].id) is not None and reg.get(newest.id) is not None
    other = reg.create("other-client", "tok2")
    assert len(reg.list_for("client")) == 20 and len(reg.list_for("other-client")) == 1
    with pytest.raises(ApiError) as err:
        reg.require(other.id, "client")
    assert err.value.status == 404
    topics = [f"v2.users.{i}.conversations" for i in range(MAX_TOPICS_PER_CHANNEL)]
    reg.subscribe(newest, topics, replace=True, ignore_errors=False)
    with pytest.raises(ApiError) as err:
        reg.subscribe(newest, ["v2.users.x.conversations"], replace=False, ignore_errors=False)
    assert err.value.status == 400 and len(newest.topics) == MAX_TOPICS_PER_CHANNEL
    with pytest.raises(ApiError):
        reg.subscribe(newest, ["not a topic"], replace=True, ignore_errors=False)
    assert reg.subscribers("v2.users.5.conversations") == [newest.id]


def test_channel_expiry() -> None:
    removed: list[str] = []
    reg = ChannelRegistry(0.05, lambda: [], removed.append)
    ch = reg.create("c", "t")
    time.sleep(0.06)
    assert reg.get(ch.id) is None and removed == [ch.id]


def test_paging_envelope_and_name_filter() -> None:
    body = listing(list(range(7)), "/api/v2/x", {"pageSize": ["3"], "pageNumber": ["2"], "name": ["a*"]})
    assert body["entities"] == [3, 4, 5] and body["total"] == 7 and body["pageCount"] == 3
    assert body["nextUri"] == "/api/v2/x?pageSize=3&pageNumber=3&name=a%2A"
    assert body["previousUri"].endswith("pageNumber=1&name=a%2A")
    empty = listing([], "/api/v2/x", {})
    assert empty["pageCount"] == 0 and empty["entities"] == [] and "nextUri" not in empty
    assert name_matches("sal*", "Sales") and name_matches("*ALES", "Sales") and name_matches("sales", "Sales")
    assert not name_matches("sal", "Sales")


def test_signer_and_tokens() -> None:
    signer = UrlSigner(b"k" * 32)
    url = signer.sign("http://h", "/media/a", 60)
    from urllib.parse import parse_qs, urlsplit

    q = parse_qs(urlsplit(url).query)
    assert signer.check("/media/a", q) is None
    assert signer.check("/media/b", q) == "invalid"
    assert (
        signer.check("/media/a", parse_qs(urlsplit(signer.sign("http://h", "/media/a", -1)).query))
        == "expired"
    )
    store = TokenStore({"id": "secret"}, ttl_s=60)
    import base64

    good = "Basic " + base64.b64encode(b"id:secret").decode()
    assert store.authenticate_basic(good) == "id"
    with pytest.raises(ApiError):
        store.authenticate_basic("Basic " + base64.b64encode(b"id:wrong").decode())
    tok = store.issue("id")
    assert store.check_bearer(f"Bearer {tok.value}") is tok
    assert store.count_request(tok)[0] == 1 and store.count_request(tok)[0] == 2
    store.revoke_all()
    with pytest.raises(ApiError):
        store.check_bearer(f"Bearer {tok.value}")


def test_router_404_405_and_path_params() -> None:
    router = Router()
    router.add("GET", "/api/v2/x/{xId}", lambda req: {"ok": req.params})
    route, params = router.match("GET", "/api/v2/x/a%20b")
    assert params == {"xId": "a b"}
    assert router.match("HEAD", "/api/v2/x/1")[0] is route
    with pytest.raises(ApiError) as err:
        router.match("DELETE", "/api/v2/x/1")
    assert err.value.status == 405
    with pytest.raises(ApiError) as err:
        router.match("GET", "/api/v2/y")
    assert err.value.status == 404


def test_data_table_validation() -> None:
    store = DataTableStore({"id": "d"})
    table = store.create({"name": "T", "schema": string_schema({"Configuration": "string"})})
    with pytest.raises(ApiError):
        store.insert(table.id, {"key": "", "Configuration": "x"})
    with pytest.raises(ApiError):
        store.insert(table.id, {"key": "a", "Configuration": 3})
    with pytest.raises(ApiError):
        store.create({"name": "Bad", "schema": {"properties": {"id": {"type": "string"}}}})
    store.insert(table.id, {"key": "a", "Configuration": "x"})
    with pytest.raises(ApiError):
        store.replace(table.id, "a", {"key": "b", "Configuration": "x"})


def test_analytics_query_filters() -> None:
    docs = [
        {
            "conversationId": "c1",
            "conversationStart": "2026-01-01T10:00:00.000Z",
            "conversationEnd": "2026-01-01T10:05:00.000Z",
            "participants": [
                {
                    "purpose": "acd",
                    "sessions": [
                        {"mediaType": "voice", "segments": [{"queueId": "q1", "segmentType": "delay"}]}
                    ],
                }
            ],
        },
        {
            "conversationId": "c2",
            "conversationStart": "2026-01-01T11:00:00.000Z",
            "participants": [{"purpose": "acd", "sessions": [{"segments": [{"queueId": "q2"}]}]}],
        },
    ]
    base = {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"}
    assert run_query(base, docs)["totalHits"] == 2
    ended = {
        **base,
        "conversationFilters": [
            {"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}
        ],
    }
    assert [c["conversationId"] for c in run_query(ended, docs)["conversations"]] == ["c1"]
    q2 = {**base, "segmentFilters": [{"type": "or", "predicates": [{"dimension": "queueId", "value": "q2"}]}]}
    assert [c["conversationId"] for c in run_query(q2, docs)["conversations"]] == ["c2"]
    mixed = {
        **base,
        "segmentFilters": [
            {
                "type": "and",
                "predicates": [
                    {"dimension": "queueId", "value": "q1"},
                    {"dimension": "mediaType", "value": "voice"},
                ],
            }
        ],
    }
    assert run_query(mixed, docs)["totalHits"] == 1
    desc = {**base, "order": "desc"}
    assert run_query(desc, docs)["conversations"][0]["conversationId"] == "c2"
    assert "conversations" not in run_query({"interval": "2025-01-01T00:00:00Z/2025-01-02T00:00:00Z"}, docs)
    with pytest.raises(ApiError):
        run_query({"interval": "yesterday"}, docs)


def test_compressed_instants_are_never_before_document_times() -> None:
    last = 1_000_000
    for t in (0, 500_000, 999_000, last):
        real_ms = compressed_instant_s(t, last, 20) * 1000
        assert real_ms >= t and real_ms <= last
    assert compressed_instant_s(last, last, 20) * 1000 == last

"""The reconciliation sweep against the simulator's details query (issue 11 item 9): incremental,
filtered to ended conversations of watched queues, newest first, never truncated at the 10,000-result
cap, resumable from a cursor in the state directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from genesys_fixtures import make_client, running_sim

from export.reconcile import SweepCursor, sweep
from simulator import analytics_query


def _history(sim, count: int, queue: str, first_ago_s: float, step_s: float) -> list:
    return [
        sim.inject_call(
            kind="inbound_simple", queue_name=queue, duration_s=30, ended_ago_s=first_ago_s - i * step_s
        )
        for i in range(count)
    ]


def _queries(sim) -> list:
    return [r for r in sim.requests if r.path == "/api/v2/analytics/conversations/details/query"]


def test_sweep_asks_only_for_ended_conversations_of_watched_queues_since_the_last_sweep() -> None:
    with running_sim(seed=101) as sim:
        client = make_client(sim)
        sales, support = sim.org.queue_by_name("Sales").id, sim.org.queue_by_name("Support").id
        old = _history(sim, 3, "Sales", 3 * 3600, 60)  # swept long ago
        recent = _history(sim, 4, "Sales", 900, 120)
        _history(sim, 3, "Support", 900, 120)  # not watched
        now = datetime.now(UTC)
        before = len(_queries(sim))
        result = sweep(client, [sales], now - timedelta(seconds=1200), 600, now=now)
        assert {cid for cid, _ in result.finished} == {c.conversation_id for c in recent}
        assert all(sales in queues for _, queues in result.finished)
        (request,) = _queries(sim)[before:]  # one query, one page
        body = request.json
        assert body["orderBy"] == "conversationEnd" and body["order"] == "desc"
        assert body["conversationFilters"][0]["predicates"] == [
            {"type": "dimension", "dimension": "conversationEnd", "operator": "exists"}
        ]
        assert [p["value"] for p in body["segmentFilters"][0]["predicates"]] == [sales]
        assert support not in str(body) and not {c.conversation_id for c in old} & {
            c for c, _ in result.finished
        }
        assert result.resume_from == result.window[1] == now - timedelta(seconds=60)


def test_sweep_never_drops_the_newest_at_the_result_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics_query, "MAX_RESULTS", 12)  # the simulator's 10,000, scaled down
    with running_sim(seed=102) as sim:
        client = make_client(sim)
        sales = sim.org.queue_by_name("Sales").id
        calls = _history(sim, 30, "Sales", 1800, 50)  # ends 1800 s ago .. 350 s ago
        now = datetime.now(UTC)
        result = sweep(
            client, [sales], now - timedelta(seconds=3600), 600, now=now, page_size=4, max_results=12
        )
        assert {cid for cid, _ in result.finished} == {c.conversation_id for c in calls}  # nothing cut off
        newest = max(calls, key=lambda c: c.end_ms)
        assert newest.conversation_id in {cid for cid, _ in result.finished}
        assert result.queries > 3  # the interval was split instead of truncated


def test_an_unwrapped_conversation_holds_the_cursor_back_until_it_is_wrapped_up() -> None:
    with running_sim(seed=103) as sim:
        client = make_client(sim)
        sales = sim.org.queue_by_name("Sales").id
        call = _history(sim, 1, "Sales", 300, 0)[0]
        details = client.get_conversation_details(call.conversation_id)
        end = datetime.fromisoformat(details["conversationEnd"].replace("Z", "+00:00"))
        wrapped = any(
            s["segmentType"] == "wrapup"
            for p in details["participants"]
            if p["purpose"] == "agent"
            for sess in p["sessions"]
            for s in sess["segments"]
        )
        now = datetime.now(UTC)
        if wrapped:  # strip the agent's wrap-up from what analytics knows: ACW still going on
            live = sim.live(call.conversation_id)
            for p in live.details_cache["participants"]:
                for sess in p["sessions"]:
                    sess["segments"] = [s for s in sess["segments"] if s["segmentType"] != "wrapup"]
        result = sweep(client, [sales], now - timedelta(seconds=900), 3600, now=now)
        assert result.finished == [] and result.resume_from <= end  # looked at again next time
        later = sweep(client, [sales], result.resume_from, 60, now=now)  # the wrap-up wait ran out
        assert [cid for cid, _ in later.finished] == [call.conversation_id]


def test_the_cursor_survives_a_restart_and_covers_the_whole_gap(tmp_path) -> None:
    cursor = SweepCursor(tmp_path / "state" / "reconcile.json", overlap_s=120, max_gap_s=86_400)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert cursor.next_since(now, lookback_s=3600) == now - timedelta(seconds=3600)  # first start
    cursor.save(now - timedelta(minutes=1))
    restarted = SweepCursor(tmp_path / "state" / "reconcile.json", overlap_s=120, max_gap_s=86_400)
    three_hours_later = now + timedelta(hours=3)
    assert restarted.next_since(three_hours_later, lookback_s=60) == now - timedelta(minutes=3)
    assert restarted.next_since(now + timedelta(days=9), lookback_s=60) == now + timedelta(days=8)  # bounded
    (tmp_path / "state" / "reconcile.json").write_text("{broken")
    assert restarted.next_since(now, lookback_s=600) == now - timedelta(seconds=600)


def test_details_query_limits_as_genesys_documents_them() -> None:
    with running_sim(seed=104) as sim:
        client = make_client(sim)
        from genesys.errors import BadRequest

        now = datetime.now(UTC)
        body = {
            "interval": f"{(now - timedelta(days=8)).strftime('%Y-%m-%dT%H:%M:%S.000Z')}/{now.strftime('%Y-%m-%dT%H:%M:%S.000Z')}",
            "paging": {"pageSize": 10, "pageNumber": 1},
        }
        with pytest.raises(BadRequest, match="7 days"):
            client.query_conversation_details(body)

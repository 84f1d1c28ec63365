"""`run.py backfill`, the thread-free parts: decisions (scope, exactly once), outcomes, the run's state,
the estimate, the progress rate and the ledger's claim / release of backfill jobs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from actors.backfill_supervisor import WAITING_REASON, far_future
from backfill.plan import (
    SKIP_EXPORTED,
    SKIP_OUT_OF_SCOPE,
    Counts,
    RunState,
    StateFile,
    context_for,
    decide,
    estimate,
    outcome_of,
    requests_per_call,
    run_key,
    skip_label,
)
from backfill.progress import Rate, summary
from ledger import Ledger

SALES, SUPPORT = "q-sales", "q-support"


def doc(
    cid: str, queue: str, *, attributes: dict[str, str] | None = None, agent: bool = True
) -> dict[str, Any]:
    participants: list[dict[str, Any]] = [
        {
            "participantId": f"{cid}-c",
            "purpose": "customer",
            "sessions": [{"sessionId": f"{cid}-s1", "mediaType": "voice", "segments": []}],
        },
        {
            "participantId": f"{cid}-acd",
            "purpose": "acd",
            "sessions": [
                {
                    "sessionId": f"{cid}-s2",
                    "mediaType": "voice",
                    "segments": [{"queueId": queue, "segmentType": "interact"}],
                }
            ],
        },
    ]
    if agent:
        participants.append(
            {
                "participantId": f"{cid}-a",
                "purpose": "agent",
                "userId": "u1",
                "sessions": [
                    {
                        "sessionId": f"{cid}-s3",
                        "mediaType": "voice",
                        "segments": [{"queueId": queue, "segmentType": "interact"}],
                    }
                ],
            }
        )
    if attributes is not None:
        participants[0]["attributes"] = attributes
    return {
        "conversationId": cid,
        "conversationStart": "2026-11-01T10:00:00.000Z",
        "conversationEnd": "2026-11-01T10:03:00.000Z",
        "participants": participants,
    }


def snapshot(*profiles: tuple[str, list[str]]) -> Any:
    """A configuration snapshot as `profiles.scoping.snapshot_profiles` reads it."""
    from profiles.loader import load_config

    document = {
        "Profiles": [
            {
                "Name": name,
                "Active": True,
                "DestinationRoot": "/tmp/x",
                "Queues": queues,
                "AudioFormat": "WAV",
                "TranscriptExportEnabled": False,
            }
            for name, queues in profiles
        ]
    }
    result = load_config(document)
    assert not result.errors, result.errors
    return SimpleNamespace(
        config=result.config,
        queue_names={SALES: "Sales", SUPPORT: "Support"},
        policy_queue_ids={},
        queue_ids_by_name={"sales": SALES, "support": SUPPORT},
    )


class Statuses:
    def __init__(self, rows: dict[str, dict[tuple[str, str], tuple[str, str]]] | None = None) -> None:
        self.rows = rows or {}

    def profile_statuses(self, conversation_id: str) -> dict[tuple[str, str], tuple[str, str]]:
        return self.rows.get(conversation_id, {})


@pytest.fixture
def snap() -> Any:
    return snapshot(("Voice", ["Sales"]), ("Care", ["Support"]))


def test_a_call_no_selected_profile_takes_is_out_of_scope(snap: Any) -> None:
    d = decide(doc("c1", SUPPORT), snap, ["Voice"], set(), Statuses())
    assert d.skip == SKIP_OUT_OF_SCOPE
    d = decide(doc("c1", SALES), snap, ["Voice"], {SUPPORT}, Statuses())
    assert d.skip == SKIP_OUT_OF_SCOPE and "queues" in d.detail


def test_a_call_in_scope_is_exported_for_its_profiles_only(snap: Any) -> None:
    d = decide(doc("c1", SALES), snap, ["Voice", "Care"], set(), Statuses())
    assert d.export and d.profiles == ("Voice",)


def test_what_the_ledger_or_the_written_back_status_says_is_exported_is_skipped(snap: Any) -> None:
    ledger = Statuses({"c1": {("Voice", "audio"): ("exported", "")}})
    assert decide(doc("c1", SALES), snap, ["Voice"], set(), ledger).skip == SKIP_EXPORTED
    written = doc("c2", SALES, attributes={"callexport.Voice.audio.status": "exported"})
    assert decide(written, snap, ["Voice"], set(), Statuses()).skip == SKIP_EXPORTED
    # another status than exported (a failure written back) is exported again
    failed = doc("c3", SALES, attributes={"callexport.Voice.audio.status": "failed"})
    assert decide(failed, snap, ["Voice"], set(), Statuses()).export


def test_the_context_carries_the_written_back_attributes_so_the_export_reads_nothing_again() -> None:
    context = context_for(doc("c1", SALES, attributes={"callexport.Voice.audio.status": "exported"}), {})
    customer = next(p for p in context["conversation"]["participants"] if p["purpose"] == "customer")
    assert customer["attributes"] == {"callexport.Voice.audio.status": "exported"}
    assert context["details"]["conversationId"] == "c1" and context["recordings"] == []


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({("Voice", "audio"): ("exported", "")}, "exported"),
        (
            {("Voice", "audio"): ("failed", "recording r1: archived on 2026-01-01 (archive): restore it")},
            "skipped",
        ),
        (
            {("Voice", "audio"): ("failed", "recording r1: deleted on 2026-01-01 by a retention policy")},
            "skipped",
        ),
        ({("Voice", "audio"): ("skipped", "analytics says no audio recording was started")}, "skipped"),
        ({("Voice", "audio"): ("failed", "the share is not writable")}, "failed"),
        ({}, "failed"),
    ],
)
def test_outcomes_name_archived_and_deleted_recordings_with_what_to_do(
    statuses: dict[tuple[str, str], tuple[str, str]], expected: str
) -> None:
    outcome, reason = outcome_of(statuses, ("Voice",), None)
    assert outcome == expected
    if "archived" in str(statuses):
        assert skip_label(reason) == "recording archived" and "restore" in reason
    if "deleted" in str(statuses):
        assert skip_label(reason) == "recording deleted"
    if "no audio recording" in str(statuses):
        assert skip_label(reason) == "not recorded"


def test_the_run_state_round_trips_and_counts(tmp_path: Any) -> None:
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)
    key = run_key(start, end, ["Voice"], [])
    assert key == run_key(start, end, ["voice"], []) and key != run_key(start, end, ["Care"], [])
    state = RunState(key, {"from": start.isoformat()})
    state.skips = {"a": "out of scope: x", "b": "already exported: y"}
    state.tracked = {"c": ["Voice"], "d": ["Voice"], "e": ["Voice"]}
    state.outcomes = {"c": ["exported", ""], "d": ["skipped", "recording archived: restore it"]}
    file = StateFile(tmp_path / "backfill" / f"{key}.json")
    file.save(state)
    again = file.load()
    assert again is not None and again.to_json() == state.to_json()
    counts = again.counts()
    assert (counts.found, counts.in_scope, counts.exported, counts.failed) == (5, 4, 1, 0)
    assert counts.skipped == {"out of scope": 1, "already exported": 1, "recording archived": 1}
    assert again.unfinished() == ["e"]
    assert "exported 1" in summary(counts)
    (tmp_path / "broken.json").write_text("{not json")
    assert StateFile(tmp_path / "broken.json").load() is None


def test_the_estimate_counts_requests_time_and_storage() -> None:
    per_call = requests_per_call(full_writeback=False, needs_conversation=False, transcripts=False)
    assert per_call == 2
    profile = SimpleNamespace(audio_format="WAV")
    guess = estimate(
        [(doc("c1", SALES), [profile])] * 10, per_call=per_call, discovery_requests=5, per_minute=150
    )
    assert guess.requests == 35 and guess.minutes == pytest.approx(35 / 150)
    assert guess.bytes == 10 * 180 * 32_000


def test_the_rate_and_eta_come_from_finished_exports() -> None:
    rate = Rate()
    assert rate.per_minute() is None
    rate.add(0.0, 0)
    rate.add(30.0, 10)
    assert rate.per_minute() == pytest.approx(20.0)
    assert rate.eta_s(20) == pytest.approx(60.0)
    assert Counts().skipped_total == 0


def test_the_ledger_hands_backfill_jobs_to_one_claimer_and_takes_them_back(ledger_location: Any) -> None:
    ledger = Ledger(ledger_location)
    other = Ledger(ledger_location)  # a second process on the same ledger
    try:
        for cid in ("b1", "b2", "b3"):
            assert ledger.add_job(cid, (), 1.0, "parked", source="backfill", priority=5)
            ledger.park(cid, far_future(), WAITING_REASON)
        ledger.add_job("live1", (), 1.0, "parked")
        ledger.park("live1", time.time() - 1, "transcript")
        # the service's due() never sees backfill jobs waiting for their turn
        assert ledger.due(time.time()) == ["live1"]
        first = ledger.claim_due("backfill", time.time(), 2, reason=WAITING_REASON)
        second = other.claim_due("backfill", time.time(), 5, reason=WAITING_REASON)
        assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
        assert other.claim_due("backfill", time.time(), 5, reason=WAITING_REASON) == []
        ledger.start(first[0])
        # a stale release only takes what was not touched lately; a clean one takes all it is given
        assert ledger.release(first, far_future(), WAITING_REASON, stale_before=time.time() - 60) == []
        assert sorted(ledger.release(first, far_future(), WAITING_REASON)) == sorted(first)
        assert {j.conversation_id for j in ledger.source_jobs("backfill", "parked")} == set(first)
        states = ledger.states(["b1", "b2", "b3", "nope"])
        assert set(states) == {"b1", "b2", "b3"}
    finally:
        ledger.close()
        other.close()


def test_the_progress_bar_draws_counts_on_a_terminal_and_logs_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import io
    import logging

    from backfill.progress import Progress

    counts = Counts(found=10, in_scope=8, exported=3, failed=1)
    counts.skipped["recording archived"] = 2
    stream = io.StringIO()
    with Progress(stream=stream, force_bar=True) as bar:
        bar.update(counts, discovering=False)
    drawn = stream.getvalue()
    assert "exported 3" in drawn and "recording archived 2" in drawn and "failed 1" in drawn
    quiet = io.StringIO()  # not a terminal: no bar, log lines
    with caplog.at_level(logging.INFO, logger="backfill.progress"), Progress(stream=quiet) as log:
        log.update(counts, discovering=True)
    assert quiet.getvalue() == ""
    assert "found 10+, in scope 8, exported 3, skipped 2 (recording archived 2), failed 1" in caplog.text


def test_a_refused_long_server_side_wait_falls_back_to_the_documented_default(tmp_path: Any) -> None:
    from export.steps import BACKFILL_MAX_WAIT_MS, MAX_WAIT_MS, ConversationData, advance_recordings
    from genesys.errors import BadRequest

    class Client:
        def __init__(self) -> None:
            self.waits: list[int] = []

        def get_recordings(self, conversation_id: str, format_id: str, *, max_wait_ms: int) -> Any:
            self.waits.append(max_wait_ms)
            if max_wait_ms > MAX_WAIT_MS:
                raise BadRequest("recordings", 400, message="maxWaitMs out of range")
            return []

    client = Client()
    data = ConversationData("c1", doc("c1", SALES), {"participants": []}, ())
    progress = advance_recordings(
        client, data, "WAV", {}, tmp_path, no_recording_grace_s=60.0, max_wait_ms=BACKFILL_MAX_WAIT_MS
    )
    assert progress.waiting_s is not None and progress.state["max_wait_ms"] == MAX_WAIT_MS
    assert client.waits == [BACKFILL_MAX_WAIT_MS]


def test_finished_jobs_of_a_source_since_a_moment(ledger_location: Any) -> None:
    ledger = Ledger(ledger_location)
    try:
        ledger.add_job("b1", (), 1.0, source="backfill", priority=5)
        ledger.add_job("l1", (), 1.0)
        before = time.time()
        ledger.set_state("b1", "done")
        ledger.set_state("l1", "done")
        assert [j.conversation_id for j in ledger.finished_jobs("backfill", before - 1)] == ["b1"]
        assert ledger.finished_jobs("backfill", time.time() + 1) == []
    finally:
        ledger.close()


def test_a_backfill_hands_back_only_what_it_claimed_never_what_another_instance_runs(
    ledger_location: Any,
) -> None:
    from actors.backfill_supervisor import release_own

    ledger = Ledger(ledger_location)
    me = "host1~4242"  # a backfill process (service.cli.transient_membership)
    try:
        for cid in ("b1", "b2", "b3"):
            ledger.add_job(cid, (), 1.0, "parked", source="backfill", priority=5)
            ledger.park(cid, far_future(), WAITING_REASON)
        claimed = ledger.claim_due("backfill", time.time(), 3, reason=WAITING_REASON, owner=me)
        assert sorted(claimed) == ["b1", "b2", "b3"]
        assert ledger.start("b1", owner=me) is not None  # runs here
        assert ledger.start("b2", owner="host1") is not None  # a service instance took it
        assert ledger.start("b2", owner=me) is None  # ... and holds it
        assert sorted(release_own(ledger, me)) == ["b1", "b3"]
        assert ledger.job("b2").state == "running"
        again = ledger.claim_due("backfill", time.time(), 3, reason=WAITING_REASON, owner=me)
        assert sorted(again) == ["b1", "b3"]  # the next run resumes them
    finally:
        ledger.close()

"""`run.py report`: the reconciliation report against the simulator's history, after the real service
exported some of it. Its counts must match the simulator's truth for every day and profile."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser_fixture, page_fixture  # noqa: F401
from service_harness import Harness, document, profile

from messages.intake import ExportRequested
from report import cli
from report.collect import OUTCOMES
from simulator.app import Simulator

ROOT = Path(__file__).resolve().parent.parent
KINDS = [
    "inbound_simple",
    "no_recording",
    "consult_transfer",
    "blind_transfer",
    "abandoned",
    "ivr_only",
    "outbound",
]
WATCHED = {"Sales", "Support", "Claims"}
PROFILE_QUEUES = {"Voice": {"Sales", "Support"}, "Claims": {"Claims"}}


def midnight(days_back: int) -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)


def write_settings(sim: Simulator, root: Path) -> Path:
    settings = root / "callexport.toml"
    settings.write_text(
        f'[genesys]\napi_url = "{sim.api_url}"\n'
        f'[service]\nstate_dir = "{(root / "state").as_posix()}"\nlog_dir = "{(root / "logs").as_posix()}"\n'
    )
    return settings


def run_report(settings: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.main(parser.parse_args([*argv, "--settings", str(settings)]))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("report")
    doc = document(
        profile(
            "Voice",
            root / "voice",
            Queues=["Sales", "Support"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
        ),
        profile(
            "Claims",
            root / "claims",
            Queues=["Claims"],
            RequireAgentParticipant=True,
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
        ),
    )
    env = {"CALLEXPORT_CLIENT_ID": None, "CALLEXPORT_CLIENT_SECRET": None}
    with Simulator(seed=41, config_document=doc, details_delay_s=0.1, recording_delay_s=0.1) as sim:
        sim.history.add(3, 16, kinds=KINDS, duration_s=12.0)
        sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.05, 0.1
        # the data lake has settled yesterday only up to noon: the rest comes from the live query
        sim.bulk.availability_lag_s = (
            datetime.now(UTC) - (midnight(1) + timedelta(hours=12))
        ).total_seconds()
        truths = {t.conversation_id: t for calls in sim.history.truth_by_day().values() for t in calls}

        def in_scope(t: Any, name: str) -> bool:
            return bool(set(t.queue_names) & PROFILE_QUEUES[name]) and (name != "Claims" or t.has_agent)

        available = [t for t in truths.values() if t.recording_state == "AVAILABLE" and t.kind != "abandoned"]
        to_export = [t for t in available if in_scope(t, "Voice")][:3]
        to_export += [t for t in available if in_scope(t, "Claims") and t not in to_export][:1]
        to_export += [t for t in truths.values() if not t.recorded and in_scope(t, "Voice")][:1]
        harness = Harness(sim, root, no_recording_after_s=1.0)
        harness.start()
        try:
            for t in to_export:
                harness.deps.ledger.add_job(t.conversation_id, (), 0.0)
                harness.deps.directory.tell("exports", ExportRequested(t.conversation_id))
            states = harness.wait_done([t.conversation_id for t in to_export], 120)
            assert set(states.values()) == {"done"}, states
        finally:
            harness.stop()
        ledger = harness.deps.ledger
        # another instance (whose state directory is lost) exported one more: only Genesys knows
        other = next(t for t in available if in_scope(t, "Voice") and t not in to_export)
        conv = sim.book.get(other.conversation_id)
        customer = conv.call.customer().participant_id
        sim.book.set_attributes(
            other.conversation_id,
            customer,
            {"callexport.Voice.audio.status": "exported", "callexport.Voice.audio.files": "elsewhere.wav"},
        )
        # the ledger knows of a failure and of a call still waiting
        failed, parked = [
            t for t in available if in_scope(t, "Voice") and t not in to_export and t is not other
        ][:2]
        ledger.add_job(failed.conversation_id, (), 0.0)
        ledger.set_profile_status(
            failed.conversation_id, "Voice", "audio", "failed", "the share is not writable"
        )
        ledger.set_state(failed.conversation_id, "failed", "Voice: the share is not writable")
        ledger.add_job(parked.conversation_id, (), 0.0)
        ledger.park(
            parked.conversation_id, datetime.now(UTC).timestamp() + 600, "recordings not available yet"
        )
        exported = {
            ("Voice", t.conversation_id) for t in to_export if t.recorded and in_scope(t, "Voice")
        } | {("Claims", t.conversation_id) for t in to_export if t.recorded and in_scope(t, "Claims")}
        exported.add(("Voice", other.conversation_id))

        def expected(t: Any, name: str) -> str:
            if not in_scope(t, name):
                return "out of scope"
            if (name, t.conversation_id) in exported:
                return "exported"
            if t.conversation_id == failed.conversation_id and name == "Voice":
                return "failed"
            if t.conversation_id == parked.conversation_id and name == "Voice":
                return "pending"
            if not t.recorded:
                return "not recorded"
            if t.recording_state in ("ARCHIVED", "DELETED"):
                return "recording unavailable"
            return "not exported"

        settings = write_settings(sim, root)
        old_env = {k: os.environ.get(k) for k in env}
        os.environ["CALLEXPORT_CLIENT_ID"], os.environ["CALLEXPORT_CLIENT_SECRET"] = (
            sim.client_id,
            sim.client_secret,
        )
        try:
            first, last = midnight(3).date().isoformat(), midnight(1).date().isoformat()
            outputs = {}
            for ext in ("json", "csv", "html"):
                target = root / f"report.{ext}"
                assert run_report(settings, "--from", first, "--to", last, "-o", str(target)) == 0
                outputs[ext] = target
            yield {
                "sim": sim,
                "root": root,
                "settings": settings,
                "truths": truths,
                "expected": expected,
                "outputs": outputs,
                "failed": failed,
                "parked": parked,
                "other": other,
            }
        finally:
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def test_report_counts_match_the_simulators_truth(world: Any) -> None:
    data = json.loads(world["outputs"]["json"].read_text())
    truths = world["truths"]
    expected = world["expected"]
    found = {cid: t for cid, t in truths.items() if set(t.queue_names) & WATCHED}
    assert {c["conversation_id"] for c in data["conversations"]} == set(found)
    by_day: dict[str, dict[str, Counter[str]]] = {}
    found_per_day: Counter[str] = Counter()
    for t in found.values():
        found_per_day[t.day.isoformat()] += 1
        for name in PROFILE_QUEUES:
            by_day.setdefault(t.day.isoformat(), {}).setdefault(name, Counter())[expected(t, name)] += 1
    assert set(data["totals"]["by_day"]) == {midnight(d).date().isoformat() for d in (3, 2, 1)}
    for day, totals in data["totals"]["by_day"].items():
        assert totals["found"] == found_per_day[day], day
        for name in PROFILE_QUEUES:
            want = {o: by_day[day][name].get(o, 0) for o in OUTCOMES}
            assert totals["profiles"][name] == want, (day, name)
    for name in PROFILE_QUEUES:
        total = Counter()
        for t in found.values():
            total[expected(t, name)] += 1
        assert data["totals"]["by_profile"][name] == {o: total.get(o, 0) for o in OUTCOMES}
    outcomes = {(c["conversation_id"], p["profile"]): p for c in data["conversations"] for p in c["profiles"]}
    for cid, t in found.items():
        for name in PROFILE_QUEUES:
            assert outcomes[(cid, name)]["outcome"] == expected(t, name), (cid, name, t)
    # every kind of "nothing exported" is there, with a reason a person can act on
    seen = {p["outcome"] for p in outcomes.values()}
    assert {"exported", "not recorded", "recording unavailable", "failed", "pending", "not exported"} <= seen
    assert "the share is not writable" in outcomes[(world["failed"].conversation_id, "Voice")]["reason"]
    other = outcomes[(world["other"].conversation_id, "Voice")]
    assert other["status_source"] == "Genesys Cloud" and other["files"] == ["elsewhere.wav"]
    exported_here = [
        p for p in outcomes.values() if p["outcome"] == "exported" and p["status_source"] == "ledger"
    ]
    assert exported_here and all(p["files"] and p["status_written_back"] == "exported" for p in exported_here)
    assert all(p["reason"] for p in outcomes.values() if p["outcome"] != "exported")


def test_csv_has_one_row_per_conversation_and_profile(world: Any) -> None:
    data = json.loads(world["outputs"]["json"].read_text())
    rows = list(csv.DictReader(io.StringIO(world["outputs"]["csv"].read_text(encoding="utf-8"))))
    assert len(rows) == len(data["conversations"]) * 2
    assert {r["profile"] for r in rows} == {"Voice", "Claims"}
    assert Counter(r["outcome"] for r in rows if r["profile"] == "Voice") == Counter(
        {k: v for k, v in data["totals"]["by_profile"]["Voice"].items() if v}
    )


def test_html_report_opens_offline_in_chromium(world: Any, page: Any, tmp_path: Path) -> None:
    data = json.loads(world["outputs"]["json"].read_text())
    requests_made: list[str] = []

    def block(route: Any) -> None:
        if not route.request.url.startswith("file://"):
            requests_made.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    page.goto(world["outputs"]["html"].as_uri())
    assert page.title().startswith("Call export report")
    assert requests_made == []  # one self-contained file: nothing is fetched
    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)  # docs/report.png is one of these
    assert (tmp_path / "report.png").stat().st_size > 10_000
    for day, totals in data["totals"]["by_day"].items():
        bar = page.locator(f'rect.bar[data-series="found"][data-day="{day}"]')
        assert bar.get_attribute("data-value") == str(totals["found"])
        assert float(bar.get_attribute("height")) > 0 or totals["found"] == 0
        for name in PROFILE_QUEUES:
            exported = page.locator(f'rect.bar[data-series="{name}"][data-day="{day}"]')
            assert exported.get_attribute("data-value") == str(totals["profiles"][name]["exported"])
    missing = sum(
        v
        for p in data["totals"]["by_profile"].values()
        for k, v in p.items()
        if k not in ("exported", "out of scope")
    )
    assert page.locator("#exception-table tbody tr").count() == missing
    failed = world["failed"].conversation_id
    page.fill("#exceptions input[type=search]", failed)
    visible = page.locator("#exception-table tbody tr:visible")
    assert visible.count() == 1 and "share is not writable" in visible.inner_text()
    page.fill("#exceptions input[type=search]", "")
    assert (page.locator("svg title").first.text_content() or "").startswith("Calls found")


# -- bad input: a clear message, exit code 2, nothing started --------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-03-10", "--to", "2026-03-01"], "reversed"),
        (["--from", "2999-01-01", "--to", "2999-01-02"], "future"),
        (["--from", "2010-01-01", "--to", "2010-01-02"], "retention"),
        (["--from", "yesterday", "--to", "2026-01-01"], "not a date"),
        (["--from", "TODAY", "--to", "TODAY", "--profile", "Nope"], "unknown profile"),
        (["--from", "TODAY", "--to", "TODAY", "--queue", "Nowhere"], "unknown queue"),
        (["--from", "TODAY", "--to", "TODAY", "-o", "report.pdf"], ".csv, .json or .html"),
    ],
)
def test_bad_input_is_refused_before_anything_starts(
    world: Any, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = world["sim"]
    today = datetime.now(UTC).date().isoformat()
    before = len([r for r in sim.requests if "/analytics/" in r.path])
    code = run_report(world["settings"], *[today if a == "TODAY" else a for a in args])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert len([r for r in sim.requests if "/analytics/" in r.path]) == before


def test_run_py_report_prints_a_summary(world: Any) -> None:
    env = {
        **os.environ,
        "CALLEXPORT_CLIENT_ID": world["sim"].client_id,
        "CALLEXPORT_CLIENT_SECRET": world["sim"].client_secret,
    }
    day = date.fromisoformat(midnight(1).date().isoformat())
    result = subprocess.run(
        [
            sys.executable,
            "run.py",
            "report",
            "--from",
            str(day),
            "--to",
            str(day),
            "--profile",
            "Voice",
            "--settings",
            str(world["settings"]),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Voice" in result.stdout and "Claims" not in result.stdout and str(day) in result.stdout
    bad = subprocess.run(
        [
            sys.executable,
            "run.py",
            "report",
            "--from",
            "2999-01-01",
            "--to",
            "2999-01-01",
            "--settings",
            str(world["settings"]),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "future" in bad.stderr and "Traceback" not in bad.stderr

"""Retention-policy scope: a policy's call conditions, as Genesys Cloud defines them, decide the same way
in the service (configuration snapshot + `profiles.scoping`) and in `run.py profiles check`.

The simulated org carries policies with several condition kinds (queues, directions, wrap-up codes, a
date range, Oslo business hours, a minimum duration, users, languages), a disabled one and one without
a queue condition; the simulator decides on the call's truth which apply (`simulator.policies`), and the
client must agree from the documents alone.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import random
import subprocess
import sys

import pytest
from genesys_fixtures import make_client, running_sim

from export import config_loader
from profiles import load_config
from profiles.policies import CallFacts, evaluate, parse_policies, parse_policy
from profiles.scoping import snapshot_profiles
from service.settings import Settings
from simulator import documents
from simulator import policies as truth
from simulator.org import RetentionPolicy, default_org
from simulator.scenarios import generate_call

REPO = pathlib.Path(__file__).resolve().parent.parent
START_MS = 1_780_000_000_000  # 2026-05-28, a Thursday
KINDS = (
    "inbound_simple",
    "outbound",
    "blind_transfer",
    "inbound_hold",
    "abandoned",
    "ivr_only",
    "conference",
)


def _profile(name: str, policies: list[str], root: pathlib.Path) -> dict:
    return {"Name": name, "Queues": [], "RetentionPolicies": policies, "DestinationRoot": str(root)}


@pytest.fixture(scope="module")
def org():
    return default_org(5)


@pytest.fixture(scope="module")
def calls(org):
    """Calls of many kinds, starting at every hour of a week (Oslo business hours and not)."""
    out = []
    for i in range(28):
        kind = KINDS[i % len(KINDS)]
        rng = random.Random(f"policy-{i}")
        queue = "Sales" if kind == "outbound" else None
        end = START_MS + i * (6 * 3_600_000 + 17 * 60_000)
        out.append(
            generate_call(
                org, rng, end_ms=end, kind=kind, queue_name=queue, duration_s=rng.choice([20, 45, 90])
            )
        )
    return out


def test_simulated_policies_have_every_kind_of_condition_and_round_trip(org):
    docs = [documents.retention_policy(p, org) for p in org.policies]
    conditions = [d["mediaPolicies"]["callPolicy"]["conditions"] for d in docs]
    kinds = {key for c in conditions for key in c}
    assert {
        "forQueues",
        "directions",
        "wrapupCodes",
        "dateRanges",
        "timeAllowed",
        "duration",
        "forUsers",
        "languages",
    } <= kinds
    assert any("forQueues" not in c for c in conditions)  # applies in every queue
    assert any(d["enabled"] is False for d in docs)
    parsed = parse_policies(docs)
    assert set(parsed) == {p.name for p in org.policies}
    assert all(not p.conditions.unreadable for found in parsed.values() for p in found)


def test_client_decides_each_policy_as_the_platform_does(org, calls):
    """For every call and policy, the client's verdict from the documents equals the simulator's truth."""
    parsed = {
        name: found[0]
        for name, found in parse_policies(documents.retention_policy(p, org) for p in org.policies).items()
    }
    selected: dict[str, int] = {p.name: 0 for p in org.policies}
    for call in calls:
        details = json.loads(json.dumps(documents.analytics_details(call, org)))
        facts = CallFacts.of(details)
        for policy in org.policies:
            verdict = evaluate(parsed[policy.name], facts)
            assert verdict.selected == truth.applies(policy, call), (policy.name, call.kind, verdict)
            assert not verdict.assumed
            selected[policy.name] += verdict.selected
    assert selected["Norwegian VIP desk (retired)"] == 0  # disabled: never
    assert 0 < selected["Business hours quality"] < len(calls)  # time of day, time zone and duration decide


def test_policy_conditions_as_the_sdk_models_them():
    base = {"id": "p", "name": "P", "enabled": True}
    details = {
        "conversationId": "c",
        "conversationStart": "2026-05-29T22:30:00.000Z",  # Saturday 00:30 in Oslo
        "conversationEnd": "2026-05-29T22:31:00.000Z",
        "originatingDirection": "inbound",
        "participants": [
            {"purpose": "customer", "sessions": [{"direction": "inbound", "segments": []}]},
            {
                "purpose": "agent",
                "userId": "u1",
                "teamId": "t1",
                "sessions": [{"segments": [{"queueId": "q1", "wrapUpCode": "w1"}]}],
            },
        ],
    }

    def verdict(conditions, **policy):
        return evaluate(
            parse_policy({**base, **policy, "mediaPolicies": {"callPolicy": {"conditions": conditions}}}),
            details,
        )

    assert verdict({}).selected  # no condition: every call
    assert not verdict({}, enabled=False).selected
    assert verdict({"forQueues": [{"id": "q1"}], "teams": [{"id": "t1"}], "directions": ["INBOUND"]}).selected
    assert not verdict({"forUsers": [{"id": "u2"}]}).selected
    overnight = {
        "timeZoneId": "Europe/Oslo",
        "timeSlots": [{"day": 5, "startTime": "22:00:00.000", "stopTime": "02:00:00.000"}],
    }
    assert verdict({"timeAllowed": overnight}).selected  # Friday 22:00 to Saturday 02:00
    early = {
        "timeZoneId": "Europe/Oslo",
        "timeSlots": [{"day": 6, "startTime": "00:00:00.000", "stopTime": "01:00:00.000"}],
    }
    assert verdict({"timeAllowed": early}).selected  # Saturday 00:30 in Oslo...
    assert not verdict({"timeAllowed": {**early, "timeZoneId": "UTC"}}).selected  # ...is Friday 22:30 UTC
    assert verdict({"duration": {"durationMode": "Between", "durationRange": "PT30S/PT2M"}}).selected
    assert not verdict({"duration": {"durationMode": "Under", "durationRange": "PT30S"}}).selected
    odd = verdict({"duration": {"durationMode": "Over", "durationRange": "30000"}})  # format not documented
    assert odd.selected and odd.assumed  # taken as holding, and said so
    assert not verdict({"dateRanges": ["2026-06-01T00:00:00.000Z/2026-07-01T00:00:00.000Z"]}).selected
    # a policy whose media policies have no call part selects no call; legacy top-level conditions count
    assert not evaluate(
        parse_policy({**base, "mediaPolicies": {"chatPolicy": {"conditions": {}}}}), details
    ).selected
    legacy = {
        **base,
        "conditions": {"mediaTypes": ["CALL"], "customerParticipation": "YES", "forQueues": [{"id": "q1"}]},
    }
    assert evaluate(parse_policy(legacy), details).selected
    assert not evaluate(parse_policy({**legacy, "conditions": {"mediaTypes": ["EMAIL"]}}), details).selected


def _config(tmp_path: pathlib.Path) -> str:
    return json.dumps(
        {
            "Profiles": [
                _profile("Business hours", ["Business hours quality"], tmp_path / "a"),
                _profile("Retired desk", ["Norwegian VIP desk (retired)"], tmp_path / "b"),
                _profile("Wins", ["Outbound sales wins"], tmp_path / "c"),
                _profile("Sales support", ["sales and support 90 days"], tmp_path / "d"),
                _profile("Typo", ["Sales and Suport 90 days"], tmp_path / "e"),
            ]
        }
    )


def test_service_snapshot_watches_every_queue_and_scopes_like_the_preview(tmp_path, org):
    """Through the service's code (configuration snapshot over HTTP, details over HTTP) and through
    `run.py profiles check` with the same documents: the same profiles, and the platform's answer."""
    with running_sim(seed=5, org=org) as sim:
        client = make_client(sim)
        document = _config(tmp_path)
        snapshot = config_loader.build_snapshot(client, Settings(), document, version=1)
        every = {q.id for q in org.queues}
        assert set(snapshot.queue_ids.values()) == every  # the policy without a queue condition
        assert snapshot.system_queue_id not in snapshot.queue_ids.values()
        assert snapshot.policy_queue_ids["Norwegian VIP desk (retired)"] == frozenset()
        assert any("Norwegian VIP desk (retired)" in e and "disabled" in e for e in snapshot.errors)
        assert any("Sales and Suport 90 days" in e and "does not exist" in e for e in snapshot.errors)
        assert set(snapshot.retention_policies) == {
            "Business hours quality",
            "Norwegian VIP desk (retired)",
            "Outbound sales wins",
            "Sales and Support 90 days",
        }
        injected = [
            sim.inject_call(kind=k, queue_name=q, duration_s=d, ended_ago_s=60)
            for k, q, d in (
                ("inbound_simple", "Claims", 50),
                ("outbound", "Sales", 40),
                ("inbound_hold", "Support", 25),
            )
        ]
        (tmp_path / "config.json").write_text(document)
        policies_doc = {"entities": client.list_retention_policies()}
        (tmp_path / "policies.json").write_text(json.dumps(policies_doc))
        (tmp_path / "names.json").write_text(json.dumps({"queues": snapshot.queue_names}))
        by_name = {p.name: p for p in org.policies}
        for call in injected:
            details = client.get_conversation_details(call.conversation_id)
            got = {p.name for p in snapshot_profiles(snapshot, details)}
            want = {
                profile.name
                for profile in load_config(document).config.profiles
                if any(
                    truth.applies(by_name[n], call)
                    for n in (
                        x for x in by_name if x.lower() in {r.lower() for r in profile.retention_policies}
                    )
                )
            }
            assert got == want, (call.kind, got, want)
            assert "Retired desk" not in got
            (tmp_path / "details.json").write_text(json.dumps(details))
            res = subprocess.run(
                [sys.executable, str(REPO / "run.py"), "profiles", "check", str(tmp_path / "config.json")]
                + [
                    "--conversation",
                    str(tmp_path / "details.json"),
                    "--policies",
                    str(tmp_path / "policies.json"),
                ]
                + ["--names", str(tmp_path / "names.json")],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=REPO,
            )
            shown = {line.split(":")[0] for line in res.stdout.splitlines() if line.endswith(": in scope")}
            assert shown == got, res.stdout
            assert (
                "retention policy 'Norwegian VIP desk (retired)' does not select it: the policy is disabled"
                in res.stdout
            )


def test_the_service_exports_by_a_policy_without_queue_condition_and_never_by_a_disabled_one(tmp_path):
    """End to end: a policy without a queue condition makes the service watch every queue; a disabled
    policy exports nothing, though it names the queue."""
    from service_harness import Harness, document, profile

    base = default_org(9)
    claims = base.queue_by_name("Claims")
    org = dataclasses.replace(
        base,
        policies=(
            RetentionPolicy(
                id="0a0a0a0a-0000-4000-8000-000000000001",
                name="Every inbound call",
                queue_ids=(),
                delete_days=30,
                directions=("INBOUND",),
            ),
            RetentionPolicy(
                id="0a0a0a0a-0000-4000-8000-000000000002",
                name="Retired claims",
                queue_ids=(claims.id,),
                delete_days=1,
                enabled=False,
            ),
        ),
    )
    out = tmp_path / "out"
    doc = document(
        profile(
            "Everything",
            out / "all",
            Queues=[],
            RetentionPolicies=["Every inbound call"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
        ),
        profile(
            "Retired",
            out / "retired",
            Queues=[],
            RetentionPolicies=["Retired claims"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
        ),
    )
    from simulator.app import Simulator

    with Simulator(
        seed=9, org=org, config_document=doc, details_delay_s=0.2, recording_delay_s=0.2, event_speed=300.0
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Claims", duration_s=30)
            states = harness.wait_done([call.conversation_id])
            assert states[call.conversation_id] == "done", states
            assert harness.files_for(call.conversation_id, "Everything")
            assert harness.files_for(call.conversation_id, "Retired") == []
        finally:
            harness.stop()

"""Scoping: which profiles apply to a finished conversation, and what the service watches."""

from __future__ import annotations

import storage_fixtures as fx

from profiles import load_config
from profiles.scoping import (
    applicable_profiles,
    has_agent_participant,
    policy_queue_ids,
    touched_queue_ids,
    watched_policy_names,
    watched_queue_names,
)

POLICIES = policy_queue_ids([fx.POLICY])


def _config(*profiles: dict):
    result = load_config({"Profiles": list(profiles)})
    assert result.errors == []
    return result.config


def _names(config, details) -> list[str]:
    found = applicable_profiles(config, details, queue_names=fx.QUEUE_NAMES, policy_queue_ids=POLICIES)
    return [p.name for p in found]


def test_touched_queues_come_from_segments() -> None:
    assert touched_queue_ids(fx.details()) == {fx.QUEUE_ID}
    assert has_agent_participant(fx.details())


def test_scope_by_queue_name_case_insensitive() -> None:
    config = _config(
        fx.profile_doc(Name="A", Queues=["support"]),
        fx.profile_doc(Name="B", Queues=["Sales"]),
        fx.profile_doc(Name="C", Queues=["Billing", "SUPPORT"]),
    )
    assert _names(config, fx.details()) == ["A", "C"]


def test_scope_by_retention_policy() -> None:
    config = _config(
        fx.profile_doc(Name="Policy", Queues=[], RetentionPolicies=["keep sales 7 years"]),
        fx.profile_doc(Name="Both", Queues=["Billing"], RetentionPolicies=["Keep Sales 7 years"]),
        fx.profile_doc(Name="Unknown policy", Queues=[], RetentionPolicies=["Nope"]),
    )
    assert _names(config, fx.details()) == []  # the call ran in Support only
    details = fx.details()
    for participant in details["participants"]:
        for session in participant.get("sessions", []):
            for segment in session["segments"]:
                if segment.get("queueId"):
                    segment["queueId"] = fx.QUEUE_SALES_ID
    assert _names(config, details) == ["Policy", "Both"]


def test_require_agent_participant() -> None:
    config = _config(
        fx.profile_doc(Name="Any"),
        fx.profile_doc(Name="Agents only", RequireAgentParticipant=True),
    )
    assert _names(config, fx.details()) == ["Any", "Agents only"]
    abandoned = fx.details()
    abandoned["participants"] = [p for p in abandoned["participants"] if p["purpose"] != "agent"]
    assert _names(config, abandoned) == ["Any"]


def test_inactive_and_invalid_profiles_never_apply() -> None:
    result = load_config(
        {
            "Profiles": [
                fx.profile_doc(Name="Off", Active=False),
                fx.profile_doc(Name="Bad", AudioFormat="X"),
                fx.profile_doc(Name="On"),
            ]
        }
    )
    found = applicable_profiles(result.config, fx.details(), queue_names=fx.QUEUE_NAMES, policy_queue_ids={})
    assert [p.name for p in found] == ["On"]


def test_unknown_queue_names_do_not_match() -> None:
    config = _config(fx.profile_doc())
    assert applicable_profiles(config, fx.details(), queue_names={}, policy_queue_ids={}) == []


def test_watched_names() -> None:
    config = _config(
        fx.profile_doc(Name="A", Queues=["Support", "Sales"]),
        fx.profile_doc(Name="B", Queues=["Billing"], RetentionPolicies=["Keep Sales 7 years"]),
    )
    assert watched_queue_names(config) == {"Support", "Sales", "Billing"}
    assert watched_policy_names(config) == {"Keep Sales 7 years"}


def test_policy_queue_ids_reads_call_and_legacy_conditions() -> None:
    legacy = {"name": "Legacy", "conditions": {"forQueues": [{"id": "q-legacy"}]}}
    disabled = {**fx.POLICY, "name": "Disabled", "enabled": False}
    assert policy_queue_ids([fx.POLICY, legacy, disabled, {"id": "no-name"}]) == {
        "Keep Sales 7 years": {fx.QUEUE_SALES_ID},
        "Legacy": {"q-legacy"},
        "Disabled": set(),
    }

"""Which active profiles apply to a finished conversation, and what the service must watch.

A profile applies when the conversation touched (had a segment with ``queueId`` in) one of its
``Queues`` (by name, case-insensitive) or one of the queues its ``RetentionPolicies`` name, and, when
``RequireAgentParticipant`` is set, had a participant with purpose ``agent``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from profiles.model import Config, Profile

logger = logging.getLogger(__name__)


def touched_queue_ids(details: Mapping[str, Any]) -> set[str]:
    """Every ``queueId`` on any segment of any participant."""
    return {
        str(segment["queueId"])
        for participant in details.get("participants") or []
        for session in participant.get("sessions") or []
        for segment in session.get("segments") or []
        if segment.get("queueId")
    }


def has_agent_participant(details: Mapping[str, Any]) -> bool:
    return any(str(p.get("purpose", "")).lower() == "agent" for p in details.get("participants") or [])


def profile_applies(
    profile: Profile,
    details: Mapping[str, Any],
    *,
    queue_names: Mapping[str, str],
    policy_queue_ids: Mapping[str, set[str]],
) -> bool:
    queue_ids = touched_queue_ids(details)
    touched_names = {queue_names[q].casefold() for q in queue_ids if q in queue_names}
    wanted_names = {q.casefold() for q in profile.queues}
    policies = {name.casefold(): ids for name, ids in policy_queue_ids.items()}
    policy_ids: set[str] = set()
    for policy in profile.retention_policies:
        policy_ids |= set(policies.get(policy.casefold(), set()))
    in_scope = bool(touched_names & wanted_names) or bool(queue_ids & policy_ids)
    if in_scope and profile.require_agent_participant and not has_agent_participant(details):
        logger.info(
            "conversation %s: profile %r skipped: RequireAgentParticipant and no agent took part",
            details.get("conversationId"),
            profile.name,
        )
        return False
    return in_scope


def applicable_profiles(
    config: Config,
    details: Mapping[str, Any],
    *,
    queue_names: Mapping[str, str],
    policy_queue_ids: Mapping[str, set[str]],
) -> list[Profile]:
    """The active, valid profiles that apply to the conversation, in document order."""
    return [
        profile
        for profile in config.profiles
        if profile_applies(profile, details, queue_names=queue_names, policy_queue_ids=policy_queue_ids)
    ]


def watched_queue_names(config: Config) -> set[str]:
    """Queue names the service must subscribe to (as written in the profiles)."""
    return {name for profile in config.profiles for name in profile.queues}


def watched_policy_names(config: Config) -> set[str]:
    """Retention policy names whose queues the service must resolve and subscribe to."""
    return {name for profile in config.profiles for name in profile.retention_policies}


def policy_queue_ids(policies: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """``{policy name: queue ids}`` from ``GET /api/v2/recording/mediaretentionpolicies`` entities.

    Reads ``mediaPolicies.callPolicy.conditions.forQueues`` and the legacy top-level
    ``conditions.forQueues``. Disabled policies (``enabled: false``) contribute no queues.
    """
    result: dict[str, set[str]] = {}
    for policy in policies:
        name = policy.get("name")
        if not name:
            continue
        ids = result.setdefault(str(name), set())
        if policy.get("enabled") is False:
            continue
        conditions = [
            ((policy.get("mediaPolicies") or {}).get("callPolicy") or {}).get("conditions") or {},
            policy.get("conditions") or {},
        ]
        for condition in conditions:
            for queue in condition.get("forQueues") or []:
                if isinstance(queue, Mapping) and queue.get("id"):
                    ids.add(str(queue["id"]))
    return result

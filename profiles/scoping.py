"""Which active profiles apply to a finished conversation, and what the service must watch.

A profile applies when the conversation touched (had a segment with ``queueId`` in) one of its
``Queues`` (by name, case-insensitive), or one of its ``RetentionPolicies`` selects the conversation
(`profiles.policies`: the policy's call conditions as Genesys Cloud defines them; a disabled policy
never does), and, when ``RequireAgentParticipant`` is set, a participant with purpose ``agent`` took
part. The service and ``run.py profiles check`` both decide here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from profiles.model import Config, Profile
from profiles.policies import CallFacts, RetentionPolicy, evaluate, parse_policies, watched_queue_ids

logger = logging.getLogger(__name__)

PoliciesByName = Mapping[str, Sequence[RetentionPolicy]]
"""`profiles.policies.parse_policies`: policy name -> the org's policies of that name."""


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


@dataclass(frozen=True)
class Scope:
    """Whether a profile applies to a conversation, and why (for logs and the preview)."""

    applies: bool
    reasons: list[str] = field(default_factory=list)


def profile_scope(
    profile: Profile,
    details: Mapping[str, Any],
    *,
    queue_names: Mapping[str, str],
    policies: PoliciesByName | None = None,
    policy_queue_ids: Mapping[str, Iterable[str]] | None = None,
) -> Scope:
    """Decide (and explain) whether `profile` applies to the conversation.

    `policies` are the org's retention policies by name (`profiles.policies.parse_policies`); the
    older `policy_queue_ids` (`{name: queue ids}`) is used only when `policies` is not given, and then
    only the queues are compared.
    """
    reasons: list[str] = []
    queue_ids = touched_queue_ids(details)
    touched_names = {queue_names[q].casefold() for q in queue_ids if q in queue_names}
    wanted_names = {q.casefold() for q in profile.queues}
    in_scope = bool(touched_names & wanted_names)
    if in_scope:
        reasons.append("a queue of the profile's Queues took the call")
    if profile.retention_policies and policies is not None:
        by_name = {name.casefold(): found for name, found in policies.items()}
        facts = CallFacts.of(details)
        for name in profile.retention_policies:
            found = by_name.get(name.casefold())
            if not found:
                reasons.append(f"retention policy {name!r} does not exist in the org")
                continue
            for policy in found:
                verdict = evaluate(policy, facts)
                if verdict.selected:
                    in_scope = True
                    assumed = f" (taken as holding: {'; '.join(verdict.assumed)})" if verdict.assumed else ""
                    reasons.append(f"retention policy {policy.name!r} selects the call{assumed}")
                else:
                    reasons.append(f"retention policy {policy.name!r} does not select it: {verdict.why_not}")
    elif profile.retention_policies and policy_queue_ids is not None:
        by_name_ids = {name.casefold(): set(ids) for name, ids in policy_queue_ids.items()}
        for name in profile.retention_policies:
            if queue_ids & by_name_ids.get(name.casefold(), set()):
                in_scope = True
                reasons.append(f"a queue of retention policy {name!r} took the call")
    if in_scope and profile.require_agent_participant and not has_agent_participant(details):
        logger.info(
            "conversation %s: profile %r skipped: RequireAgentParticipant and no agent took part",
            details.get("conversationId"),
            profile.name,
        )
        return Scope(False, [*reasons, "RequireAgentParticipant and no agent took part"])
    return Scope(in_scope, reasons)


def profile_applies(
    profile: Profile,
    details: Mapping[str, Any],
    *,
    queue_names: Mapping[str, str],
    policies: PoliciesByName | None = None,
    policy_queue_ids: Mapping[str, Iterable[str]] | None = None,
) -> bool:
    scope = profile_scope(
        profile, details, queue_names=queue_names, policies=policies, policy_queue_ids=policy_queue_ids
    )
    if profile.retention_policies and policies is not None:
        logger.debug(
            "conversation %s: profile %r %s: %s",
            details.get("conversationId"),
            profile.name,
            "applies" if scope.applies else "does not apply",
            "; ".join(scope.reasons),
        )
        assumed = [r for r in scope.reasons if "taken as holding" in r]
        if scope.applies and assumed:
            logger.info(
                "conversation %s: profile %r: %s", details.get("conversationId"), profile.name, assumed[0]
            )
    return scope.applies


def applicable_profiles(
    config: Config,
    details: Mapping[str, Any],
    *,
    queue_names: Mapping[str, str],
    policies: PoliciesByName | None = None,
    policy_queue_ids: Mapping[str, Iterable[str]] | None = None,
) -> list[Profile]:
    """The active, valid profiles that apply to the conversation, in document order."""
    return [
        profile
        for profile in config.profiles
        if profile_applies(
            profile, details, queue_names=queue_names, policies=policies, policy_queue_ids=policy_queue_ids
        )
    ]


class ScopingSnapshot(Protocol):
    """What scoping reads of a configuration snapshot (`messages.config.ConfigSnapshot`)."""

    @property
    def config(self) -> Config: ...
    @property
    def queue_names(self) -> Mapping[str, str]: ...
    @property
    def policy_queue_ids(self) -> Mapping[str, Iterable[str]]: ...


def snapshot_profiles(snapshot: ScopingSnapshot, details: Mapping[str, Any]) -> list[Profile]:
    """`applicable_profiles` for a `messages.config.ConfigSnapshot`: its queue names and its retention
    policies (the service's entry point; `export.output_plan.applicable_profiles` should call this)."""
    return applicable_profiles(
        snapshot.config,
        details,
        queue_names=snapshot.queue_names,
        policies=getattr(snapshot, "retention_policies", None),
        policy_queue_ids=snapshot.policy_queue_ids,
    )


def watched_queue_names(config: Config) -> set[str]:
    """Queue names the service must subscribe to (as written in the profiles)."""
    return {name for profile in config.profiles for name in profile.queues}


def watched_policy_names(config: Config) -> set[str]:
    """Retention policy names whose queues the service must resolve and subscribe to."""
    return {name for profile in config.profiles for name in profile.retention_policies}


def policy_queue_ids(
    policies: Iterable[Mapping[str, Any]], every_queue: Iterable[str] = ()
) -> dict[str, set[str]]:
    """``{policy name: queue ids}`` from ``GET /api/v2/recording/mediaretentionpolicies`` entities: the
    queues a policy can select calls in (queues only, for callers that compare no other condition).

    A disabled policy, or one without a call part, has none; a policy without a queue condition has
    every queue of the org (`every_queue`).
    """
    every = list(every_queue)
    return {name: set(watched_queue_ids(found, every)[0]) for name, found in parse_policies(policies).items()}

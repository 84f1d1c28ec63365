"""Configuration and license snapshots published to the actors that need them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConfigSnapshot:
    """An immutable, validated configuration with the org lookups the service needs.

    `config` is a `profiles.Config`; `queue_ids` maps watched queue names to ids, `queue_names`
    the reverse for every queue in the org, `policy_queue_ids` each retention policy name to the
    queue ids it can select calls in (every queue when it has no queue condition, none when it is
    disabled), and `system_queue_id` is the configuration-change queue.
    """

    version: int
    config: Any
    queue_ids: dict[str, str] = field(default_factory=dict)
    queue_names: dict[str, str] = field(default_factory=dict)
    policy_queue_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    system_queue_id: str | None = None
    errors: tuple[str, ...] = ()
    transcribed_queue_ids: frozenset[str] | None = None  # queues with voice transcription on (None: unknown)
    queue_acw: dict[str, dict[str, Any]] = field(default_factory=dict)
    """queue id -> the queue's ``acwSettings`` (``wrapupPrompt``, ``timeoutMs``): bounds wrap-up waits."""
    retention_policies: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """The retention policies the profiles name, by name (`profiles.policies.RetentionPolicy`): their
    conditions are evaluated per conversation (`profiles.scoping.snapshot_profiles`)."""

    def watched_queue_ids(self) -> frozenset[str]:
        return frozenset(self.queue_ids.values())


@dataclass(frozen=True)
class ConfigChanged:
    snapshot: ConfigSnapshot


@dataclass(frozen=True)
class LicenseChanged:
    licensed: bool
    reason: str
    limits: dict[str, Any] = field(default_factory=dict)

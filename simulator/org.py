"""The simulated Genesys Cloud organisation: queues, users (agents), flows and retention policies.

Everything is a frozen dataclass and every id is derived from the seed, so two simulators built
with the same seed describe the same org (same queue ids, same user ids).
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SYSTEM_QUEUE_NAME = "CallExport System"
"""Queue used for configuration-change signals (a callback created on it produces an event)."""

WRAPUP_PROMPTS = ("MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED")


def seeded_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng` (deterministic for a seeded generator)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Queue:
    id: str
    name: str
    enable_transcription: bool = True
    acw_wrapup_prompt: str = "MANDATORY_TIMEOUT"
    acw_timeout_ms: int = 60_000
    description: str = ""
    suppress_in_queue_call_recording: bool = False
    member_count: int = 12  # queues created through the API start with none (simulator/queue_admin.py)
    joined_member_count: int = 10
    date_created: str = "2025-01-15T09:00:00.000Z"
    date_modified: str = "2025-06-01T12:00:00.000Z"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    username: str
    email: str
    title: str = "Agent"
    department: str = "Customer Service"


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    type: str = "INBOUNDCALL"


@dataclass(frozen=True)
class WrapupCode:
    id: str
    name: str


@dataclass(frozen=True)
class Language:
    id: str
    name: str


@dataclass(frozen=True)
class RetentionPolicy:
    """A media retention policy's call part (`CallMediaPolicyConditions`); empty = not set."""

    id: str
    name: str
    queue_ids: tuple[str, ...]
    """Empty: no queue condition (the policy applies in every queue)."""
    delete_days: int | None = None
    archive_days: int | None = None
    description: str = ""
    enabled: bool = True
    directions: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    wrapup_code_ids: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    date_ranges: tuple[str, ...] = ()
    """ISO-8601 intervals `start/end` (as the Genesys Terraform provider's example writes them)."""
    time_zone: str = ""
    time_slots: tuple[tuple[int, str, str], ...] = ()
    """(day 1 = Monday ... 7 = Sunday, start `HH:mm:ss.SSS`, stop `HH:mm:ss.SSS`) in `time_zone`."""
    duration: tuple[str, str] | None = None
    """(durationMode `Over`/`Under`/`Between`, durationRange)."""


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    queues: tuple[Queue, ...]
    users: tuple[User, ...]
    flows: tuple[Flow, ...]
    policies: tuple[RetentionPolicy, ...]
    system_queue: Queue | None  # None: an org `python run.py setup` has not provisioned yet
    wrapup_codes: tuple[WrapupCode, ...] = ()
    division_id: str = ""
    division_name: str = "Home"

    def all_queues(self) -> tuple[Queue, ...]:
        """Routing queues including the system queue (what GET /routing/queues lists)."""
        return (*self.queues, self.system_queue) if self.system_queue else self.queues

    def queue_by_name(self, name: str) -> Queue:
        for q in self.all_queues():
            if q.name == name:
                return q
        raise KeyError(f"no queue named {name!r} in org {self.name!r}")

    def queue_by_id(self, queue_id: str) -> Queue:
        for q in self.all_queues():
            if q.id == queue_id:
                return q
        raise KeyError(f"no queue with id {queue_id!r} in org {self.name!r}")

    def user_by_id(self, user_id: str) -> User:
        for u in self.users:
            if u.id == user_id:
                return u
        raise KeyError(f"no user with id {user_id!r} in org {self.name!r}")

    def flow_by_id(self, flow_id: str) -> Flow:
        for f in self.flows:
            if f.id == flow_id:
                return f
        raise KeyError(f"no flow with id {flow_id!r} in org {self.name!r}")

    def policy_by_id(self, policy_id: str) -> RetentionPolicy:
        for p in self.policies:
            if p.id == policy_id:
                return p
        raise KeyError(f"no retention policy with id {policy_id!r} in org {self.name!r}")

    def wrapup_code_by_id(self, code_id: str) -> WrapupCode:
        for c in self.wrapup_codes:
            if c.id == code_id:
                return c
        raise KeyError(f"no wrap-up code with id {code_id!r} in org {self.name!r}")


_QUEUES = (
    # name, transcription, prompt, timeout
    ("Sales", True, "MANDATORY_TIMEOUT", 60_000),
    ("Support", True, "MANDATORY", 120_000),
    ("Billing", True, "OPTIONAL", 30_000),
    ("Claims", False, "MANDATORY_FORCED_TIMEOUT", 45_000),
    ("Retention", True, "AGENT_REQUESTED", 90_000),
)

_AGENTS = (
    "Åse Øvergård",
    "José Núñez",
    "Maria Jensen",
    "Thomas Berg",
    "Priya Natarajan",
    "Liam O'Connor",
    "Zoë Müller",
    "Kenji Watanabe",
    "Fatima Al-Sayed",
    "Björn Lindqvist",
    "Chloé Dubois",
    "Daniel Kowalski",
)

_FLOWS = (
    ("Main IVR", "INBOUNDCALL"),
    ("After Hours IVR", "INBOUNDCALL"),
    ("Default In-Queue", "INQUEUECALL"),
)

_WRAPUP_CODES = ("Resolved", "Follow-up needed", "Escalated", "Wrong number", "Sale completed")

_ASCII_FOLD = str.maketrans(
    {
        "Å": "A",
        "å": "a",
        "Ø": "O",
        "ø": "o",
        "é": "e",
        "ú": "u",
        "ñ": "n",
        "ë": "e",
        "ü": "u",
        "ö": "o",
        "É": "E",
    }
)


def _username(name: str) -> str:
    folded = name.translate(_ASCII_FOLD).replace("'", "").lower()
    return ".".join(folded.split())


def default_org(seed: int = 0) -> Org:
    """The standard simulated org; ids are deterministic from `seed`."""
    rng = random.Random(f"org-{seed}")
    org_id = seeded_uuid(rng)
    division_id = seeded_uuid(rng)
    queues = tuple(
        Queue(
            id=seeded_uuid(rng),
            name=name,
            enable_transcription=transcribe,
            acw_wrapup_prompt=prompt,
            acw_timeout_ms=timeout,
            description=f"{name} inbound voice queue",
        )
        for name, transcribe, prompt, timeout in _QUEUES
    )
    system_queue = Queue(
        id=seeded_uuid(rng),
        name=SYSTEM_QUEUE_NAME,
        enable_transcription=False,
        acw_wrapup_prompt="OPTIONAL",
        acw_timeout_ms=10_000,
        description="Configuration-change signals for callexport (callbacks only; no agents)",
    )
    users = tuple(
        User(
            id=seeded_uuid(rng),
            name=name,
            username=f"{_username(name)}@example.com",
            email=f"{_username(name)}@example.com",
        )
        for name in _AGENTS
    )
    flows = tuple(Flow(id=seeded_uuid(rng), name=n, type=t) for n, t in _FLOWS)
    codes = tuple(WrapupCode(id=seeded_uuid(rng), name=n) for n in _WRAPUP_CODES)
    by_name = {q.name: q.id for q in queues}
    code = {c.name: c.id for c in codes}
    weekdays = tuple((day, "08:00:00.000", "17:00:00.000") for day in range(1, 6))
    policies = (
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Sales and Support 90 days",
            queue_ids=(by_name["Sales"], by_name["Support"]),
            delete_days=90,
            description="Keep sales and support calls for 90 days",
        ),
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Claims short retention",
            queue_ids=(by_name["Claims"],),
            delete_days=2,
            description="Claims recordings are deleted after 2 days",
        ),
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Billing archive",
            queue_ids=(by_name["Billing"], by_name["Retention"]),
            archive_days=30,
            delete_days=365,
            description="Archive billing and retention calls after 30 days",
        ),
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Outbound sales wins",
            queue_ids=(by_name["Sales"],),
            delete_days=730,
            description="Outbound sales calls that ended in a sale, kept two years",
            directions=("OUTBOUND",),
            wrapup_code_ids=(code["Sale completed"],),
            date_ranges=("2025-01-01T00:00:00.000Z/2031-01-01T00:00:00.000Z",),
        ),
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Business hours quality",
            queue_ids=(),
            delete_days=180,
            description="Every call of at least 30 s during Oslo business hours, whatever the queue",
            time_zone="Europe/Oslo",
            time_slots=weekdays,
            duration=("Over", "PT30S"),
        ),
        RetentionPolicy(
            id=seeded_uuid(rng),
            name="Norwegian VIP desk (retired)",
            queue_ids=(by_name["Support"], by_name["Retention"]),
            delete_days=3650,
            description="Retired: calls of two senior agents in Norwegian, kept ten years",
            enabled=False,
            user_ids=(users[0].id, users[1].id),
            languages=(Language(id=seeded_uuid(rng), name="Norwegian"),),
        ),
    )
    return Org(
        id=org_id,
        name="Callexport Simulated Org",
        queues=queues,
        users=users,
        flows=flows,
        policies=policies,
        system_queue=system_queue,
        wrapup_codes=codes,
        division_id=division_id,
    )

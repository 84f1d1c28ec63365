"""Shared helpers for the simulator world tests: one generated call per kind, cached."""

from __future__ import annotations

import random
from functools import cache

from simulator.model import Call
from simulator.org import Org, default_org
from simulator.scenarios import KINDS, generate_call

END_MS = 1_774_362_622_123  # 2026-03-24T14:30:22.123Z
SEED = 7


@cache
def org() -> Org:
    return default_org(SEED)


@cache
def call_of_kind(kind: str, seed: int = SEED) -> Call:
    """A call of `kind`; `long` calls are kept to 20 minutes here (tests stay fast)."""
    rng = random.Random(f"{seed}-{kind}")
    duration = 1_200.0 if kind == "long" else None
    return generate_call(org(), rng, end_ms=END_MS, kind=kind, duration_s=duration)


def calls_of_every_kind() -> list[Call]:
    return [call_of_kind(k) for k in KINDS]

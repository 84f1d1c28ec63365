"""Shared pytest configuration."""

from __future__ import annotations

import logging

import pytest

import genesys.sdk  # noqa: F401  # first: the SDK without its recursive watch of the home folder (genesys/sdk.py)

pytest_plugins = ["setup_fixtures", "pg_fixtures"]  # the `run.py setup` fixtures: bare_sim, file_keyring

# Modules whose tests take tens of seconds (real service processes, many calls, kill -9 and restarts).
# They are collected first so that the parallel workers (pytest-xdist, `-n 3 --dist worksteal` in
# pyproject: an idle worker takes tests queued for a busy one) start them early and the run does not
# end waiting for one worker's queue of long tests.
LONG_MODULES = (
    "test_e2e_process_kill",
    "test_e2e_budget",
    "test_e2e_faults",
    "test_capture_roundtrip",
    "test_demo_cli",
    "test_e2e_never_stalls",
    "test_capture_fixtures",
    "test_export_cli",
    "test_setup_service",
    "test_service_install",
    "test_e2e_instances",
    "test_backfill_e2e",
    "test_e2e_ledger_outage",
    "test_e2e_lease_lost",
)


def _long_rank(item: pytest.Item) -> int:
    name = item.module.__name__ if getattr(item, "module", None) is not None else ""
    for rank, prefix in enumerate(LONG_MODULES):
        if name.startswith(prefix):
            return rank
    return len(LONG_MODULES) + (0 if item.get_closest_marker("slow") else 1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_long_rank)  # stable: the order within a module is kept


@pytest.fixture(autouse=True)
def _fresh_arrival_estimates():
    """What one test's simulator taught about document delays must not slow the next test down."""
    from export.arrival import ARRIVALS

    ARRIVALS.reset()
    yield


@pytest.fixture(autouse=True)
def _stop_actors():
    """Actors are process-global: stop every one a test left running."""
    yield
    try:
        import pykka
    except ImportError:  # pragma: no cover
        return
    pykka.ActorRegistry.stop_all(block=True, timeout=10)


@pytest.fixture
def caplog_info(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog

"""Shared pytest configuration."""

from __future__ import annotations

import logging

import pytest

pytest_plugins = ["setup_fixtures", "pg_fixtures"]  # the `run.py setup` fixtures: bare_sim, file_keyring


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

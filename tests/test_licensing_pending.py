"""The durable list of conversations that finished while unlicensed: restarts and crashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from licensing.pending import PendingConversation, PendingConversations

ROOT = Path(__file__).resolve().parents[1]


def test_add_drain_remove_and_restart(tmp_path):
    path = tmp_path / "state" / "pending.sqlite"
    with PendingConversations(path) as pending:
        assert pending.add("conv-1", ["q1"], "2026-11-21T10:00:00Z") is True
        assert pending.add("conv-2", ["q2", "q1"], "2026-11-21T10:01:00Z") is True
        assert pending.add("conv-1", ["q3"], "2026-11-21T11:00:00Z") is False  # repeat: merged
        assert len(pending) == 2
    with PendingConversations(path) as pending:  # a restart
        items = pending.drain()
        assert items == [
            PendingConversation("conv-1", ("q1", "q3"), "2026-11-21T10:00:00Z"),
            PendingConversation("conv-2", ("q1", "q2"), "2026-11-21T10:01:00Z"),
        ]
        assert pending.drain() == items  # drain does not remove: remove() after handing over
        assert pending.remove("conv-1") is True
        assert pending.remove("conv-1") is False
        assert "conv-2" in pending and "conv-1" not in pending
    with PendingConversations(path) as pending:
        assert [p.conversation_id for p in pending.drain()] == ["conv-2"]


def test_survives_a_crash_without_close(tmp_path):
    path = tmp_path / "pending.sqlite"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from licensing.pending import PendingConversations
        pending = PendingConversations({str(path)!r})
        for i in range(50):
            pending.add(f"conv-{{i}}", ["q"], "2026-11-21T10:00:00Z")
        os._exit(9)  # no close, no atexit: a crash right after the last add returned
        """
    )
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    with PendingConversations(path) as pending:
        assert [p.conversation_id for p in pending.drain()] == [f"conv-{i}" for i in range(50)]

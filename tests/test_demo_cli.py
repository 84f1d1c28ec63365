"""`python run.py demo` works as a new user runs it, and no secret reaches any log line or output."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_exports_and_never_logs_a_secret(tmp_path):
    out = tmp_path / "demo-output"
    result = subprocess.run(
        [
            sys.executable,
            "run.py",
            "demo",
            "--calls",
            "4",
            "--out",
            str(out),
            "--calls-per-minute",
            "600",
            "--max-call-seconds",
            "40",
            "--seed",
            "1",
            "--timeout",
            "240",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Demo finished: 4 call(s) generated" in result.stdout
    assert re.search(r"Admin app: http://127\.0\.0\.1:\d+/ \(sign in as admin@example\.com", result.stdout)
    written = [line for line in result.stdout.splitlines() if "bytes" in line]
    assert written, result.stdout
    files = [
        p
        for p in out.rglob("*")
        if p.is_file() and ".state" not in p.parts and "logs" not in p.parts and ".license" not in p.parts
    ]
    assert len(files) == len(written)

    secret = hashlib.sha256(b"sim-secret-1").hexdigest()[:40]  # the simulator's client secret for seed 1
    logs = "".join(p.read_text(encoding="utf-8") for p in (out / "logs").glob("*.log*"))
    assert "Conversation" in logs
    for text in (logs, result.stdout, result.stderr):
        assert secret not in text
        assert not re.search(r"(?i)bearer\s+[A-Za-z0-9._-]{16,}", text)
        assert not re.search(r'(?i)"?access_token"?\s*[:=]\s*"?[A-Za-z0-9._-]{16,}', text)

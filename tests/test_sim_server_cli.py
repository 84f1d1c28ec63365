"""`python run.py simulate` as a subprocess: its lines, a working API, clean exit on Ctrl+C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def test_run_py_simulate_prints_credentials_serves_and_stops_on_sigint() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "simulate",
            "--calls-per-minute",
            "600",
            "--seed",
            "4",
            "--event-speed",
            "200",
            "--admin-app-redirect-uri",
            "http://127.0.0.1:8123/",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(9))  # type: ignore[union-attr]
        assert list(lines)[:4] == ["API_URL", "LOGIN_URL", "CLIENT_ID", "CLIENT_SECRET"]
        assert set(lines) == {
            "API_URL",
            "LOGIN_URL",
            "CLIENT_ID",
            "CLIENT_SECRET",
            "ADMIN_APP_CLIENT_ID",
            "ADMIN_APP_IMPLICIT_CLIENT_ID",
            "SETUP_CLIENT_ID",
            "ADMIN_USERNAME",
            "ADMIN_PASSWORD",
        }
        # the admin app's client knows the redirect URI given on the command line: the login page opens
        page = requests.get(
            f"{lines['LOGIN_URL']}/oauth/authorize",
            params={
                "client_id": lines["ADMIN_APP_CLIENT_ID"],
                "redirect_uri": "http://127.0.0.1:8123/",
                "response_type": "code",
            },
            timeout=10,
        )
        assert page.status_code == 200 and "id='login-form'" in page.text
        assert lines["API_URL"].startswith("http://127.0.0.1:")
        tok = requests.post(
            f"{lines['LOGIN_URL']}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(lines["CLIENT_ID"], lines["CLIENT_SECRET"]),
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {tok}"}
        queues = requests.get(f"{lines['API_URL']}/api/v2/routing/queues", headers=headers, timeout=10).json()
        assert "Sales" in [q["name"] for q in queues["entities"]]
        # traffic flows: conversations appear in analytics
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        interval = f"{time.strftime(fmt, time.gmtime(time.time() - 3600))}/{time.strftime(fmt, time.gmtime(time.time() + 3600))}"
        deadline = time.time() + 30
        hits = 0
        while time.time() < deadline and not hits:
            res = requests.post(
                f"{lines['API_URL']}/api/v2/analytics/conversations/details/query",
                headers=headers,
                json={"interval": interval},
                timeout=10,
            ).json()
            hits = res["totalHits"]
            time.sleep(0.2)
        assert hits > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_py_simulate_rejects_unknown_queue() -> None:
    proc = subprocess.run(
        [sys.executable, "run.py", "simulate", "--queues", "Nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown queue" in proc.stderr

"""`run.py admin serve` serves the static app and its config.json on loopback, nothing outside admin/."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import run
from service.admin_cli import AdminServer, app_config

ROOT = Path(__file__).resolve().parent.parent


def fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_admin_serve_command_serves_the_app_and_its_config() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "admin",
            "serve",
            "--port",
            "0",
            "--api-url",
            "http://127.0.0.1:9/",
            "--client-id",
            "abc",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("callexport admin app on http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        status, body, kind = fetch(url)
        assert status == 200 and b'<script type="module" src="js/main.js">' in body and "text/html" in kind
        status, body, kind = fetch(url + "js/engine/templates.js")
        assert status == 200 and kind.startswith("text/javascript")
        status, body, _ = fetch(url + "config.json")
        config = json.loads(body)
        assert config["apiBaseUrl"] == "http://127.0.0.1:9" and config["clientId"] == "abc"
        assert config["dataTable"] == "CallExport Configuration"  # the shipped admin/config.json underneath
        assert fetch(url + "../run.py")[0] == 404
        assert fetch(url + "%2e%2e/run.py")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_admin_server_in_process_and_generate_check(capsys) -> None:
    with AdminServer(config=app_config(api_url="http://127.0.0.1:1")) as server:
        status, body, _ = fetch(server.url + "data/engine.json")
        assert status == 200 and json.loads(body)["schema"]["$defs"]["Profile"]
    assert run.main(["admin", "generate", "--check"]) == 0

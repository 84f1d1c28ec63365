"""``run.py license ...`` end to end: hwid, the vendor tool with a real key file, demo, status."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from licensing_fixtures import SntpResponder, machine_hwid

import run
from licensing.evaluate import evaluate
from licensing.hwid import validate_hwid
from licensing.keys import key_id


def test_hwid_prints_this_machine(capsys):
    machine_hwid()  # skips where the OS has no machine identity
    assert run.main(["license", "hwid"]) == 0
    out = capsys.readouterr().out.strip()
    assert validate_hwid(out) and out == machine_hwid()


def test_vendor_issue_with_a_private_key_file(tmp_path, capsys):
    private = Ed25519PrivateKey.generate()
    key_file = tmp_path / "vendor.pem"
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    out = tmp_path / "acme.lic"
    argv = [
        "license",
        "issue",
        "--private-key",
        str(key_file),
        "--licensee",
        "Acme Corp",
        "--hwid",
        machine_hwid().lower(),
        "--expires",
        "2030-12-31",
        "--max-active-profiles",
        "4",
        "-o",
        str(out),
    ]
    assert run.main(argv) == 0
    status = evaluate(
        out,
        public_keys={key_id(private.public_key()): private.public_key()},
        demo_keys={},
        hwid=machine_hwid(),
        trusted_now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        api_url="https://api.mypurecloud.com",
    )
    assert status.licensed and status.licensee == "Acme Corp" and status.max_active_profiles == 4
    assert run.main(argv) == 1  # refuses to overwrite
    assert "exists" in capsys.readouterr().err
    assert run.main([*argv, "--force"]) == 0
    bad = argv.copy()
    bad[bad.index("--hwid") + 1] = "ABCDE-FGHJK-MNPQR-STVWX-0"
    assert run.main([*bad, "--force"]) == 2


def test_only_the_cli_imports_the_vendor_tool():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    importers = []
    for package in ("licensing", "service", "actors", "genesys", "messages"):
        for path in root.joinpath(package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                if "licensing.vendor" in names:
                    importers.append(path.relative_to(root).as_posix())
    assert importers == ["licensing/cli.py"]


def test_demo_license_and_status_against_the_simulator(tmp_path, capsys):
    machine_hwid()  # skips where the OS has no machine identity
    simulator = pytest.importorskip("simulator.app")
    lic = tmp_path / "callexport.license"
    assert run.main(["license", "demo", "-o", str(lic), "--days", "10"]) == 0
    with simulator.Simulator(seed=3) as sim:
        rc = run.main(
            ["license", "status", "--file", str(lic), "--api-url", sim.api_url, "--ntp-server", "127.0.0.1:9"]
        )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "state:               licensed" in out
    assert "from genesys" in out
    assert "hardware id match:   yes" in out
    assert "demo license:        yes" in out


def test_status_falls_back_to_ntp_and_reports_wrong_hardware(tmp_path, capsys):
    machine_hwid()  # skips where the OS has no machine identity
    from licensing.demo import write_demo_license

    lic = tmp_path / "callexport.license"
    write_demo_license(lic, hwid="00000-00000-00000-00000-0")
    with SntpResponder(lambda: dt.datetime.now(dt.UTC).timestamp()) as ntp:
        rc = run.main(
            [
                "license",
                "status",
                "--file",
                str(lic),
                "--api-url",
                "http://127.0.0.1:9",
                "--ntp-server",
                ntp.address,
            ]
        )
    out = capsys.readouterr().out
    assert rc == 1
    assert "UNLICENSED (reason: wrong_hardware)" in out
    assert f"from ntp:{ntp.address}" in out
    assert "hardware id match:   NO" in out


def test_status_missing_file(tmp_path, capsys):
    machine_hwid()  # skips where the OS has no machine identity
    rc = run.main(
        [
            "license",
            "status",
            "--file",
            str(tmp_path / "none.lic"),
            "--api-url",
            "http://127.0.0.1:9",
            "--ntp-server",
            "127.0.0.1:9",
        ]
    )
    assert rc == 1
    assert "UNLICENSED (reason: missing)" in capsys.readouterr().out

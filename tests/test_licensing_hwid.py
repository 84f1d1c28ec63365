"""Hardware id: format, check digit, sources (Linux for real here, Windows through a fake winreg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from credentials_fixtures import FakeWinreg
from licensing_fixtures import machine_hwid

from licensing import hwid
from licensing.hwid import (
    ALPHABET,
    HardwareIdUnavailable,
    HwidSource,
    InvalidHardwareId,
    format_hwid,
    hwid_from_sources,
    parse_hwid,
    validate_hwid,
)


def test_format_is_grouped_with_check_character():
    text = format_hwid(bytes(range(32)))
    groups = text.split("-")
    assert [len(g) for g in groups] == [5, 5, 5, 5, 1]
    assert all(c in ALPHABET for c in text.replace("-", ""))
    assert parse_hwid(text) == text


def test_every_single_character_typo_is_detected():
    text = format_hwid(b"\x42" * 32)
    compact = text.replace("-", "")
    for position in range(len(compact)):
        for replacement in ALPHABET:
            if replacement == compact[position]:
                continue
            typo = compact[:position] + replacement + compact[position + 1 :]
            assert not validate_hwid(typo), (position, replacement)


def test_most_adjacent_transpositions_are_detected():
    detected = total = 0
    for seed in range(40):
        compact = format_hwid(bytes([seed]) * 32).replace("-", "")
        for i in range(len(compact) - 1):
            if compact[i] == compact[i + 1]:
                continue
            total += 1
            swapped = compact[:i] + compact[i + 1] + compact[i] + compact[i + 2 :]
            detected += not validate_hwid(swapped)
    assert detected / total > 0.95


def test_parse_is_forgiving_about_case_hyphens_and_lookalikes():
    text = format_hwid(b"\x07" * 32)
    assert parse_hwid(text.lower()) == text
    assert parse_hwid(" " + text.replace("-", "") + "\n") == text
    if "0" in text:
        assert parse_hwid(text.replace("0", "O")) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [("ABCDE", "characters"), ("UUUUU-UUUUU-UUUUU-UUUUU-U", "outside Crockford"), ("", "0 characters")],
)
def test_parse_rejects_with_a_reason(text, message):
    with pytest.raises(InvalidHardwareId, match=message):
        parse_hwid(text)


def test_sources_combine_order_independently():
    a = HwidSource("machine-guid", "A")
    b = HwidSource("smbios-uuid", "B")
    assert hwid_from_sources([a, b]) == hwid_from_sources([b, a])
    assert hwid_from_sources([a, b]) != hwid_from_sources([a])
    with pytest.raises(HardwareIdUnavailable):
        hwid_from_sources([])


def test_this_machine_is_stable_and_valid():
    first = machine_hwid()
    assert validate_hwid(first)
    assert machine_hwid() == first
    assert "machine-id" in hwid.source_names()


def test_linux_sources_use_machine_id_and_readable_dmi_uuid():
    files = {
        Path("/etc/machine-id"): "0123456789abcdef0123456789abcdef",
        Path("/sys/class/dmi/id/product_uuid"): "4c4c4544-0042-3510-8052-b4c04f4b4e32",
    }
    sources = hwid.linux_sources(read_text=files.get)
    assert [s.name for s in sources] == ["machine-id", "dmi-product-uuid"]
    assert sources[1].value == "4C4C4544-0042-3510-8052-B4C04F4B4E32"
    # DMI unreadable (non-root) -> machine-id only; placeholder UUIDs are ignored too
    files[Path("/sys/class/dmi/id/product_uuid")] = "03000200-0400-0500-0006-000700080009"
    assert [s.name for s in hwid.linux_sources(read_text=files.get)] == ["machine-id"]


class FakeRun:
    """Stands in for subprocess.run on the Windows path: scripted outputs per program."""

    def __init__(self, outputs: dict[str, str | None]) -> None:
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        out = self.outputs.get(argv[0])
        if out is None:
            raise FileNotFoundError(argv[0])
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")


def _windows_registry() -> FakeWinreg:
    reg = FakeWinreg()
    reg.preset(r"SOFTWARE\Microsoft\Cryptography", "MachineGuid", "8f0e7c62-4a5b-4b8e-9d1f-2a3b4c5d6e7f")
    reg.preset(r"SYSTEM\HardwareConfig", "LastConfig", "{4C4C4544-0042-3510-8052-B4C04F4B4E32}")
    return reg


def test_windows_sources_from_registry_and_powershell():
    reg = _windows_registry()
    run = FakeRun({"powershell.exe": "4C4C4544-0042-3510-8052-B4C04F4B4E32\r\n"})
    sources = hwid.windows_sources(reg, run=run)
    assert {s.name: s.value for s in sources} == {
        "machine-guid": "8F0E7C62-4A5B-4B8E-9D1F-2A3B4C5D6E7F",
        "smbios-uuid": "4C4C4544-0042-3510-8052-B4C04F4B4E32",
    }
    assert run.calls[0][0] == "powershell.exe"
    via_powershell = hwid_from_sources(sources)
    # PowerShell missing -> wmic; both missing -> registry LastConfig: the same id every way
    wmic = FakeRun({"wmic": "UUID\r\n4C4C4544-0042-3510-8052-B4C04F4B4E32  \r\n"})
    assert hwid_from_sources(hwid.windows_sources(reg, run=wmic)) == via_powershell
    assert hwid_from_sources(hwid.windows_sources(reg, run=FakeRun({}))) == via_powershell


def test_windows_hardware_id_through_collect_sources(monkeypatch):
    reg = _windows_registry()
    monkeypatch.setattr(
        hwid.subprocess, "run", FakeRun({"powershell.exe": "4C4C4544-0042-3510-8052-B4C04F4B4E32"})
    )
    text = hwid.hardware_id("win32", winreg_module=reg)
    assert validate_hwid(text)
    assert text != machine_hwid()  # not the Linux id of this machine

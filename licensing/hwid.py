"""The machine's hardware id: stable across reboots and restarts, hashed, readable, with a check digit.

Sources (whatever is readable; the names and values are hashed together, never shown):

* Windows: ``MachineGuid`` (``HKLM\\SOFTWARE\\Microsoft\\Cryptography``, 64-bit view) and the SMBIOS
  system UUID (``Win32_ComputerSystemProduct.UUID`` through PowerShell, else ``wmic csproduct get
  uuid``, else ``HKLM\\SYSTEM\\HardwareConfig\\LastConfig``).
* Linux: ``/etc/machine-id`` (or ``/var/lib/dbus/machine-id``) and ``/sys/class/dmi/id/product_uuid``
  when readable (that file is root-only on most distributions: run ``license hwid`` as the service's
  account so both see the same sources).
* macOS: ``IOPlatformUUID``.

Printed form: 20 Crockford base32 characters (100 bits of SHA-256) in four groups of five, then a
Luhn mod 32 check character: ``XXXXX-XXXXX-XXXXX-XXXXX-C``. Parsing accepts lower case, missing
hyphens and the Crockford look-alikes (O→0, I/L→1).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

# subprocess.run, or a stand-in with its signature (tests)
_Run = Callable[..., subprocess.CompletedProcess[str]]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_CHARS = 20
GROUP = 5
HASH_CONTEXT = b"callexport-hwid/1\n"

LINUX_MACHINE_ID_PATHS = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
LINUX_DMI_UUID_PATH = Path("/sys/class/dmi/id/product_uuid")

# SMBIOS UUIDs that firmware vendors leave unset or fill with a placeholder: not machine-specific.
_PLACEHOLDER_UUIDS = {
    "00000000-0000-0000-0000-000000000000",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "03000200-0400-0500-0006-000700080009",
}
_UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}")


class InvalidHardwareId(ValueError):
    """Text that is not a well-formed hardware id (wrong length, characters or check digit)."""


class HardwareIdUnavailable(RuntimeError):
    """No machine identity source could be read."""


@dataclass(frozen=True)
class HwidSource:
    name: str  # e.g. "machine-guid", "smbios-uuid", "machine-id", "dmi-product-uuid"
    value: str  # normalised; hashed, never printed


# ---------------------------------------------------------------- check digit and formatting


def _luhn_sum(codes: list[int], start_factor: int) -> int:
    total, factor = 0, start_factor
    for code in reversed(codes):
        addend = factor * code
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return total


def check_char(body: str) -> str:
    """Luhn mod 32 check character for a Crockford base32 string."""
    remainder = _luhn_sum([_INDEX[c] for c in body], start_factor=2) % 32
    return ALPHABET[(32 - remainder) % 32]


def format_hwid(digest: bytes) -> str:
    """Format the first 100 bits of ``digest`` as ``XXXXX-XXXXX-XXXXX-XXXXX-C``."""
    number = int.from_bytes(digest[:13], "big") >> 4  # 104 bits → 100 bits
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(BODY_CHARS)))
    groups = [body[i : i + GROUP] for i in range(0, BODY_CHARS, GROUP)]
    return "-".join([*groups, check_char(body)])


def parse_hwid(text: str) -> str:
    """Return the canonical form of a hardware id typed by a person; InvalidHardwareId if it is not one."""
    if not isinstance(text, str):
        raise InvalidHardwareId("a hardware id must be text")
    compact = re.sub(r"[\s-]", "", text).upper().translate(_ALIASES)
    if len(compact) != BODY_CHARS + 1:
        raise InvalidHardwareId(
            f"{text.strip()!r} has {len(compact)} characters, a hardware id has {BODY_CHARS + 1} "
            "(XXXXX-XXXXX-XXXXX-XXXXX-C)"
        )
    bad = sorted({c for c in compact if c not in _INDEX})
    if bad:
        raise InvalidHardwareId(
            f"{text.strip()!r} contains characters outside Crockford base32: {''.join(bad)}"
        )
    body, check = compact[:BODY_CHARS], compact[BODY_CHARS]
    if _luhn_sum([_INDEX[c] for c in compact], start_factor=1) % 32 != 0:
        raise InvalidHardwareId(f"{text.strip()!r}: the check character {check!r} does not match (typo?)")
    groups = [body[i : i + GROUP] for i in range(0, BODY_CHARS, GROUP)]
    return "-".join([*groups, check])


def validate_hwid(text: str) -> bool:
    try:
        parse_hwid(text)
    except InvalidHardwareId:
        return False
    return True


def hwid_from_sources(sources: list[HwidSource]) -> str:
    """Combine named sources (order-independent) into the printed hardware id."""
    if not sources:
        raise HardwareIdUnavailable(
            "no machine identity source is readable (Linux: /etc/machine-id is missing or empty; create it "
            "with `systemd-machine-id-setup` or `dbus-uuidgen --ensure=/etc/machine-id`, and in a container "
            "bind-mount the host's /etc/machine-id read-only)"
        )
    material = "\n".join(f"{s.name}={s.value}" for s in sorted(sources, key=lambda s: s.name))
    return format_hwid(hashlib.sha256(HASH_CONTEXT + material.encode("utf-8")).digest())


# ---------------------------------------------------------------- sources


def normalise_uuid(text: str) -> str | None:
    """Upper-case, brace-free UUID, or None for empty / placeholder values."""
    match = _UUID_RE.search(text or "")
    if not match:
        return None
    raw = match.group(0).replace("-", "").upper()
    value = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return None if value in _PLACEHOLDER_UUIDS else value


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip() or None
    except OSError:
        return None


def linux_sources(read_text: Callable[[Path], str | None] = _read_text) -> list[HwidSource]:
    sources = []
    for path in LINUX_MACHINE_ID_PATHS:
        value = read_text(path)
        if value and re.fullmatch(r"[0-9a-fA-F]{32}", value):
            sources.append(HwidSource("machine-id", value.lower()))
            break
    dmi = normalise_uuid(read_text(LINUX_DMI_UUID_PATH) or "")
    if dmi:
        sources.append(HwidSource("dmi-product-uuid", dmi))
    else:
        logger.debug("DMI product UUID not readable (%s); using the other sources", LINUX_DMI_UUID_PATH)
    return sources


def _registry_value(winreg: ModuleType, subkey: str, name: str) -> str | None:
    access = winreg.KEY_READ | getattr(winreg, "KEY_WOW64_64KEY", 0)
    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, subkey, 0, access) as key:
            value, _kind = winreg.QueryValueEx(key, name)
    except OSError:
        return None
    return value if isinstance(value, str) else None


def _run_text(run: _Run, argv: list[str]) -> str:
    try:
        kwargs: dict[str, Any] = {"capture_output": True, "text": True, "timeout": 20, "check": False}
        if sys.platform == "win32":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        result = run(argv, **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("%s failed: %s", argv[0], exc)
        return ""
    return (result.stdout or "") if result.returncode == 0 else ""


def windows_sources(winreg: ModuleType, run: _Run | None = None) -> list[HwidSource]:
    run = run or subprocess.run
    sources = []
    guid = normalise_uuid(_registry_value(winreg, r"SOFTWARE\Microsoft\Cryptography", "MachineGuid") or "")
    if guid:
        sources.append(HwidSource("machine-guid", guid))
    smbios = normalise_uuid(
        _run_text(
            run,
            [
                "powershell.exe",
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                "(Get-CimInstance -ClassName Win32_ComputerSystemProduct).UUID",
            ],
        )
    )
    if not smbios:
        smbios = normalise_uuid(_run_text(run, ["wmic", "csproduct", "get", "uuid"]))
    if not smbios:
        smbios = normalise_uuid(_registry_value(winreg, r"SYSTEM\HardwareConfig", "LastConfig") or "")
    if smbios:
        sources.append(HwidSource("smbios-uuid", smbios))
    return sources


def macos_sources(run: _Run | None = None) -> list[HwidSource]:
    run = run or subprocess.run
    out = _run_text(run, ["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"])
    match = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', out)
    value = normalise_uuid(match.group(1)) if match else None
    return [HwidSource("platform-uuid", value)] if value else []


def collect_sources(
    platform: str | None = None, *, winreg_module: ModuleType | None = None
) -> list[HwidSource]:
    """The identity sources readable on this machine (``platform`` defaults to ``sys.platform``)."""
    platform = platform or sys.platform
    if platform == "win32":
        if winreg_module is None:
            winreg_module = importlib.import_module("winreg")  # Windows only
        return windows_sources(winreg_module)
    if platform == "darwin":
        return macos_sources()
    return linux_sources()


def hardware_id(platform: str | None = None, *, winreg_module: ModuleType | None = None) -> str:
    """This machine's hardware id, ``XXXXX-XXXXX-XXXXX-XXXXX-C``."""
    sources = collect_sources(platform, winreg_module=winreg_module)
    hwid = hwid_from_sources(sources)
    logger.debug("hardware id %s from %s", hwid, ", ".join(s.name for s in sources))
    return hwid


def hardware_id_with_sources(
    platform: str | None = None, *, winreg_module: ModuleType | None = None
) -> tuple[str, list[str]]:
    """The hardware id and the names of the sources it was built from (for ``license hwid``)."""
    sources = collect_sources(platform, winreg_module=winreg_module)
    return hwid_from_sources(sources), [s.name for s in sources]


def source_names(platform: str | None = None, *, winreg_module: ModuleType | None = None) -> list[str]:
    """Which sources the hardware id is built from here."""
    return [s.name for s in collect_sources(platform, winreg_module=winreg_module)]

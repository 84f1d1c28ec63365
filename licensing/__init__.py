"""Hardware-locked, Ed25519-signed licenses with trusted time.

Modules: ``document`` (format, sign, verify), ``keys`` (built-in and demo keys), ``hwid`` (machine
id), ``sntp`` + ``trusted_time`` (trusted now), ``evaluate`` (licensed or not, and why), ``watch``
(license file watcher thread), ``demo``
(demo licenses), ``cli`` (``run.py license``). ``vendor`` is the vendor's signing tool and is never
imported by the service. See docs/licensing.md.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_LICENSE_FILENAME = "callexport.license"
INSTALL_DIR = Path(__file__).resolve().parent.parent


def default_license_path(license_dir: Path | None = None) -> Path:
    """``<license_dir>/callexport.license``; without a directory, the install directory (next to run.py)."""
    return (license_dir or INSTALL_DIR) / DEFAULT_LICENSE_FILENAME

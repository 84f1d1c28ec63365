"""The VENDOR's signing tool (``python run.py license issue``). The service never imports this module.

It needs the vendor's Ed25519 private key file (PEM, PKCS#8; optionally password-protected through
the ``CALLEXPORT_LICENSE_KEY_PASSWORD`` environment variable). Keep that key offline; only its public
half ships in ``licensing/keys/``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from licensing.document import build_fields, sign_license, verify_license
from licensing.hwid import parse_hwid
from licensing.keys import key_id, load_private_key

logger = logging.getLogger(__name__)

PASSWORD_ENV = "CALLEXPORT_LICENSE_KEY_PASSWORD"


def issue_license(
    *,
    private_key_path: Path,
    licensee: str,
    hardware_id: str,
    expires: dt.date,
    output: Path,
    limits: Mapping[str, int] | None = None,
    issued: dt.date | None = None,
    overwrite: bool = False,
) -> bytes:
    """Sign a license and write it to ``output`` (atomically). Returns the file's bytes."""
    password = os.environ.get(PASSWORD_ENV)
    private_key = load_private_key(private_key_path, password.encode() if password else None)
    data = sign_license(
        build_fields(
            licensee=licensee,
            hardware_id=parse_hwid(hardware_id),
            expires=expires,
            issued=issued,
            limits=limits,
        ),
        private_key,
    )
    # self-check with the matching public key before anything leaves the vendor's machine
    verify_license(data, {key_id(private_key.public_key()): private_key.public_key()})
    write_new_file(output, data, overwrite=overwrite)
    return data


def write_new_file(output: Path, data: bytes, *, overwrite: bool) -> None:
    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"{output} exists (use --force to replace it)")
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(output.name + ".tmp")
    temp.write_bytes(data)
    os.replace(temp, output)

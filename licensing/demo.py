"""Demo licenses: signed with the committed DEMO key, for this machine, valid only against the simulator.

``run.py demo`` and the tests use :func:`write_demo_license` so they run licensed; a demo license
is refused (``demo_key_not_allowed``) as soon as the API host is a real Genesys Cloud region.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from licensing.document import build_fields, sign_license
from licensing.hwid import hardware_id
from licensing.keys import load_demo_private_key

logger = logging.getLogger(__name__)

DEMO_LICENSEE = "DEMO (simulator only)"


def demo_license_bytes(*, hwid: str | None = None, days: int = 30, licensee: str = DEMO_LICENSEE) -> bytes:
    today = dt.datetime.now(dt.UTC).date()
    return sign_license(
        build_fields(
            licensee=licensee,
            hardware_id=hwid or hardware_id(),
            issued=today,
            expires=today + dt.timedelta(days=days),
        ),
        load_demo_private_key(),
    )


def write_demo_license(
    path: str | Path, *, hwid: str | None = None, days: int = 30, licensee: str = DEMO_LICENSEE
) -> Path:
    """Write a demo license for this machine (or ``hwid``) to ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_bytes(demo_license_bytes(hwid=hwid, days=days, licensee=licensee))
    os.replace(temp, path)
    logger.info("wrote a DEMO license (simulator only, %d days) to %s", days, path)
    return path

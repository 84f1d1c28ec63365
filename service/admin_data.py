"""The files the admin web app shares with the Python implementation, generated from it.

``admin/data/engine.json`` carries what the JavaScript port of the template engine and the profile
rules needs at run time: ``profiles/schema.json`` (titles, help, enums, defaults and bounds: the single
source), the placeholder vocabulary (``storage/placeholders.py``), the format extensions
(``storage/formats.py``), the IANA zone names Python knows, the storage layout limits of the Data Table
(``profiles/table_layout.py``) and the built-in sample call (``profiles/sample_call.json``).
``tests/golden/engine_vectors.json`` holds the golden vectors (``service/admin_golden.py``).

``python run.py admin generate`` rewrites both; ``--check`` fails when a committed file is stale.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from profiles import table_layout
from profiles.schema import schema
from storage.formats import AUDIO_EXTENSIONS, TRANSCRIPT_EXTENSIONS
from storage.placeholders import PLACEHOLDERS

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DIR = ROOT / "admin"
ENGINE_DATA = ADMIN_DIR / "data" / "engine.json"
GOLDEN_VECTORS = ROOT / "tests" / "golden" / "engine_vectors.json"


def sample_call() -> dict[str, Any]:
    """The built-in sample conversation (Genesys Cloud's own JSON shapes, from the simulator)."""
    text = resources.files("profiles").joinpath("sample_call.json").read_text(encoding="utf-8")
    return json.loads(text)


def _utc_named_zones(zones: list[str]) -> list[str]:
    """Zones whose abbreviation is ``UTC`` (``K`` renders ``Z`` for them, as for ``ToUtc``)."""
    probes = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))
    return [z for z in zones if all(p.astimezone(ZoneInfo(z)).tzname() == "UTC" for p in probes)]


def engine_data() -> dict[str, Any]:
    zones = sorted(available_timezones())
    return {
        "generatedBy": "python run.py admin generate (service/admin_data.py)",
        "schema": schema(),
        "placeholders": {
            name: {
                "name": spec.name,
                "type": spec.type,
                "description": spec.description,
                "fallback": spec.fallback,
            }
            for name, spec in PLACEHOLDERS.items()
        },
        "extensions": {"audio": dict(AUDIO_EXTENSIONS), "transcript": dict(TRANSCRIPT_EXTENSIONS)},
        "timeZones": zones,
        "utcZones": _utc_named_zones(zones),
        "tableLayout": table_layout.limits(),
        "sampleCall": sample_call(),
    }


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def generated_files() -> dict[Path, str]:
    from service.admin_golden import build_vectors

    return {ENGINE_DATA: dump(engine_data()), GOLDEN_VECTORS: dump(build_vectors())}


def stale_files() -> list[Path]:
    """The committed generated files that differ from what the Python implementation gives now."""
    stale = []
    for path, text in generated_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_files() -> list[Path]:
    written = []
    for path, text in generated_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written

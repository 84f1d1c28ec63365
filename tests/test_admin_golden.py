"""Golden vectors keep the JavaScript port of the template engine and the profile rules equal to Python.

The vectors file is made from the Python implementation (service/admin_golden.py); these tests run
every case through Python again, fail when the committed file or admin/data/engine.json is stale, and
run the same file through the JavaScript port under Node. The browser runs it too
(tests/test_admin_app.py::test_golden_vectors_pass_in_the_browser).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from service.admin_data import ENGINE_DATA, GOLDEN_VECTORS, ROOT, stale_files
from service.admin_golden import CASES, compute, resolve


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(GOLDEN_VECTORS.read_text(encoding="utf-8"))


def test_generated_files_are_not_stale() -> None:
    stale = [str(p.relative_to(ROOT)) for p in stale_files()]
    assert stale == [], f"regenerate with `python run.py admin generate`: {stale}"


def test_every_section_has_cases(vectors: dict) -> None:
    for section in CASES:
        assert len(vectors[section]) >= 10 or section == "layout", section
    assert {"format", "timezone", "render", "preview", "profiles", "layout"} <= set(vectors)


@pytest.mark.parametrize("section", list(CASES))
def test_python_reproduces_every_case(vectors: dict, section: str) -> None:
    fixtures = vectors["fixtures"]
    mismatches = []
    for index, case in enumerate(vectors[section]):
        actual = json.loads(json.dumps(compute(section, resolve(case["input"], fixtures))))
        if actual != case["expected"]:
            mismatches.append((index, case["input"], case["expected"], actual))
    assert mismatches == []


def test_engine_data_carries_the_schema_and_the_sample(vectors: dict) -> None:
    data = json.loads(ENGINE_DATA.read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "profiles" / "schema.json").read_text(encoding="utf-8"))
    assert data["schema"] == schema
    assert "Europe/Oslo" in data["timeZones"] and "UTC" in data["utcZones"]
    assert data["sampleCall"]["details"]["participants"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_golden_vectors_pass_in_node() -> None:
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "golden" / "run_node.mjs")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed, 0 failed" in result.stdout

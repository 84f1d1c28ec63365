"""`run.py profiles push` and the Data Table storage layout (issue 11 items 11 and 12), against the simulator.

Genesys documents 5,000 rows per table, 50 fields and 256-character keys, but no length for a string
field; callexport assumes a cell holds at most 1,000 characters (the simulator enforces it), so a
longer document is stored in parts rows behind a manifest (profiles/table_layout.py) and read back by
the service (export/config_loader.read_document).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests

from export.config_loader import ConfigLoadError, read_document
from genesys.credentials import Credentials
from profiles import table_layout
from profiles.push import PushRefused, compact, push
from service.runtime import build_client
from service.settings import Settings
from simulator.app import CONFIG_COLUMN, CONFIG_ROW, Simulator
from simulator.datatables import MAX_STRING_CHARS

TARGET = SimpleNamespace(
    datatable="CallExport Configuration",
    datatable_row="config",
    datatable_column="Configuration",
    system_queue="CallExport System",
)


def big_document(profiles: int = 12) -> dict:
    return {
        "ConfigReloadIntervalSeconds": 120,
        "Profiles": [
            {
                "Name": f"Profile {i} ✓",
                "Queues": ["Support", "Sales"],
                "DestinationRoot": f"\\\\srv\\share\\calls\\{i}",
                "AudioFormat": "MP3",
                "AudioFileTemplate": "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{Conversation.Id}.{FileExtension}",
            }
            for i in range(profiles)
        ],
    }


@pytest.fixture(scope="module")
def sim():
    with Simulator(seed=41, config_document={"Profiles": []}) as sim:
        yield sim


@pytest.fixture()
def client(sim):
    client = build_client(Settings(api_url=sim.api_url), Credentials(sim.client_id, sim.client_secret))
    yield client
    client.close()


def config_rows(sim) -> dict[str, str]:
    return {r["key"]: r.get(CONFIG_COLUMN) for r in sim.datatable_rows()}


def test_the_simulator_refuses_a_string_cell_longer_than_the_assumed_limit(sim, client) -> None:
    table = client.find_datatable(TARGET.datatable)
    url = f"{sim.api_url}/api/v2/flows/datatables/{table['id']}/rows"
    r = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    too_long = requests.post(
        url, json={"key": "long", CONFIG_COLUMN: "x" * (MAX_STRING_CHARS + 1)}, headers=headers, timeout=10
    )
    assert too_long.status_code == 400 and "at most 1000" in too_long.json()["message"]
    long_key = requests.post(url, json={"key": "k" * 257, CONFIG_COLUMN: "x"}, headers=headers, timeout=10)
    assert long_key.status_code == 400
    fits = requests.post(url, json={"key": "fits", CONFIG_COLUMN: "😀" * 500}, headers=headers, timeout=10)
    assert fits.status_code == 200
    assert table_layout.CELL_LIMIT <= MAX_STRING_CHARS
    client.delete_datatable_row(table["id"], "fits")


def test_push_refuses_an_invalid_document_with_every_error_and_writes_nothing(sim, client) -> None:
    before = config_rows(sim)
    calls_before = len(sim.callbacks)
    bad = {
        "Profiles": [
            {"Name": "A", "Queues": ["Support"], "AudioFormat": "FLAC"},
            {"Name": "B", "Interval": "7m"},
        ]
    }
    with pytest.raises(PushRefused) as refused:
        push(client, TARGET, json.dumps(bad))
    reasons = [str(e) for e in refused.value.errors]
    assert any("AudioFormat" in r and "FLAC" in r for r in reasons)
    assert any("Interval" in r for r in reasons) and any("Queues" in r for r in reasons)
    with pytest.raises(PushRefused, match="not valid JSON"):
        push(client, TARGET, "{ not json")
    assert config_rows(sim) == before
    assert len(sim.callbacks) == calls_before


def test_push_creates_the_missing_row_writes_compact_json_and_signals_the_system_queue(sim, client) -> None:
    table = client.find_datatable(TARGET.datatable)
    for key in list(config_rows(sim)):
        client.delete_datatable_row(table["id"], key)
    doc = {"Profiles": [{"Name": "Small", "Queues": ["Support"], "DestinationRoot": "D:\\Exports"}]}
    result = push(client, TARGET, json.dumps(doc, indent=4).encode())
    assert result.parts == 0 and result.profiles == 1
    assert config_rows(sim) == {CONFIG_ROW: compact(doc)}
    conversation = sim.callback_conversation(result.signal_conversation_id)
    acd = next(p for p in conversation["participants"] if p["purpose"] == "acd")
    assert acd["queueId"] == sim.org.system_queue.id


def test_a_large_configuration_is_stored_in_parts_and_read_back_exactly(sim, client) -> None:
    doc = big_document()
    first = push(client, TARGET, json.dumps(doc), signal=False)
    text = compact(doc)
    assert first.characters == len(text) > table_layout.CELL_LIMIT
    assert first.parts == -(-len(text) // table_layout.CELL_LIMIT)
    rows = config_rows(sim)
    manifest = table_layout.parse_manifest(rows[CONFIG_ROW])
    assert manifest is not None and manifest.parts == first.parts
    assert all(len(v) <= MAX_STRING_CHARS for v in rows.values())
    assert read_document(client, Settings(api_url=sim.api_url)) == text
    assert sim.config_document() == text

    doc["Profiles"] = doc["Profiles"][:9]
    second = push(client, TARGET, json.dumps(doc), signal=False)
    rows = config_rows(sim)
    generation = table_layout.parse_manifest(rows[CONFIG_ROW]).generation
    parts = [k for k in rows if table_layout.is_part_key(CONFIG_ROW, k)]
    assert len(parts) == second.parts and all(f".{generation}." in k for k in parts)  # old parts deleted
    assert read_document(client, Settings(api_url=sim.api_url)) == compact(doc)


def test_the_service_reports_a_missing_part_precisely(sim, client) -> None:
    push(client, TARGET, json.dumps(big_document()), signal=False)
    table = client.find_datatable(TARGET.datatable)
    part = next(k for k in config_rows(sim) if table_layout.is_part_key(CONFIG_ROW, k))
    client.delete_datatable_row(table["id"], part)
    with pytest.raises(ConfigLoadError, match="part row\\(s\\) are missing"):
        read_document(client, Settings(api_url=sim.api_url))


def test_a_document_beyond_the_layout_is_refused_before_anything_is_written(sim, client) -> None:
    before = config_rows(sim)
    huge = {"Profiles": [{"Name": "x", "Queues": ["Support"], "DestinationRoot": "r" * 1000}] * 1}
    huge["Profiles"][0]["AudioFileTemplate"] = "{Conversation.Id}" + "y" * (table_layout.MAX_DOCUMENT_UNITS)
    with pytest.raises(PushRefused, match="stores at most"):
        push(client, TARGET, json.dumps(huge))
    assert config_rows(sim) == before


def test_profiles_push_command_end_to_end(sim, tmp_path, monkeypatch, capsys) -> None:
    import run

    settings = tmp_path / "callexport.toml"
    settings.write_text(f'[genesys]\napi_url = "{sim.api_url}"\n')
    monkeypatch.setenv("CALLEXPORT_CLIENT_ID", sim.client_id)
    monkeypatch.setenv("CALLEXPORT_CLIENT_SECRET", sim.client_secret)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(big_document(3)), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Profiles": [{"Name": "B", "Queues": ["Support"], "RetryCount": -1}]}))

    assert run.main(["profiles", "push", str(bad), "--settings", str(settings)]) == 1
    assert "RetryCount: -1 is less than the minimum of 0" in capsys.readouterr().out
    assert run.main(["profiles", "push", str(good), "--settings", str(settings)]) == 0
    out = capsys.readouterr().out
    assert "pushed 3 profile(s)" in out and "signal sent on queue 'CallExport System'" in out
    assert json.loads(sim.config_document()) == big_document(3)

"""``run.py credentials set/show/delete/test``: prompts, masking, and a real token against the simulator."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

import run

SECRET = "cli-secret-Value-0042-xyz"


@pytest.fixture
def chosen_keyring(tmp_path, monkeypatch):
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.delenv("CALLEXPORT_CLIENT_ID", raising=False)
    monkeypatch.delenv("CALLEXPORT_CLIENT_SECRET", raising=False)
    yield backend
    keyring.set_keyring(previous)


def _prompts(monkeypatch, client_id: str, secret: str) -> list[str]:
    asked: list[str] = []

    def fake_input(prompt: str) -> str:
        asked.append(prompt)
        return client_id

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return secret

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return asked


def test_set_show_delete(chosen_keyring, tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    settings = tmp_path / "callexport.toml"
    asked = _prompts(monkeypatch, "client-from-prompt", SECRET)
    assert run.main(["credentials", "set", "--settings", str(settings)]) == 0
    assert asked == ["OAuth client id: ", "OAuth client secret (not shown): "]
    assert "saved the credentials of client id client-from-prompt to keyring" in capsys.readouterr().out
    assert not settings.exists()  # nothing written to the settings file

    assert run.main(["credentials", "show", "--settings", str(settings)]) == 0
    out = capsys.readouterr().out
    assert "client id:     client-from-prompt" in out
    assert "client secret: ********" in out and "stored in:     keyring" in out

    assert run.main(["credentials", "delete", "--settings", str(settings)]) == 0
    assert "removed from keyring" in capsys.readouterr().out
    assert run.main(["credentials", "show", "--settings", str(settings)]) == 1
    assert "no OAuth client credentials found" in capsys.readouterr().err
    assert SECRET not in caplog.text


def test_set_to_a_chosen_store_and_empty_secret(chosen_keyring, tmp_path, monkeypatch, capsys):
    settings = tmp_path / "callexport.toml"
    _prompts(monkeypatch, "unused", SECRET)
    argv = [
        "credentials",
        "set",
        "--settings",
        str(settings),
        "--client-id",
        "cid",
        "--store",
        "settings-file",
    ]
    assert run.main(argv) == 0
    out = capsys.readouterr().out
    assert "settings file" in out and "last-resort" in out
    assert SECRET in settings.read_text()  # it really is there, permission-restricted
    _prompts(monkeypatch, "unused", "   ")
    assert run.main(argv) == 2
    assert "secret is empty" in capsys.readouterr().err


def test_the_secret_cannot_be_given_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as info:
        run.main(["credentials", "set", "--client-id", "cid", "--client-secret", SECRET])
    assert info.value.code == 2


def test_credentials_test_against_the_simulator(chosen_keyring, tmp_path, monkeypatch, capsys, caplog):
    simulator = pytest.importorskip("simulator.app")
    caplog.set_level(logging.DEBUG)
    settings = tmp_path / "callexport.toml"
    with simulator.Simulator(seed=5) as sim:
        settings.write_text(f'[genesys]\napi_url = "{sim.api_url}"\n', encoding="utf-8")
        _prompts(monkeypatch, sim.client_id, sim.client_secret)
        assert run.main(["credentials", "set", "--settings", str(settings)]) == 0
        capsys.readouterr()

        assert run.main(["credentials", "test", "--settings", str(settings)]) == 0
        out = capsys.readouterr().out
        assert "token:         ok" in out
        assert f"organization:  {sim.org.name}" in out
        assert "all export permissions present" in out

        sim.faults.forbidden_paths = ["/api/v2/speechandtextanalytics", "/api/v2/notifications"]
        assert run.main(["credentials", "test", "--settings", str(settings)]) == 3
        out = capsys.readouterr().out
        assert "missing permissions for: transcripts, notifications" in out
        assert "  recordings         ok" in out

        _prompts(monkeypatch, sim.client_id, "wrong-secret-value")
        assert run.main(["credentials", "set", "--settings", str(settings)]) == 0
        assert run.main(["credentials", "test", "--settings", str(settings)]) == 1
        out = capsys.readouterr().out
        assert "token:         FAILED" in out
        everything = out + caplog.text
        assert sim.client_secret not in everything
        assert "wrong-secret-value" not in everything


def test_settings_file_from_the_environment_like_the_service(chosen_keyring, tmp_path, monkeypatch, capsys):
    settings = tmp_path / "elsewhere.toml"
    monkeypatch.setenv("CALLEXPORT_SETTINGS", str(settings))
    _prompts(monkeypatch, "unused", SECRET)
    assert run.main(["credentials", "set", "--client-id", "cid", "--store", "settings-file"]) == 0
    assert "cid" in settings.read_text()
    assert run.main(["credentials", "show"]) == 0
    assert "elsewhere.toml" in capsys.readouterr().out

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings, SettingsError, load_settings


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./callexport.toml: the defaults apply
    s = load_settings(None, environ={})
    assert s == Settings()
    assert s.settings_file is None


def test_file_then_environment_precedence(tmp_path):
    f = tmp_path / "callexport.toml"
    f.write_text(
        '[genesys]\napi_url = "https://api.mypurecloud.ie"\nrequests_per_minute = 120\n'
        '[service]\nstate_dir = "/var/lib/callexport"\nmax_concurrent_exports = 3\n'
        '[license]\nntp_servers = ["a.example", "b.example"]\n'
    )
    s = load_settings(f, environ={"CALLEXPORT_REQUESTS_PER_MINUTE": "60"})
    assert s.api_url == "https://api.mypurecloud.ie"
    assert s.requests_per_minute == 60
    assert s.state_dir == Path("/var/lib/callexport")
    assert s.max_concurrent_exports == 3
    assert s.ntp_servers == ("a.example", "b.example")


def test_bad_values_are_named(tmp_path):
    f = tmp_path / "callexport.toml"
    f.write_text("[service]\nmax_concurrent_exports = 'many'\n")
    with pytest.raises(SettingsError, match="max_concurrent_exports"):
        load_settings(f, environ={})
    f.write_text("[service\n")
    with pytest.raises(SettingsError, match="callexport.toml"):
        load_settings(f, environ={})


def test_a_named_settings_file_must_exist(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(None, environ={"CALLEXPORT_SETTINGS": str(tmp_path / "nope.toml")})


def test_every_setting_is_in_the_settings_reference():
    """docs/settings.md names every setting's TOML key and environment variable (the one reference)."""
    from pathlib import Path

    from service.settings import _SOURCES

    text = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [
        f"[{section}] {key} / {env}"
        for section, key, env in _SOURCES.values()
        if f"`{key}`" not in text or f"`{env}`" not in text
    ]
    assert not missing, f"docs/settings.md lacks: {missing}"

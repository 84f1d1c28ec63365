"""CredentialStore: env override, a real file-backed keyring, the registry (fake winreg), the settings
file fallback with permissions, and no secret in any log line, exception or repr."""

from __future__ import annotations

import logging
import os
import stat
import tomllib

import keyring
import pytest
from credentials_fixtures import FakeWinreg
from keyrings.alt.file import PlaintextKeyring

from genesys.credentials import (
    AUTO,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    REGISTRY_KEY,
    CredentialError,
    Credentials,
    CredentialsNotFound,
    CredentialStore,
    mask_secret,
)

SECRET = 's3cr3t-Zq9!x"quote\\backslash-' + "A" * 20
OTHER_SECRET = "another-secret-value-7781"
SETTINGS = """# service settings
[genesys]
api_url = "https://api.mypurecloud.ie"

[service]
state_dir = "state"   # keep me
"""


@pytest.fixture
def file_keyring(tmp_path):
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def settings_path(tmp_path):
    path = tmp_path / "callexport.toml"
    path.write_text(SETTINGS, encoding="utf-8")
    path.chmod(0o644)
    return path


def _scan(caplog, *extra: str) -> None:
    text = caplog.text + "".join(extra)
    for secret in (SECRET, OTHER_SECRET):
        assert secret not in text
        assert secret[:12] not in text


def test_keyring_round_trip_through_set_keyring(file_keyring, settings_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")  # chosen explicitly
    store = CredentialStore(settings_path, environ={}, keyring_backend=AUTO, winreg_module=None)
    assert store.available() == ["environment", "keyring", "settings-file"]
    where = store.save("client-123", SECRET)
    assert "keyring" in where
    # a second store object (a service restart) reads it back through keyring
    creds = CredentialStore(settings_path, environ={}, keyring_backend=AUTO, winreg_module=None).load()
    assert (creds.client_id, creds.client_secret) == ("client-123", SECRET)
    assert "keyring" in creds.source
    assert "OAuth credentials for client id client-123 read from keyring" in caplog.text
    # the settings file was not touched
    assert settings_path.read_text() == SETTINGS
    assert store.delete() == [store.keyring.describe()]
    with pytest.raises(CredentialsNotFound) as info:
        store.load()
    _scan(caplog, str(info.value), repr(creds), str(creds))


def test_auto_skips_a_plaintext_keyring_that_nobody_chose(file_keyring, monkeypatch):
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    store = CredentialStore(None, environ={}, keyring_backend=AUTO, winreg_module=None)
    assert store.keyring is None


def test_environment_overrides_everything(file_keyring, settings_path, caplog):
    caplog.set_level(logging.INFO)
    store = CredentialStore(settings_path, environ={}, keyring_backend=file_keyring, winreg_module=None)
    store.save("stored-id", OTHER_SECRET)
    env = {ENV_CLIENT_ID: "env-id", ENV_CLIENT_SECRET: SECRET}
    creds = CredentialStore(settings_path, environ=env, keyring_backend=file_keyring).load()
    assert (creds.client_id, creds.client_secret, creds.source) == (
        "env-id",
        SECRET,
        "environment (CALLEXPORT_CLIENT_ID/CALLEXPORT_CLIENT_SECRET)",
    )
    # half an environment is an error that says which one is missing, then the next store is used
    half = CredentialStore(settings_path, environ={ENV_CLIENT_ID: "env-id"}, keyring_backend=file_keyring)
    assert half.load().client_id == "stored-id"
    assert "CALLEXPORT_CLIENT_ID is set but CALLEXPORT_CLIENT_SECRET is not" in caplog.text
    _scan(caplog)


def test_registry_store_with_fake_winreg(settings_path, caplog):
    caplog.set_level(logging.INFO)
    reg = FakeWinreg(admin=True)
    store = CredentialStore(settings_path, environ={}, keyring_backend=None, winreg_module=reg)
    assert store.available() == ["environment", "registry", "settings-file"]
    assert "registry" in store.save("reg-id", SECRET)
    assert reg.values(REGISTRY_KEY) == {"clientid": "reg-id", "clientsecret": SECRET}
    assert all(access & reg.KEY_WOW64_64KEY for access in reg.opened_with)  # the 64-bit view
    creds = CredentialStore(settings_path, environ={}, keyring_backend=None, winreg_module=reg).load()
    assert (creds.client_id, creds.client_secret) == ("reg-id", SECRET)
    assert "HKLM\\SOFTWARE\\callexport\\Credentials" in creds.source
    assert store.delete() == [store.registry.describe()]
    assert reg.values(REGISTRY_KEY) == {}
    _scan(caplog)


def test_registry_without_admin_falls_back_to_the_settings_file(settings_path, caplog):
    caplog.set_level(logging.INFO)
    reg = FakeWinreg(admin=False)
    store = CredentialStore(settings_path, environ={}, keyring_backend=None, winreg_module=reg)
    where = store.save("file-id", SECRET)
    assert "settings file" in where
    assert "access denied (writing HKLM needs an elevated administrator prompt)" in caplog.text
    assert "last resort" in caplog.text
    _check_settings_file(settings_path, "file-id", SECRET)
    _scan(caplog)


def _check_settings_file(path, client_id, secret):
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    assert document["credentials"] == {"client_id": client_id, "client_secret": secret}
    # every other section survives, comments included
    assert document["genesys"] == {"api_url": "https://api.mypurecloud.ie"}
    assert document["service"] == {"state_dir": "state"}
    assert "# keep me" in path.read_text()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_settings_file_round_trip_and_permissions(settings_path, caplog):
    caplog.set_level(logging.INFO)
    store = CredentialStore(settings_path, environ={}, keyring_backend=None, winreg_module=None)
    store.save("file-id", SECRET)
    _check_settings_file(settings_path, "file-id", SECRET)
    store.save("file-id-2", OTHER_SECRET)  # replaced, not duplicated
    _check_settings_file(settings_path, "file-id-2", OTHER_SECRET)
    assert settings_path.read_text().count("[credentials]") == 1
    # someone loosens the permissions; reading tightens them again with a warning
    settings_path.chmod(0o644)
    caplog.clear()
    creds = store.load()
    assert creds.client_secret == OTHER_SECRET
    assert stat.S_IMODE(settings_path.stat().st_mode) == 0o600
    assert "restricted to the owner (600)" in caplog.text
    assert "read from the settings file" in caplog.text and caplog.records[-1].levelname == "WARNING"
    assert store.delete() == [store.settings_file.describe()]
    assert "credentials" not in tomllib.loads(settings_path.read_text())
    assert tomllib.loads(settings_path.read_text())["service"] == {"state_dir": "state"}
    _scan(caplog)


def test_saving_to_a_better_store_removes_the_plaintext_copy(file_keyring, settings_path, caplog):
    caplog.set_level(logging.INFO)
    CredentialStore(settings_path, environ={}, keyring_backend=None, winreg_module=None).save(
        "old", OTHER_SECRET
    )
    assert "credentials" in tomllib.loads(settings_path.read_text())
    reg = FakeWinreg()
    store = CredentialStore(settings_path, environ={}, keyring_backend=file_keyring, winreg_module=reg)
    store.save("new", SECRET)
    assert "credentials" not in tomllib.loads(settings_path.read_text())
    assert reg.values(REGISTRY_KEY) is None
    assert store.load().client_id == "new"
    _scan(caplog)


def test_broken_stores_give_clear_errors_without_the_secret(file_keyring, settings_path, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    file_keyring.set_password("callexport", "oauth-client", "not json " + SECRET)
    settings_path.write_text(f'[credentials]\nclient_id = "x"\nclient_secret = "{SECRET}\n', encoding="utf-8")
    reg = FakeWinreg()
    reg.preset(REGISTRY_KEY, "ClientId", "reg-only-id")  # secret value missing
    store = CredentialStore(settings_path, environ={}, keyring_backend=file_keyring, winreg_module=reg)
    with pytest.raises(CredentialsNotFound) as info:
        store.load()
    message = str(info.value)
    assert "is not a callexport credential document" in message
    assert "ClientId and ClientSecret must both be non-empty" in message
    assert "not valid TOML" in message
    _scan(caplog, message)
    with pytest.raises(CredentialError, match="line break"):
        store.save("id", "two\nlines")
    with pytest.raises(CredentialError, match="empty"):
        store.save("id", "")


def test_repr_and_mask_never_show_the_secret():
    creds = Credentials("cid", SECRET, "environment")
    for text in (repr(creds), str(creds), f"{creds}", mask_secret(SECRET)):
        assert SECRET not in text and SECRET[:6] not in text
    assert "cid" in repr(creds)
    assert mask_secret(SECRET) == mask_secret(SECRET) != mask_secret(OTHER_SECRET)

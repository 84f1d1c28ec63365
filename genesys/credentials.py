"""Where the OAuth client id and secret live, and reading them back in order of preference.

Read order (the first store that has both values wins):

1. environment ``CALLEXPORT_CLIENT_ID`` + ``CALLEXPORT_CLIENT_SECRET`` (override everything; for
   containers; read-only);
2. the operating system's credential store through ``keyring`` (Windows Credential Manager; on Linux
   the Secret Service, on macOS the Keychain): service ``callexport``, user ``oauth-client``, the
   password being a small JSON document with both values (one atomic entry);
3. the Windows Registry, ``HKLM\\SOFTWARE\\callexport\\Credentials`` (``ClientId``, ``ClientSecret``,
   REG_SZ, 64-bit view; writing needs administrator rights);
4. the ``[credentials]`` section (``client_id``, ``client_secret``) of the service's settings file:
   last resort, logged as a WARNING, the file's permissions restricted to its owner (POSIX 0600).

``save()`` writes to the most preferred writable store and removes the values from every other
store, so ``load()`` returns what was saved. Secrets never appear in a log line, an exception message
or a ``repr``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

logger = logging.getLogger(__name__)

ENV_CLIENT_ID = "CALLEXPORT_CLIENT_ID"
ENV_CLIENT_SECRET = "CALLEXPORT_CLIENT_SECRET"
KEYRING_SERVICE = "callexport"
KEYRING_USERNAME = "oauth-client"
REGISTRY_KEY = r"SOFTWARE\callexport\Credentials"
REGISTRY_ID_VALUE = "ClientId"
REGISTRY_SECRET_VALUE = "ClientSecret"
SETTINGS_SECTION = "credentials"

SOURCE_ENV = "environment"
SOURCE_KEYRING = "keyring"
SOURCE_REGISTRY = "registry"
SOURCE_SETTINGS = "settings-file"
WRITABLE = (SOURCE_KEYRING, SOURCE_REGISTRY, SOURCE_SETTINGS)


class CredentialError(Exception):
    """A credential store could not be read or written (the message never contains the secret)."""


class CredentialsNotFound(CredentialError):
    """No store holds a client id and secret."""


def mask_secret(secret: str) -> str:
    """A display form that proves which secret it is without revealing any of it."""
    if not secret:
        return "(empty)"
    fingerprint = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]
    return f"******** ({len(secret)} characters, sha256 {fingerprint})"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)
    source: str = ""  # "environment", "keyring (<backend>)", "registry (HKLM\\...)", "settings-file (<path>)"

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self.client_id!r}, client_secret={mask_secret(self.client_secret)!r}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__


def _check_values(client_id: str, client_secret: str) -> None:
    if not client_id or not client_id.strip():
        raise CredentialError("the client id is empty")
    if not client_secret:
        raise CredentialError("the client secret is empty")
    if client_id != client_id.strip() or any(c in client_id for c in "\r\n\t"):
        raise CredentialError("the client id has leading/trailing white space or control characters")
    if any(c in client_secret for c in "\r\n"):
        raise CredentialError("the client secret contains a line break (a paste error?)")


# ------------------------------------------------------------------------------------ stores


class _EnvironmentStore:
    name = SOURCE_ENV

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def describe(self) -> str:
        return f"environment ({ENV_CLIENT_ID}/{ENV_CLIENT_SECRET})"

    def load(self) -> tuple[str, str] | None:
        client_id = self.environ.get(ENV_CLIENT_ID, "")
        secret = self.environ.get(ENV_CLIENT_SECRET, "")
        if not client_id and not secret:
            return None
        if not client_id or not secret:
            present, missing = (
                (ENV_CLIENT_ID, ENV_CLIENT_SECRET) if client_id else (ENV_CLIENT_SECRET, ENV_CLIENT_ID)
            )
            raise CredentialError(f"{present} is set but {missing} is not: set both, or neither")
        return client_id.strip(), secret


class _KeyringStore:
    name = SOURCE_KEYRING

    def __init__(self, backend: KeyringBackend) -> None:
        self.backend = backend

    def describe(self) -> str:
        cls = type(self.backend)
        return f"keyring ({cls.__module__}.{cls.__name__}, service {KEYRING_SERVICE!r})"

    def _errors(self) -> tuple[type[BaseException], ...]:
        import keyring.errors  # noqa: PLC0415

        return (keyring.errors.KeyringError, OSError)

    def load(self) -> tuple[str, str] | None:
        try:
            payload = self.backend.get_password(KEYRING_SERVICE, KEYRING_USERNAME)
        except self._errors() as exc:
            raise CredentialError(f"{self.describe()}: cannot read ({type(exc).__name__})") from None
        if payload is None:
            return None
        try:
            data = json.loads(payload)
            client_id, secret = data["client_id"], data["client_secret"]
            if not isinstance(client_id, str) or not isinstance(secret, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise CredentialError(
                f"{self.describe()}: the entry {KEYRING_USERNAME!r} is not a callexport credential "
                "document; run `python run.py credentials set` again"
            ) from None
        return client_id, secret

    def save(self, client_id: str, secret: str) -> None:
        payload = json.dumps({"client_id": client_id, "client_secret": secret})
        try:
            self.backend.set_password(KEYRING_SERVICE, KEYRING_USERNAME, payload)
        except self._errors() as exc:
            raise CredentialError(f"{self.describe()}: cannot write ({type(exc).__name__})") from None

    def delete(self) -> bool:
        import keyring.errors  # noqa: PLC0415

        try:
            if self.backend.get_password(KEYRING_SERVICE, KEYRING_USERNAME) is None:
                return False
            self.backend.delete_password(KEYRING_SERVICE, KEYRING_USERNAME)
        except keyring.errors.PasswordDeleteError:
            return False
        except self._errors() as exc:
            raise CredentialError(f"{self.describe()}: cannot delete ({type(exc).__name__})") from None
        return True


class _RegistryStore:
    name = SOURCE_REGISTRY

    def __init__(self, winreg: ModuleType) -> None:
        self.winreg = winreg

    def describe(self) -> str:
        return f"registry (HKLM\\{REGISTRY_KEY})"

    def _access(self, write: bool) -> int:
        w = self.winreg
        base = (w.KEY_READ | w.KEY_SET_VALUE) if write else w.KEY_READ
        return base | getattr(w, "KEY_WOW64_64KEY", 0)

    def load(self) -> tuple[str, str] | None:
        w = self.winreg
        try:
            with w.OpenKey(w.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0, self._access(False)) as key:
                values = {}
                for name in (REGISTRY_ID_VALUE, REGISTRY_SECRET_VALUE):
                    try:
                        values[name] = w.QueryValueEx(key, name)[0]
                    except FileNotFoundError:
                        values[name] = None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialError(
                f"{self.describe()}: cannot read ({exc.strerror or type(exc).__name__})"
            ) from None
        client_id, secret = values[REGISTRY_ID_VALUE], values[REGISTRY_SECRET_VALUE]
        if client_id is None and secret is None:
            return None
        if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
            raise CredentialError(
                f"{self.describe()}: {REGISTRY_ID_VALUE} and {REGISTRY_SECRET_VALUE} must both be "
                "non-empty REG_SZ values"
            )
        return client_id, secret

    def save(self, client_id: str, secret: str) -> None:
        w = self.winreg
        try:
            with w.CreateKeyEx(w.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0, self._access(True)) as key:
                w.SetValueEx(key, REGISTRY_ID_VALUE, 0, w.REG_SZ, client_id)
                w.SetValueEx(key, REGISTRY_SECRET_VALUE, 0, w.REG_SZ, secret)
        except PermissionError:
            raise CredentialError(
                f"{self.describe()}: access denied (writing HKLM needs an elevated administrator prompt)"
            ) from None
        except OSError as exc:
            raise CredentialError(
                f"{self.describe()}: cannot write ({exc.strerror or type(exc).__name__})"
            ) from None

    def delete(self) -> bool:
        w = self.winreg
        removed = False
        try:
            with w.OpenKey(w.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0, self._access(True)) as key:
                for name in (REGISTRY_ID_VALUE, REGISTRY_SECRET_VALUE):
                    try:
                        w.DeleteValue(key, name)
                        removed = True
                    except FileNotFoundError:
                        pass
        except FileNotFoundError:
            return False
        except PermissionError:
            raise CredentialError(f"{self.describe()}: access denied (needs administrator rights)") from None
        return removed


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _toml_string(value: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX ...) are valid TOML basic-string escapes
    return json.dumps(value, ensure_ascii=True)


def _without_section(text: str, section: str) -> str:
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            skipping = match.group(1).strip().strip('"') == section
        if not skipping:
            out.append(line)
    return "".join(out)


class _SettingsFileStore:
    name = SOURCE_SETTINGS

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"settings file ({self.path}, [{SETTINGS_SECTION}])"

    def _read(self) -> tuple[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return "", {}
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialError(f"{self.describe()}: cannot read ({type(exc).__name__})") from None
        try:
            return text, tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's messages carry a position, never the offending value
            raise CredentialError(f"{self.describe()}: not valid TOML ({exc})") from None

    def load(self) -> tuple[str, str] | None:
        _, document = self._read()
        section = document.get(SETTINGS_SECTION)
        if section is None:
            return None
        if not isinstance(section, dict):
            raise CredentialError(f"{self.describe()}: [{SETTINGS_SECTION}] is not a table")
        client_id, secret = section.get("client_id"), section.get("client_secret")
        if client_id is None and secret is None:
            return None
        if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
            raise CredentialError(
                f"{self.describe()}: client_id and client_secret must both be non-empty strings"
            )
        self.restrict_permissions()
        return client_id, secret

    def restrict_permissions(self) -> None:
        """POSIX: make the file readable by its owner only (0600). Windows: see docs/credentials.md."""
        if os.name != "posix" or not self.path.exists():
            return
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            try:
                self.path.chmod(0o600)
                logger.warning(
                    "%s holds the OAuth secret and was readable by others (mode %03o): restricted to the owner (600)",
                    self.path,
                    mode,
                )
            except OSError as exc:
                logger.warning(
                    "%s holds the OAuth secret and is mode %03o; chmod failed: %s", self.path, mode, exc
                )

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if os.name == "posix":
            os.chmod(temp, 0o600)
        os.replace(temp, self.path)

    def _rewrite(self, body: str | None) -> bool:
        text, before = self._read()
        remaining = _without_section(text, SETTINGS_SECTION)
        if body is not None:
            if remaining and not remaining.endswith("\n"):
                remaining += "\n"
            remaining += ("\n" if remaining.strip() else "") + body
        try:
            after = tomllib.loads(remaining)
        except tomllib.TOMLDecodeError:
            after = None
        expected = {k: v for k, v in before.items() if k != SETTINGS_SECTION}
        if after is None or {k: v for k, v in after.items() if k != SETTINGS_SECTION} != expected:
            raise CredentialError(
                f"{self.describe()}: cannot rewrite the [{SETTINGS_SECTION}] section without changing the "
                "rest of the file; edit it by hand"
            )
        if remaining == text:
            return False
        self._write(remaining)
        return True

    def save(self, client_id: str, secret: str) -> None:
        body = (
            f"[{SETTINGS_SECTION}]\n"
            "# Last-resort storage of the OAuth client: prefer `python run.py credentials set` with a\n"
            "# credential manager. Keep this file readable by the service account only.\n"
            f"client_id = {_toml_string(client_id)}\n"
            f"client_secret = {_toml_string(secret)}\n"
        )
        try:
            self._rewrite(body)
        except OSError as exc:
            raise CredentialError(f"{self.describe()}: cannot write ({type(exc).__name__})") from None
        self.restrict_permissions()

    def delete(self) -> bool:
        _, document = self._read()
        if SETTINGS_SECTION not in document:
            return False
        try:
            return self._rewrite(None)
        except OSError as exc:
            raise CredentialError(f"{self.describe()}: cannot write ({type(exc).__name__})") from None


# ------------------------------------------------------------------------------------ keyring choice


def secure_keyring_backend() -> KeyringBackend | None:
    """The active ``keyring`` backend if it is a real credential store, else None.

    Skipped: the "fail" and "null" backends, and low-priority fallbacks such as keyrings.alt's
    PlaintextKeyring (a plain file is no better than the settings file), unless the administrator
    chose the backend explicitly with ``PYTHON_KEYRING_BACKEND``.
    """
    try:
        import keyring  # noqa: PLC0415
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring configuration means "not available"
        logger.info("keyring not usable: %s", type(exc).__name__)
        return None
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return None
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return backend
    if getattr(backend, "priority", 0) < 1:
        logger.debug("keyring backend %s.%s is not a secure store; skipped", module, type(backend).__name__)
        return None
    return backend


class _Default:
    pass


AUTO: Final = _Default()


class _Store(Protocol):
    """One place credentials are read from."""

    name: str

    def describe(self) -> str: ...

    def load(self) -> tuple[str, str] | None: ...


class _WritableStore(_Store, Protocol):
    """One place credentials can also be written to and removed from."""

    def save(self, client_id: str, secret: str) -> None: ...

    def delete(self) -> bool: ...


class CredentialStore:
    """Reads and writes the OAuth client id and secret (see the module docstring for the order).

    ``keyring_backend``: AUTO (the active backend if it is a real credential store), None (no
    keyring), or a backend object. ``winreg_module``: AUTO (the real ``winreg`` on Windows, none
    elsewhere), None, or a module with winreg's API. ``environ`` defaults to ``os.environ``.
    """

    def __init__(
        self,
        settings_path: str | Path | None = "callexport.toml",
        *,
        environ: Mapping[str, str] | None = None,
        keyring_backend: KeyringBackend | _Default | None = AUTO,
        winreg_module: ModuleType | _Default | None = AUTO,
    ) -> None:
        self.environment = _EnvironmentStore(os.environ if environ is None else environ)
        if isinstance(keyring_backend, _Default):
            keyring_backend = secure_keyring_backend()
        if isinstance(winreg_module, _Default):
            winreg_module = importlib.import_module("winreg") if sys.platform == "win32" else None
        self.keyring = _KeyringStore(keyring_backend) if keyring_backend is not None else None
        self.registry = _RegistryStore(winreg_module) if winreg_module is not None else None
        self.settings_file = _SettingsFileStore(Path(settings_path)) if settings_path is not None else None

    def _stores(self) -> list[_Store]:
        return [
            s for s in (self.environment, self.keyring, self.registry, self.settings_file) if s is not None
        ]

    def _writable(self) -> list[_WritableStore]:
        return [s for s in (self.keyring, self.registry, self.settings_file) if s is not None]

    def available(self) -> list[str]:
        """Names of the stores in use here, in read order."""
        return [s.name for s in self._stores()]

    def load(self) -> Credentials:
        """The first complete pair in read order; logs where it was found (never the secret)."""
        problems = []
        for store in self._stores():
            try:
                found = store.load()
            except CredentialError as exc:
                logger.warning("OAuth credentials: %s", exc)
                problems.append(str(exc))
                continue
            if found is None:
                continue
            client_id, secret = found
            source = store.describe()
            if store.name == SOURCE_SETTINGS:
                logger.warning(
                    "OAuth credentials for client id %s read from the %s: a last resort; store them in "
                    "the credential manager with `python run.py credentials set`",
                    client_id,
                    source,
                )
            else:
                logger.info("OAuth credentials for client id %s read from %s", client_id, source)
            return Credentials(client_id, secret, source)
        looked = ", ".join(s.describe() for s in self._stores())
        detail = f" Problems: {'; '.join(problems)}." if problems else ""
        raise CredentialsNotFound(
            f"no OAuth client credentials found (looked in: {looked}). Run `python run.py credentials set` "
            f"or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}.{detail}"
        )

    def save(self, client_id: str, client_secret: str, *, target: str | None = None) -> str:
        """Write to ``target`` (keyring, registry, settings-file) or the most preferred writable store;
        then remove the values from every other store. Returns the description of where they went."""
        client_id = client_id.strip()
        _check_values(client_id, client_secret)
        candidates = self._writable()
        if target is not None:
            if target not in WRITABLE:
                raise CredentialError(f"unknown store {target!r}; choose one of {', '.join(WRITABLE)}")
            candidates = [s for s in candidates if s.name == target]
            if not candidates:
                raise CredentialError(f"the {target} store is not available on this machine")
        failures = []
        for store in candidates:
            try:
                store.save(client_id, client_secret)
            except CredentialError as exc:
                logger.warning("OAuth credentials not saved to %s", exc)
                failures.append(str(exc))
                continue
            if store.name == SOURCE_SETTINGS:
                logger.warning(
                    "OAuth credentials for client id %s saved to the %s (last resort: no credential manager "
                    "or registry was writable)",
                    client_id,
                    store.describe(),
                )
            else:
                logger.info("OAuth credentials for client id %s saved to %s", client_id, store.describe())
            for other in self._writable():
                if other is not store:
                    self._remove_quietly(other)
            if self.environment.environ.get(ENV_CLIENT_ID) or self.environment.environ.get(ENV_CLIENT_SECRET):
                logger.warning(
                    "%s/%s are set and override the saved credentials", ENV_CLIENT_ID, ENV_CLIENT_SECRET
                )
            return store.describe()
        raise CredentialError("OAuth credentials could not be saved anywhere: " + "; ".join(failures))

    def _remove_quietly(self, store: _WritableStore) -> None:
        try:
            if store.delete():
                logger.info("removed the old OAuth credentials from %s", store.describe())
        except CredentialError as exc:
            logger.warning("could not remove old OAuth credentials: %s", exc)

    def delete(self) -> list[str]:
        """Remove the credentials from every writable store; returns where they were removed from."""
        removed = []
        for store in self._writable():
            try:
                if store.delete():
                    removed.append(store.describe())
                    logger.info("OAuth credentials removed from %s", store.describe())
            except CredentialError as exc:
                logger.warning("OAuth credentials: %s", exc)
        if self.environment.environ.get(ENV_CLIENT_ID):
            logger.warning("%s/%s are still set in the environment", ENV_CLIENT_ID, ENV_CLIENT_SECRET)
        return removed

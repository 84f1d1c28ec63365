"""A fake ``winreg`` module that behaves like the real API (for Linux test runs).

Same names, signatures, constants and errors as CPython's ``winreg``: ``OpenKey`` on a missing key
raises FileNotFoundError, ``QueryValueEx`` returns ``(value, type)``, handles are context managers,
writing without administrator rights raises PermissionError (WinError 5), sub-key names are
case-insensitive, and ``DeleteKey`` refuses a key that still has sub-keys.
"""

from __future__ import annotations


class _Handle:
    def __init__(self, registry: FakeWinreg, path: str, access: int) -> None:
        self.registry, self.path, self.access, self.closed = registry, path, access, False

    def Close(self) -> None:  # noqa: N802 - winreg's name
        self.closed = True

    def Detach(self) -> int:  # noqa: N802
        self.closed = True
        return 0

    def __enter__(self) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Close()


def _denied() -> PermissionError:
    error = PermissionError(13, "Access is denied")
    error.winerror = 5  # type: ignore[attr-defined]
    return error


def _not_found() -> FileNotFoundError:
    error = FileNotFoundError(2, "The system cannot find the file specified")
    error.winerror = 2  # type: ignore[attr-defined]
    return error


class FakeWinreg:
    HKEY_CLASSES_ROOT = 0x80000000
    HKEY_CURRENT_USER = 0x80000001
    HKEY_LOCAL_MACHINE = 0x80000002
    KEY_QUERY_VALUE = 0x0001
    KEY_SET_VALUE = 0x0002
    KEY_CREATE_SUB_KEY = 0x0004
    KEY_ENUMERATE_SUB_KEYS = 0x0008
    KEY_READ = 0x20019
    KEY_WRITE = 0x20006
    KEY_ALL_ACCESS = 0xF003F
    KEY_WOW64_64KEY = 0x0100
    KEY_WOW64_32KEY = 0x0200
    REG_SZ = 1
    REG_EXPAND_SZ = 2
    REG_BINARY = 3
    REG_DWORD = 4
    error = OSError

    def __init__(self, *, admin: bool = True) -> None:
        self.admin = admin
        self.keys: dict[str, dict[str, tuple[object, int]]] = {}
        self.opened_with: list[int] = []

    # -- test helpers
    def preset(self, subkey: str, name: str, value: object, kind: int = 1) -> None:
        self.keys.setdefault(self._path(self.HKEY_LOCAL_MACHINE, subkey), {})[name.lower()] = (value, kind)

    def values(self, subkey: str) -> dict[str, object] | None:
        data = self.keys.get(self._path(self.HKEY_LOCAL_MACHINE, subkey))
        return None if data is None else {k: v for k, (v, _) in data.items()}

    # -- the winreg API
    def _path(self, key: object, sub_key: str) -> str:
        base = key.path if isinstance(key, _Handle) else hex(int(key))  # type: ignore[arg-type]
        sub = sub_key.strip("\\").lower()
        return f"{base}\\{sub}" if sub else base

    def _check_write(self, access: int) -> None:
        if access & (self.KEY_SET_VALUE | self.KEY_CREATE_SUB_KEY) and not self.admin:
            raise _denied()

    def OpenKey(self, key, sub_key, reserved=0, access=KEY_READ):  # noqa: N802
        path = self._path(key, sub_key)
        if path not in self.keys:
            raise _not_found()
        self._check_write(access)
        self.opened_with.append(access)
        return _Handle(self, path, access)

    OpenKeyEx = OpenKey

    def CreateKeyEx(self, key, sub_key, reserved=0, access=KEY_WRITE):  # noqa: N802
        self._check_write(access | self.KEY_CREATE_SUB_KEY)
        path = self._path(key, sub_key)
        self.keys.setdefault(path, {})
        self.opened_with.append(access)
        return _Handle(self, path, access)

    def CreateKey(self, key, sub_key):  # noqa: N802
        return self.CreateKeyEx(key, sub_key, 0, self.KEY_WRITE)

    def QueryValueEx(self, key, value_name):  # noqa: N802
        data = self.keys.get(key.path, {})
        if (value_name or "").lower() not in data:
            raise _not_found()
        return data[(value_name or "").lower()]

    def SetValueEx(self, key, value_name, reserved, type, value):  # noqa: A002, N802
        if not key.access & self.KEY_SET_VALUE:
            raise _denied()
        if type == self.REG_SZ and not isinstance(value, str):
            raise TypeError("Objects of type 'int' can not be used as REG_SZ values")
        self.keys[key.path][value_name.lower()] = (value, type)

    def DeleteValue(self, key, value):  # noqa: N802
        if not key.access & self.KEY_SET_VALUE:
            raise _denied()
        if value.lower() not in self.keys.get(key.path, {}):
            raise _not_found()
        del self.keys[key.path][value.lower()]

    def DeleteKey(self, key, sub_key):  # noqa: N802
        if not self.admin:
            raise _denied()
        path = self._path(key, sub_key)
        if path not in self.keys:
            raise _not_found()
        if any(other.startswith(path + "\\") for other in self.keys):
            raise _denied()
        del self.keys[path]

    def CloseKey(self, hkey):  # noqa: N802
        hkey.Close()

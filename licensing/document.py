"""The license document: fields, canonical serialisation, Ed25519 signature, file format.

A license file is UTF-8 JSON, readable by an administrator::

    {
      "format": "callexport-license/1",
      "license": {
        "expires": "2027-12-31",
        "hardware_id": "7KQ2M-0V1XC-P9D4T-H3B8N-R",
        "issued": "2026-11-21",
        "key_id": "ed25519:0123456789abcdef",
        "licensee": "Example Ltd",
        "license_id": "0f0e...",
        "limits": {"max_active_profiles": 5}
      },
      "signature": "<base64 Ed25519 signature>"
    }

The signed message is ``b"callexport-license/1\\n"`` followed by the canonical JSON of the
``license`` object (keys sorted, no insignificant whitespace, UTF-8). Any change to any field,
including the key id, breaks the signature. ``expires`` is inclusive: the license is valid until the
end of that day in UTC.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from licensing.hwid import InvalidHardwareId, parse_hwid
from licensing.keys import key_id as compute_key_id

logger = logging.getLogger(__name__)

FORMAT = "callexport-license/1"
SIGNING_CONTEXT = FORMAT.encode("ascii") + b"\n"
MAX_FILE_BYTES = 64 * 1024

REQUIRED_FIELDS = ("licensee", "hardware_id", "issued", "expires", "key_id", "license_id")
OPTIONAL_FIELDS = ("limits",)
KNOWN_LIMITS = ("max_active_profiles",)
_LIMIT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class LicenseError(Exception):
    """A license file that cannot be accepted. ``reason`` is a short machine-readable word."""

    reason = "invalid"


class LicenseMalformed(LicenseError):
    """Not a license document: bad JSON, missing or ill-typed fields, unreadable signature."""

    reason = "malformed"


class LicenseTampered(LicenseError):
    """The signature does not match the content: the file was changed after signing."""

    reason = "tampered"


class LicenseUnknownKey(LicenseError):
    """Signed with a key this build does not know (another vendor key, or a forged key id)."""

    reason = "unknown_key"


@dataclass(frozen=True)
class License:
    """A verified license."""

    licensee: str
    hardware_id: str
    issued: dt.date
    expires: dt.date
    key_id: str
    license_id: str
    limits: Mapping[str, int] = field(default_factory=dict)

    def expires_at(self) -> dt.datetime:
        """The first instant (UTC) at which the license is no longer valid."""
        return dt.datetime.combine(self.expires + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def is_expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at()

    @property
    def max_active_profiles(self) -> int | None:
        return self.limits.get("max_active_profiles")


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed for a ``license`` object."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return SIGNING_CONTEXT + body.encode("utf-8")


def build_fields(
    *,
    licensee: str,
    hardware_id: str,
    expires: dt.date,
    issued: dt.date | None = None,
    limits: Mapping[str, int] | None = None,
    license_id: str | None = None,
) -> dict[str, Any]:
    """The ``license`` object for :func:`sign_license` (without ``key_id``, which signing adds)."""
    fields: dict[str, Any] = {
        "licensee": licensee,
        "hardware_id": hardware_id,
        "issued": (issued or dt.datetime.now(dt.UTC).date()).isoformat(),
        "expires": expires.isoformat(),
        "license_id": license_id or str(uuid.uuid4()),
    }
    if limits:
        fields["limits"] = dict(limits)
    return fields


def sign_license(fields: Mapping[str, Any], private_key: Ed25519PrivateKey) -> bytes:
    """Sign a ``license`` object and return the whole license file (UTF-8 JSON bytes).

    ``key_id`` is set from the private key. The fields are validated first, so a vendor cannot issue
    a license the service would reject as malformed.
    """
    body = dict(fields)
    body["key_id"] = compute_key_id(private_key.public_key())
    body.setdefault("license_id", str(uuid.uuid4()))
    if "hardware_id" in body and isinstance(body["hardware_id"], str):
        try:
            body["hardware_id"] = parse_hwid(body["hardware_id"])
        except InvalidHardwareId as exc:
            raise LicenseMalformed(f"hardware_id: {exc}") from None
    _license_from_fields(body)  # raises LicenseMalformed with the exact problem
    signature = private_key.sign(canonical_bytes(body))
    document = {
        "format": FORMAT,
        "license": body,
        "signature": base64.b64encode(signature).decode("ascii"),
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise LicenseMalformed(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_document(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a license file into its ``license`` object and raw signature (no verification)."""
    if len(data) > MAX_FILE_BYTES:
        raise LicenseMalformed(f"file is {len(data)} bytes, a license is at most {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LicenseMalformed(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise LicenseMalformed("file is empty")
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates)
    except json.JSONDecodeError as exc:
        raise LicenseMalformed(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(document, dict):
        raise LicenseMalformed("the document is not a JSON object")
    unknown = sorted(set(document) - {"format", "license", "signature"})
    if unknown:
        raise LicenseMalformed(f"unexpected top-level keys: {', '.join(unknown)}")
    if document.get("format") != FORMAT:
        raise LicenseMalformed(f"format is {document.get('format')!r}, expected {FORMAT!r}")
    body = document.get("license")
    if not isinstance(body, dict):
        raise LicenseMalformed("'license' is missing or not an object")
    signature_text = document.get("signature")
    if not isinstance(signature_text, str):
        raise LicenseMalformed("'signature' is missing or not a string")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise LicenseMalformed("'signature' is not valid base64") from None
    if len(signature) != 64:
        raise LicenseMalformed(f"'signature' is {len(signature)} bytes, an Ed25519 signature is 64")
    return body, signature


def verify_license(data: bytes, public_keys: Mapping[str, Ed25519PublicKey]) -> License:
    """Verify a license file's bytes against ``public_keys`` (key id → key) and return the License.

    Raises LicenseMalformed, LicenseUnknownKey or LicenseTampered with a precise message. The
    signature is checked before the fields are interpreted, so any edit reads as "tampered".
    """
    body, signature = parse_document(data)
    kid = body.get("key_id")
    if not isinstance(kid, str) or not kid:
        raise LicenseMalformed("'license.key_id' is missing or not a string")
    public_key = public_keys.get(kid)
    if public_key is None:
        raise LicenseUnknownKey(f"signed with key {kid!r}, which this build does not trust")
    try:
        message = canonical_bytes(body)
    except ValueError as exc:
        raise LicenseMalformed(f"cannot serialise the license object: {exc}") from None
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise LicenseTampered(
            "the signature does not match the license content (the file was changed after signing)"
        ) from None
    return _license_from_fields(body)


def _date_field(body: Mapping[str, Any], name: str) -> dt.date:
    value = body.get(name)
    if not isinstance(value, str):
        raise LicenseMalformed(f"'license.{name}' must be a YYYY-MM-DD string")
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(name, value)
    except ValueError:
        return _bad_date(name, value)


def _bad_date(name: str, value: str) -> dt.date:
    raise LicenseMalformed(f"'license.{name}' is {value!r}, expected YYYY-MM-DD")


def _text_field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise LicenseMalformed(f"'license.{name}' is missing or empty")
    return value


def _license_from_fields(body: Mapping[str, Any]) -> License:
    unknown = sorted(set(body) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise LicenseMalformed(f"unexpected license fields: {', '.join(unknown)}")
    missing = [name for name in REQUIRED_FIELDS if name not in body]
    if missing:
        raise LicenseMalformed(f"missing license fields: {', '.join(missing)}")
    try:
        hardware_id = parse_hwid(_text_field(body, "hardware_id"))
    except InvalidHardwareId as exc:
        raise LicenseMalformed(f"'license.hardware_id': {exc}") from None
    issued = _date_field(body, "issued")
    expires = _date_field(body, "expires")
    if expires < issued:
        raise LicenseMalformed(f"'license.expires' {expires} is before 'license.issued' {issued}")
    limits_value = body.get("limits", {})
    if not isinstance(limits_value, dict):
        raise LicenseMalformed("'license.limits' must be an object")
    limits: dict[str, int] = {}
    for name, value in limits_value.items():
        if not _LIMIT_NAME.match(name):
            raise LicenseMalformed(f"'license.limits' has an invalid name {name!r}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LicenseMalformed(f"'license.limits.{name}' must be a non-negative integer")
        limits[name] = value
    return License(
        licensee=_text_field(body, "licensee"),
        hardware_id=hardware_id,
        issued=issued,
        expires=expires,
        key_id=_text_field(body, "key_id"),
        license_id=_text_field(body, "license_id"),
        limits=limits,
    )

"""License documents with real Ed25519 keys: valid, tampered field by field, malformed, unknown key."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from licensing_fixtures import new_keys

from licensing.document import (
    LicenseMalformed,
    LicenseTampered,
    LicenseUnknownKey,
    build_fields,
    sign_license,
    verify_license,
)
from licensing.hwid import format_hwid

HWID = format_hwid(b"\x01" * 32)
OTHER_HWID = format_hwid(b"\x02" * 32)


def _signed(private, **overrides) -> bytes:
    fields = build_fields(
        licensee="Example Ltd",
        hardware_id=HWID,
        expires=dt.date(2027, 12, 31),
        issued=dt.date(2026, 11, 21),
        limits={"max_active_profiles": 5},
    )
    fields.update(overrides)
    return sign_license(fields, private)


def test_valid_license_round_trips():
    private, public = new_keys()
    lic = verify_license(_signed(private), public)
    assert lic.licensee == "Example Ltd"
    assert lic.hardware_id == HWID
    assert lic.expires == dt.date(2027, 12, 31)
    assert lic.issued == dt.date(2026, 11, 21)
    assert lic.max_active_profiles == 5
    assert lic.key_id in public
    # expiry is inclusive: valid during the whole last day (UTC), expired from the next midnight
    assert not lic.is_expired(dt.datetime(2027, 12, 31, 23, 59, 59, tzinfo=dt.UTC))
    assert lic.is_expired(dt.datetime(2028, 1, 1, tzinfo=dt.UTC))


def test_file_is_readable_json():
    private, _ = new_keys()
    document = json.loads(_signed(private))
    assert document["format"] == "callexport-license/1"
    assert document["license"]["licensee"] == "Example Ltd"
    assert len(base64.b64decode(document["signature"])) == 64


TAMPERS = {
    "licensee": "Someone Else",
    "hardware_id": OTHER_HWID,
    "issued": "2026-01-01",
    "expires": "2099-12-31",
    "license_id": "00000000-0000-0000-0000-000000000000",
    "limits": {"max_active_profiles": 500},
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_each_changed_field_reads_as_tampered(field):
    private, public = new_keys()
    document = json.loads(_signed(private))
    document["license"][field] = TAMPERS[field]
    with pytest.raises(LicenseTampered, match="signature does not match"):
        verify_license(json.dumps(document).encode(), public)


@pytest.mark.parametrize(
    "change",
    ["add_field", "drop_limits", "flip_signature_bit", "limit_added"],
)
def test_structural_tampering_is_detected(change):
    private, public = new_keys()
    document = json.loads(_signed(private))
    if change == "add_field":
        document["license"]["max_users"] = 99
    elif change == "drop_limits":
        del document["license"]["limits"]
    elif change == "flip_signature_bit":
        raw = bytearray(base64.b64decode(document["signature"]))
        raw[10] ^= 0x01
        document["signature"] = base64.b64encode(bytes(raw)).decode()
    elif change == "limit_added":
        document["license"]["limits"]["max_queues"] = 1
    with pytest.raises(LicenseTampered):
        verify_license(json.dumps(document).encode(), public)


def test_byte_edit_in_the_file_is_caught():
    private, public = new_keys()
    data = _signed(private)
    edited = data.replace(b"2027-12-31", b"2028-12-31")
    assert edited != data
    with pytest.raises(LicenseTampered):
        verify_license(edited, public)


def test_reformatting_whitespace_keeps_it_valid():
    private, public = new_keys()
    document = json.loads(_signed(private))
    assert verify_license(json.dumps(document, indent=8).encode(), public).licensee == "Example Ltd"


def test_other_vendor_key_is_unknown_and_swapped_key_id_is_tampered():
    private, public = new_keys()
    other_private, other_public = new_keys()
    with pytest.raises(LicenseUnknownKey, match="does not trust"):
        verify_license(_signed(other_private), public)
    # claiming a trusted key id on a license signed by another key breaks the signature
    document = json.loads(_signed(other_private))
    document["license"]["key_id"] = next(iter(public))
    with pytest.raises(LicenseTampered):
        verify_license(json.dumps(document).encode(), {**public, **other_public})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"format": "other/9", "license": {}, "signature": ""}', "format is"),
        (b'{"format": "callexport-license/1", "signature": "AAAA"}', "'license' is missing"),
        (b'{"format": "callexport-license/1", "license": {}, "signature": "!!"}', "not valid base64"),
        (b'{"format": "callexport-license/1", "license": {}, "signature": "AAAA"}', "64"),
        (b'{"format": "callexport-license/1", "format": "x", "license": {}, "signature": ""}', "duplicate"),
        (b'{"format": "callexport-license/1", "license": {}, "signature": "", "x": 1}', "unexpected"),
    ],
)
def test_malformed_files_say_what_is_wrong(data, message):
    _, public = new_keys()
    with pytest.raises(LicenseMalformed, match=message):
        verify_license(data, public)


def test_signing_refuses_fields_the_service_would_reject():
    private, _ = new_keys()
    with pytest.raises(LicenseMalformed, match="hardware_id"):
        _signed(private, hardware_id="NOT-A-HWID")
    with pytest.raises(LicenseMalformed, match="before"):
        _signed(private, issued="2028-01-01")
    with pytest.raises(LicenseMalformed, match="non-negative integer"):
        _signed(private, limits={"max_active_profiles": -1})
    with pytest.raises(LicenseMalformed, match="YYYY-MM-DD"):
        _signed(private, expires="31/12/2027")


def test_committed_keys_load_and_demo_pair_matches():
    from licensing import keys

    prod = keys.production_public_keys()
    demo = keys.demo_public_keys()
    assert len(prod) == 1 and len(demo) == 1
    assert set(prod).isdisjoint(demo)
    demo_private = keys.load_demo_private_key()
    lic = verify_license(_signed(demo_private), demo)
    assert lic.key_id in demo
    # the production private key is NOT in the repository
    assert not list(keys.KEYS_DIR.glob("*production*private*"))

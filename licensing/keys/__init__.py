"""The public keys built into the package, and the clearly named demo key pair.

* ``production-public-key.pem`` (and any ``production-public-key*.pem`` added later, for key rotation):
  licenses signed with the vendor's production private key are accepted everywhere. Only the PUBLIC
  key is in the repository; the vendor keeps the private key offline.
* ``demo-public-key.pem`` / ``DEMO-ONLY-private-key.pem``: a demo key pair committed on purpose, so that
  ``run.py demo`` and the tests run licensed. Licenses it signs are accepted ONLY while the service
  talks to a loopback API host (the simulator), never a real Genesys Cloud region
  (see :func:`is_loopback_url` and :mod:`licensing.evaluate`).

A key id is derived from the key itself (``ed25519:`` + the first 16 hex digits of the SHA-256 of the
raw public key), so it cannot disagree with the key it names.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)

KEYS_DIR = Path(__file__).resolve().parent
DEMO_PRIVATE_KEY_PATH = KEYS_DIR / "DEMO-ONLY-private-key.pem"
DEMO_PUBLIC_KEY_PATH = KEYS_DIR / "demo-public-key.pem"
PRODUCTION_PUBLIC_KEY_GLOB = "production-public-key*.pem"

PublicKeys = dict[str, Ed25519PublicKey]


def key_id(public_key: Ed25519PublicKey) -> str:
    """The stable id of a public key: ``ed25519:<16 hex digits>``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load one PEM (SubjectPublicKeyInfo) Ed25519 public key; ValueError if it is anything else."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key ({type(key).__name__})")
    return key


def load_private_key(path: Path, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load a PEM (PKCS#8) Ed25519 private key; ValueError if it is anything else."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key ({type(key).__name__})")
    return key


def keys_by_id(keys: list[Ed25519PublicKey]) -> PublicKeys:
    return {key_id(k): k for k in keys}


def production_public_keys() -> PublicKeys:
    """Every production public key shipped in this package, by key id."""
    paths = sorted(KEYS_DIR.glob(PRODUCTION_PUBLIC_KEY_GLOB))
    return keys_by_id([load_public_key(p) for p in paths])


def demo_public_keys() -> PublicKeys:
    """The demo public key, by key id (accepted only for loopback API hosts)."""
    return keys_by_id([load_public_key(DEMO_PUBLIC_KEY_PATH)])


def load_demo_private_key() -> Ed25519PrivateKey:
    """The committed DEMO-ONLY private key (its licenses only work against the simulator)."""
    return load_private_key(DEMO_PRIVATE_KEY_PATH)


def is_loopback_url(api_url: str | None) -> bool:
    """True when the URL's host is a loopback address literal or ``localhost``.

    Host names other than ``localhost`` are not resolved: a name that happens to resolve to
    127.0.0.1 does not count, so the answer never depends on DNS.
    """
    if not api_url:
        return False
    host = urlsplit(api_url if "//" in api_url else "//" + api_url).hostname
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback

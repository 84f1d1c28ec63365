"""Download pre-signed media and transcript URLs (no Genesys bearer header on these).

`download()` streams to ``<dest>.part`` and renames it into place only when complete, so a
half-written file never carries the final name. Transient failures (connection errors, 5xx,
429) are retried with backoff; a URL the storage rejects (403/404/410, typically because it
expired) raises `MediaUrlExpired` so that the caller asks Genesys for a fresh URL.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from .errors import GenesysError, GenesysUnavailable, TransientError, error_from_response, parse_retry_after

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

CHUNK = 1 << 16
_EXPIRED_STATUSES = frozenset({401, 403, 404, 410})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_shared_session = threading.local()


class MediaUrlExpired(GenesysError):
    """The pre-signed URL was refused (expired or revoked): request a new one."""


class MediaCorrupt(GenesysError):
    """The download was shorter than announced or otherwise unusable."""


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    content_type: str | None


@dataclass(frozen=True)
class DownloadEvent:
    """A pre-signed URL answered 200, for observers (`add_download_observer`; `run.py capture`).

    ``url`` is the URL without its query string (the signature is a secret); ``data`` holds the body
    exactly as served for in-memory fetches (transcripts), ``path`` the finished file for `download`.
    """

    url: str
    content_type: str | None
    data: bytes | None = None
    path: Path | None = None


DownloadObserver = Callable[[DownloadEvent], None]
_observers: list[DownloadObserver] = []
_observers_lock = threading.Lock()


def add_download_observer(observer: DownloadObserver) -> None:
    """Call ``observer(DownloadEvent)`` after every successful pre-signed download in this process."""
    with _observers_lock:
        _observers.append(observer)


def remove_download_observer(observer: DownloadObserver) -> None:
    with _observers_lock:
        if observer in _observers:
            _observers.remove(observer)


def _notify(event: DownloadEvent) -> None:
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        try:
            observer(event)
        except Exception:
            logger.exception("download observer failed for %s", event.url)


def _session() -> requests.Session:
    session = getattr(_shared_session, "session", None)
    if session is None:
        session = _shared_session.session = requests.Session()
    return session


def describe_url(url: str) -> str:
    """The URL without its query string (pre-signed signatures are secrets too)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _get(url: str, *, stream: bool, timeout_s: float, session: requests.Session | None) -> requests.Response:
    what = f"GET {describe_url(url)}"
    try:
        response = (session or _session()).get(
            url, stream=stream, timeout=timeout_s, headers={"Accept": "*/*"}
        )
    except requests.RequestException as exc:
        raise TransientError(what, 0, message=type(exc).__name__) from None
    if response.status_code == 200:
        return response
    body = response.text if not stream else response.raw.read(2048, decode_content=True)
    response.close()
    if response.status_code in _EXPIRED_STATUSES:
        err = error_from_response(what, response.status_code, response.headers, body)
        raise MediaUrlExpired(
            what, response.status_code, code=err.code, message="pre-signed URL refused (expired?)"
        )
    err = error_from_response(what, response.status_code, response.headers, body)
    if response.status_code == 429:
        raise _retry_after(what, response)
    if response.status_code in _RETRY_STATUSES:
        raise TransientError(
            what, response.status_code, code=err.code, message=err.message or "retryable status"
        )
    raise err


def _retry_after(what: str, response: requests.Response) -> TransientError:
    err = TransientError(what, 429, message="rate limited")
    err.retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return err


def _with_retries(
    what: str, fn: Callable[[], _T], *, max_retries: int, backoff_s: float, stop: threading.Event | None
) -> _T:
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except TransientError as exc:
            if attempt > max_retries:
                logger.error("%s: giving up after %d attempts: %s", what, attempt, exc)
                raise GenesysUnavailable(what, attempt, exc) from exc
            delay = exc.retry_after or random.uniform(0, backoff_s * 2 ** (attempt - 1))
            logger.warning("%s: attempt %d failed (%s); retrying in %.1fs", what, attempt, exc, delay)
            waiter = stop or threading.Event()
            if waiter.wait(delay):
                raise


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    backoff_s: float = 0.5,
    expected_size: int | None = None,
    session: requests.Session | None = None,
    stop: threading.Event | None = None,
) -> Downloaded:
    """Stream ``url`` into ``dest`` (temp name + rename); returns the final path and size."""
    dest_path = Path(dest)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    part = dest_path.with_name(dest_path.name + ".part")
    what = f"GET {describe_url(url)}"

    def once() -> Downloaded:
        response = _get(url, stream=True, timeout_s=timeout_s, session=session)
        size = 0
        announced = response.headers.get("Content-Length")
        try:
            with open(part, "wb") as fh:
                for chunk in response.iter_content(CHUNK):
                    if stop is not None and stop.is_set():
                        raise TransientError(what, 0, message="download aborted")
                    fh.write(chunk)
                    size += len(chunk)
        except requests.RequestException as exc:
            part.unlink(missing_ok=True)
            raise TransientError(
                what, 0, message=f"connection lost during download ({type(exc).__name__})"
            ) from None
        finally:
            response.close()
        if announced is not None and announced.isdigit() and int(announced) != size:
            part.unlink(missing_ok=True)
            raise TransientError(what, 200, message=f"short download: {size} of {announced} bytes")
        if expected_size is not None and expected_size > 0 and size != expected_size:
            part.unlink(missing_ok=True)
            raise MediaCorrupt(what, 200, message=f"got {size} bytes, recording says {expected_size}")
        os.replace(part, dest_path)
        logger.debug("downloaded %s (%d bytes) to %s", describe_url(url), size, dest_path)
        got = Downloaded(dest_path, size, response.headers.get("Content-Type"))
        if _observers:
            _notify(DownloadEvent(describe_url(url), got.content_type, path=dest_path))
        return got

    try:
        return _with_retries(what, once, max_retries=max_retries, backoff_s=backoff_s, stop=stop)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def fetch_bytes(
    url: str,
    *,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    backoff_s: float = 0.5,
    session: requests.Session | None = None,
    stop: threading.Event | None = None,
) -> bytes:
    """GET a small pre-signed URL into memory, with the same retry/expiry rules.

    Transcript documents come back as these raw bytes, unparsed: real documents are not always
    strict JSON, and the tolerant parser (``transcripts.parse.load_transcript``) is the caller's."""
    what = f"GET {describe_url(url)}"

    def once() -> bytes:
        response = _get(url, stream=False, timeout_s=timeout_s, session=session)
        if _observers:
            _notify(
                DownloadEvent(describe_url(url), response.headers.get("Content-Type"), data=response.content)
            )
        return response.content

    return _with_retries(what, once, max_retries=max_retries, backoff_s=backoff_s, stop=stop)

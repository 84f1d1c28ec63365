"""The HTTP side: a `ThreadingHTTPServer` on 127.0.0.1 serving the route table.

Cross-cutting behaviour lives here: bearer-token checks (401), fault injection (429 with
`Retry-After`, 5xx, slowness, 403 for forbidden paths), `inin-ratelimit-*` and
`ININ-Correlation-Id` headers on every response, `ErrorBody` bodies, the request log and
streaming media files with `sendfile`.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator.cors import CorsPolicy
from simulator.errors import ApiError, error_body, rate_limit_body
from simulator.faults import Faults, corrupt
from simulator.http_api import Request, Response, Route, Router
from simulator.tokens import RATE_WINDOW_S, Token, TokenStore

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received (for test inspection)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int
    time_s: float


class RequestLog:
    """Every request received (the oldest are dropped beyond `limit`, for long CLI runs)."""

    def __init__(self, limit: int = 200_000) -> None:
        self._items: collections.deque[RecordedRequest] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, item: RecordedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _AnonymousWindow:
    """Rate-limit header values for requests without a token (login, downloads)."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self._start = time.time()
        self._count = 0
        self._lock = threading.Lock()

    def count(self) -> tuple[int, int, int]:
        now = time.time()
        with self._lock:
            if now - self._start >= RATE_WINDOW_S:
                self._start, self._count = now, 0
            self._count += 1
            return self._count, self.allowed, max(0, int(self._start + RATE_WINDOW_S - now))


class ApiServer:
    """Owns the listening socket and the request threads."""

    def __init__(
        self,
        router: Router,
        tokens: TokenStore,
        faults: Faults,
        log: RequestLog,
        *,
        port: int = 0,
        on_request: Callable[[RecordedRequest], None] | None = None,
        authorize: Callable[[Route, Token], None] | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        self.router = router
        self.authorize = authorize  # raises ApiError 403 when the token lacks the route's permission
        self.cors = cors or CorsPolicy()
        self.tokens = tokens
        self.faults = faults
        self.log = log
        self._anonymous = _AnonymousWindow(tokens.rate_allowed)
        handler_cls = type("SimHandler", (_Handler,), {"api": self})
        self._httpd = _Server(("127.0.0.1", port), handler_cls)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-http", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def count_anonymous(self) -> tuple[int, int, int]:
        """Rate-limit header values for a request without a token (preflights, login pages)."""
        return self._anonymous.count()

    # -- request processing (runs on the request thread) ---------------------------------
    def process(self, req: Request) -> tuple[Response, tuple[int, int, int]]:
        correlation = str(uuid.uuid4())
        rate = None
        try:
            route, params = self.router.match(req.method, req.path)
            req.params = params
            if route.auth:
                token = self.tokens.check_bearer(req.header("Authorization"))
                req.client_id, req.token, req.user_id = token.client_id, token.value, token.user_id
                rate = self.tokens.count_request(token)
                count, allowed, reset = rate
                if count > allowed and self.faults.enforce_rate_limit:
                    retry = max(1, reset)
                    resp = Response(429, rate_limit_body(retry, correlation), {"Retry-After": str(retry)})
                    return _finish(resp, correlation), rate
                if self.authorize is not None:
                    self.authorize(route, token)
            fault = self.faults.transport_fault(req.path)
            if fault is not None:
                if fault.delay_s:
                    time.sleep(fault.delay_s)
                if fault.status == 429:
                    body = rate_limit_body(fault.retry_after_s, correlation)
                    resp = Response(429, body, {"Retry-After": str(fault.retry_after_s)})
                    return _finish(resp, correlation), rate or self._anonymous.count()
                if fault.status == 403:
                    raise ApiError(
                        403, f"Missing permission to access {req.path}", code="missing.permissions"
                    )
                if fault.status:
                    raise ApiError(fault.status, f"Injected transient failure ({fault.status})")
            result = route.handler(req)
            resp = result if isinstance(result, Response) else Response(200, result)
        except ApiError as err:
            resp = Response(err.status, err.body(correlation), err.headers)
        except Exception:
            logger.exception("simulator handler failed for %s %s", req.method, req.path)
            resp = Response(500, error_body(500, "Internal simulator error", correlation_id=correlation))
        return _finish(resp, correlation), rate or self._anonymous.count()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of parallel clients (workers downloading media) are not refused
    daemon_threads = True


def _finish(resp: Response, correlation: str) -> Response:
    resp.headers.setdefault("ININ-Correlation-Id", correlation)
    return resp


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "GenesysCloudSimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("http %s", format % args)

    def _run(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        req = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True), headers, body)
        origin = req.header("Origin")
        if self.command == "OPTIONS":
            resp = self.api.cors.preflight(origin, req.header("Access-Control-Request-Headers"))
            count, allowed, reset = self.api.count_anonymous()
        else:
            resp, (count, allowed, reset) = self.api.process(req)
            resp.headers.update(self.api.cors.headers(origin))
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body.decode("utf-8", "replace")
        self.api.log.add(
            RecordedRequest(req.method, req.path, req.query, headers, parsed, resp.status, time.time())
        )
        resp.headers["inin-ratelimit-count"] = str(count)
        resp.headers["inin-ratelimit-allowed"] = str(allowed)
        resp.headers["inin-ratelimit-reset"] = str(reset)
        try:
            self._send(resp)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("client went away during %s %s", req.method, req.path)

    def _send(self, resp: Response) -> None:
        if resp.file is not None:
            self._send_file(resp)
            return
        if resp.body is None:
            payload = b""
        elif isinstance(resp.body, bytes | bytearray):
            payload = bytes(resp.body)
        else:
            payload = json.dumps(resp.body, separators=(",", ":")).encode()
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        if payload or resp.status not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _send_file(self, resp: Response) -> None:
        assert resp.file is not None
        size = resp.file.stat().st_size
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with resp.file.open("rb") as fh:
            if not resp.corrupt:
                self.wfile.flush()
                self.connection.sendfile(fh)
                return
            offset = 0
            while chunk := fh.read(CHUNK):
                self.wfile.write(corrupt(chunk, offset))
                offset += len(chunk)

    do_GET = _run
    do_POST = _run
    do_PUT = _run
    do_PATCH = _run
    do_DELETE = _run
    do_HEAD = _run
    do_OPTIONS = _run

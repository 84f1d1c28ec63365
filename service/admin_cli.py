"""``python run.py admin serve [--port N]`` and ``python run.py admin generate [--check]``.

``serve`` serves the admin web app (the static files in ``admin/``) on loopback, for local use, the
demo and the tests. The app reads ``config.json`` next to ``index.html``: a static host ships its own
file; ``serve`` answers it from its options (``--api-url`` and ``--login-url`` point the app at a
Genesys Cloud simulator instead of the region the Client App URL names, ``--client-id`` is the OAuth
client the app signs in with). Every other path is a file below ``admin/`` (nothing outside it).

``generate`` rewrites the files generated from the Python implementation (admin/data/engine.json and
the golden vectors); ``--check`` only reports stale files (exit 1).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ADMIN_DIR = Path(__file__).resolve().parent.parent / "admin"
DEFAULT_PORT = 8760


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="serve|generate")
    serve = sub.add_parser("serve", help="serve the admin web app on loopback")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free port)"
    )
    serve.add_argument(
        "--api-url", default=None, help="Platform API base URL (default: from the region in the URL)"
    )
    serve.add_argument("--login-url", default=None, help="OAuth login base URL (default: from the region)")
    serve.add_argument("--client-id", default=None, help="OAuth client id the app signs in with")
    gen = sub.add_parser("generate", help="regenerate admin/data/engine.json and the golden vectors")
    gen.add_argument("--check", action="store_true", help="only report stale files (exit 1 when any)")


def app_config(
    *,
    api_url: str | None = None,
    login_url: str | None = None,
    client_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``config.json`` the app reads at start-up: ``admin/config.json`` with these overrides."""
    config: dict[str, Any] = json.loads((ADMIN_DIR / "config.json").read_text(encoding="utf-8"))
    if api_url:
        config["apiBaseUrl"] = api_url.rstrip("/")
    if login_url:
        config["loginBaseUrl"] = login_url.rstrip("/")
    if client_id:
        config["clientId"] = client_id
    config.update({k: v for k, v in extra.items() if v is not None})
    return config


class _Handler(SimpleHTTPRequestHandler):
    config_json: bytes = b"{}"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("admin http %s", format % args)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path.split("?", 1)[0] == "/config.json":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.config_json)))
            self.end_headers()
            self.wfile.write(self.config_json)
            return
        super().do_GET()


_Handler.extensions_map = {
    **SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


class AdminServer:
    """The admin app on 127.0.0.1 in a background thread (``with AdminServer(...) as server``)."""

    def __init__(
        self, *, port: int = 0, config: dict[str, Any] | None = None, root: Path = ADMIN_DIR
    ) -> None:
        handler = type("AdminHandler", (_Handler,), {"config_json": json.dumps(config or {}).encode()})
        self._httpd = ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(handler, directory=str(root))
        )
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="admin-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> AdminServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AdminServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(args: argparse.Namespace) -> int:
    if args.action == "generate":
        from service.admin_data import ROOT, stale_files, write_files

        if args.check:
            stale = stale_files()
            for path in stale:
                print(f"stale: {path.relative_to(ROOT)} (run `python run.py admin generate`)")
            return 1 if stale else 0
        for path in write_files():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    config = app_config(api_url=args.api_url, login_url=args.login_url, client_id=args.client_id)
    server = AdminServer(port=args.port, config=config)
    print(f"callexport admin app on {server.url} (Ctrl+C to stop)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0

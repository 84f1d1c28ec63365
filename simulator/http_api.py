"""Request/response values and the route table of the simulated REST API (no sockets here)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import ApiError, bad_request

logger = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    client_id: str = ""  # set once the bearer token is checked
    token: str = ""
    user_id: str | None = None  # the signed-in person of a user token (None: client credentials)

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise bad_request(f"Request body is not valid JSON: {exc}") from exc

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise bad_request("Request body must be a JSON object")
        return data

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, bytes, or None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    file: Path | None = None  # streamed from disk when set
    corrupt: bool = False


Handler = Callable[[Request], Response | dict[str, Any] | list[Any] | None]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler
    auth: bool


class Router:
    """Maps (method, path) to handlers; `{name}` in a template matches one path segment."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        self._routes.append(Route(method.upper(), re.compile(regex), template, handler, auth))

    def wrap(self, method: str, template: str, wrapper: Callable[[Handler], Handler]) -> None:
        """Replace a route's handler by ``wrapper(handler)`` (the replay layers itself this way)."""
        for route in self._routes:
            if route.method == method.upper() and route.template == template:
                route.handler = wrapper(route.handler)
                return
        raise KeyError(f"no route {method} {template}")

    def templates(self) -> list[tuple[str, str]]:
        return [(r.method, r.template) for r in self._routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for a request; ApiError 404 (no such path) or 405 (wrong method)."""
        path_matched = False
        for route in self._routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            path_matched = True
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, {k: _unquote(v) for k, v in m.groupdict().items()}
        if path_matched:
            raise ApiError(405, f"HTTP method {method} is not supported for {path}")
        raise ApiError(404, f"Resource {path} not found", code="not.found")


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)

"""Genesys Cloud error responses: the `ErrorBody` shape and the exception the handlers raise."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_CODES = {
    400: "bad.request",
    401: "authentication.required",
    403: "missing.permissions",
    404: "not.found",
    405: "method.not.allowed",
    409: "conflict",
    413: "request.entity.too.large",
    415: "unsupported.media.type",
    429: "too.many.requests.retry.after",
    500: "internal.server.error",
    502: "bad.gateway",
    503: "service.unavailable",
    504: "gateway.timeout",
}


class ApiError(Exception):
    """Raised by a handler to answer with an `ErrorBody` (and optional extra headers)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        entity_id: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.entity_id = entity_id
        self.headers = dict(headers or {})
        self.details = list(details or [])

    def body(self, correlation_id: str) -> dict[str, Any]:
        return error_body(
            self.status,
            self.message,
            code=self.code,
            correlation_id=correlation_id,
            entity_id=self.entity_id,
            details=self.details,
        )


def error_body(
    status: int,
    message: str,
    *,
    code: str | None = None,
    correlation_id: str,
    entity_id: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `ErrorBody` JSON Genesys Cloud returns with every 4xx/5xx."""
    body: dict[str, Any] = {
        "message": message,
        "code": code or _CODES.get(status, "error"),
        "status": status,
        "messageWithParams": message,
        "messageParams": {},
        "contextId": correlation_id,
        "details": list(details or []),
        "errors": [],
    }
    if entity_id:
        body["entityId"] = entity_id
    return body


def rate_limit_body(retry_after_s: int, correlation_id: str) -> dict[str, Any]:
    """The normalized 429 body (the `ErrorBody` model; docs/genesys.md, rate limits)."""
    return {
        "message": f"Rate limit exceeded the maximum. Retry the request in [{retry_after_s}] seconds",
        "code": "too.many.requests.retry.after",
        "status": 429,
        "contextId": correlation_id,
        "details": [],
        "errors": [],
    }


def not_found(what: str, entity_id: str | None = None) -> ApiError:
    return ApiError(404, f"{what} not found", code="not.found", entity_id=entity_id)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, code="bad.request")

"""The Genesys Cloud paging envelope shared by every `*EntityListing`."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, overload
from urllib.parse import urlencode

from simulator.errors import bad_request

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500


def page_params(query: dict[str, list[str]], default_size: int = 25) -> tuple[int, int]:
    """`pageSize` and `pageNumber` from a query string, validated like the API (400 on nonsense)."""
    try:
        size = int(first(query, "pageSize", str(default_size)))
        number = int(first(query, "pageNumber", "1"))
    except ValueError as exc:
        raise bad_request(f"pageSize and pageNumber must be integers: {exc}") from exc
    if size < 1 or size > MAX_PAGE_SIZE:
        raise bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    if number < 1:
        raise bad_request("pageNumber must be 1 or greater")
    return size, number


@overload
def first(query: dict[str, list[str]], name: str, default: str) -> str: ...


@overload
def first(query: dict[str, list[str]], name: str, default: None = None) -> str | None: ...


def first(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[0] if values else default


def listing(
    items: Sequence[Any],
    path: str,
    query: dict[str, list[str]],
    *,
    default_size: int = 25,
) -> dict[str, Any]:
    """One page of `items` in the `entities/pageSize/pageNumber/total/...Uri/pageCount` envelope."""
    size, number = page_params(query, default_size)
    total = len(items)
    page_count = max(1, math.ceil(total / size)) if total else 0
    start = (number - 1) * size
    entities = list(items[start : start + size])
    extra = {k: v for k, v in query.items() if k not in ("pageSize", "pageNumber")}

    def uri(n: int) -> str:
        params = [("pageSize", str(size)), ("pageNumber", str(n))]
        params += [(k, v) for k, vs in sorted(extra.items()) for v in vs]
        return f"{path}?{urlencode(params)}"

    body: dict[str, Any] = {
        "entities": entities,
        "pageSize": size,
        "pageNumber": number,
        "total": total,
        "firstUri": uri(1),
        "selfUri": uri(number),
        "lastUri": uri(max(page_count, 1)),
        "pageCount": page_count,
    }
    if number < page_count:
        body["nextUri"] = uri(number + 1)
    if number > 1:
        body["previousUri"] = uri(number - 1)
    return body


def name_matches(pattern: str, name: str) -> bool:
    """Genesys `name` filters: case-insensitive, `*` wildcards at either end (anywhere accepted)."""
    import fnmatch

    pattern = pattern.strip().lower()
    name = name.lower()
    if "*" not in pattern:
        return pattern == name
    return fnmatch.fnmatchcase(name, pattern.replace("[", "[[]"))

"""Genesys Cloud regions by name: ``mypurecloud.ie`` -> ``https://api.mypurecloud.ie``.

The list is the official SDK's `PureCloudRegionHosts` (one API host per AWS region). A region is
given by its domain (``mypurecloud.ie``, ``usw2.pure.cloud``), by its AWS name (``eu-west-1`` or
``eu_west_1``), or as an API URL (``https://api.mypurecloud.ie``; any other URL, such as the
simulator's, is used as it is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from genesys.config import login_url_for
from genesys.sdk import sdk

logger = logging.getLogger(__name__)


class UnknownRegion(ValueError):
    """The name is neither a known region nor a URL."""


@dataclass(frozen=True)
class Region:
    name: str  # the domain, e.g. mypurecloud.ie ("" for a URL that is not a known region)
    api_url: str
    login_url: str


def _domain(api_url: str) -> str:
    host = urlsplit(api_url).hostname or ""
    return host[len("api.") :] if host.startswith("api.") else host


REGIONS: dict[str, Region] = {}
ALIASES: dict[str, str] = {}
for _member in sdk.PureCloudRegionHosts:
    _api = _member.get_api_host()
    _region = Region(_domain(_api), _api, login_url_for(_api))
    REGIONS[_region.name] = _region
    ALIASES[_member.name] = _region.name
    ALIASES[_member.name.replace("_", "-")] = _region.name


def names() -> list[str]:
    """The region domains, for prompts and error messages."""
    return list(REGIONS)


def resolve(value: str, login_url: str | None = None) -> Region:
    """A region by domain, AWS name or URL; `UnknownRegion` lists the names when it is none."""
    text = value.strip().rstrip("/")
    if "://" in text:
        domain = _domain(text)
        if domain in REGIONS and urlsplit(text).hostname in (f"api.{domain}", f"apps.{domain}", domain):
            region = REGIONS[domain]
            return Region(region.name, region.api_url, login_url or region.login_url)
        return Region("", text, (login_url or login_url_for(text)).rstrip("/"))
    lowered = text.lower()
    for prefix in ("api.", "apps.", "login."):
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix) :]
    name = ALIASES.get(lowered, lowered)
    if name in REGIONS:
        region = REGIONS[name]
        return Region(region.name, region.api_url, login_url or region.login_url)
    raise UnknownRegion(
        f"{value!r} is not a Genesys Cloud region. Give one of {', '.join(names())}, "
        "an AWS region name such as eu-west-1, or the API URL (https://api.<region>)"
    )

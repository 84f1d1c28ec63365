"""``profiles/schema.json``: the single source of truth for key names, types, enums and defaults."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema document (draft 2020-12) shipped in the package."""
    return json.loads(resources.files("profiles").joinpath("schema.json").read_text(encoding="utf-8"))


def profile_schema() -> dict[str, Any]:
    return schema()["$defs"]["Profile"]


def profile_keys() -> list[str]:
    return list(profile_schema()["properties"])


def profile_defaults() -> dict[str, Any]:
    """``{key: default}`` for every profile key that has one (all but ``Name``)."""
    return {key: spec["default"] for key, spec in profile_schema()["properties"].items() if "default" in spec}


def top_level_defaults() -> dict[str, Any]:
    return {key: spec["default"] for key, spec in schema()["properties"].items() if "default" in spec}


@lru_cache(maxsize=1)
def profile_validator() -> jsonschema.Draft202012Validator:
    root = schema()
    return jsonschema.Draft202012Validator({**profile_schema(), "$defs": root["$defs"]})


@lru_cache(maxsize=1)
def document_validator() -> jsonschema.Draft202012Validator:
    root = dict(schema())
    properties = dict(root["properties"])
    properties["Profiles"] = {"type": "array"}  # profiles are validated one by one
    return jsonschema.Draft202012Validator({**root, "properties": properties})

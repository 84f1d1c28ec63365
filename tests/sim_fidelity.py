"""Fidelity check: a JSON document survives the official SDK's (de)serialisation unchanged.

`assert_sdk_roundtrip(data, "Recording")` deserialises `data` with `PureCloudPlatformClientV2`
exactly as the SDK does for an API response, then walks the document and the model side by side:

* every key of the document is known to the model (the SDK silently drops unknown keys);
* every value survives: enums are in the setter's `allowed_values` with the exact spelling (the SDK
  replaces unknown values by `"outdated_sdk_version"`), strings stay strings, numbers stay numbers,
  datetimes are ISO-8601 UTC strings the SDK parses to the same instant;
* keys the API always sends (`REQUIRED_KEYS`, from the API definition) are present;
* no `null` values (Genesys leaves absent fields out);
* `sanitize_for_serialization` of the model gives the same key set, recursively.

Model names may be wrapped like the SDK's response types: `list[Recording]`,
`dict(str, MediaResult)`.
"""

from __future__ import annotations

import inspect
import logging
import re
from datetime import datetime
from functools import cache
from typing import Any

from PureCloudPlatformClientV2 import ApiClient, models

logger = logging.getLogger(__name__)

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "Queue": ("name",),
    "User": ("version",),
    "Policy": ("name",),
    "Conversation": ("startTime", "participants"),
    "Channel": ("id", "connectUri"),
    "ChannelTopic": ("id",),
    "DataTable": ("name",),
    "ServerDate": ("currentDate",),
    "AnalyticsConversationWithoutAttributes": ("conversationId", "conversationStart", "participants"),
    "Recording": ("id", "conversationId"),
    "RecordingMetadata": ("id", "conversationId"),
    "QueueConversationEventTopicConversation": ("id", "participants"),
    "QueueConversationCallEventTopicCallConversation": ("id", "participants"),
}
"""Keys the API always sends for a model (the Python SDK does not record `required`)."""

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")

_client = ApiClient()


class FidelityError(AssertionError):
    """A document does not match the SDK model it claims to be."""


@cache
def allowed_values(model_name: str, attr: str) -> tuple[str, ...] | None:
    """The enum values the SDK setter accepts for `attr` of `model_name` (None: not an enum)."""
    cls = getattr(models, model_name)
    prop = getattr(cls, attr, None)
    if not isinstance(prop, property) or prop.fset is None:
        return None
    match = re.search(r"allowed_values = \[(.*?)\]", inspect.getsource(prop.fset))
    if not match:
        return None
    return tuple(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1)))


def _deserialize(data: Any, type_name: str) -> Any:
    return _client._ApiClient__deserialize(data, type_name)  # type: ignore[attr-defined]


def _walk(data: Any, value: Any, type_name: str, path: str, errors: list[str]) -> None:
    if data is None:
        errors.append(f"{path}: null value (Genesys omits absent fields)")
        return
    if type_name.startswith("list["):
        inner = type_name[5:-1]
        if not isinstance(data, list):
            errors.append(f"{path}: expected a list ({type_name}), got {type(data).__name__}")
            return
        for i, (d, v) in enumerate(zip(data, value or [], strict=False)):
            _walk(d, v, inner, f"{path}[{i}]", errors)
        return
    if type_name.startswith("dict("):
        inner = re.match(r"dict\(([^,]*), (.*)\)", type_name).group(2)  # type: ignore[union-attr]
        if not isinstance(data, dict):
            errors.append(f"{path}: expected an object ({type_name}), got {type(data).__name__}")
            return
        for k, d in data.items():
            _walk(d, (value or {}).get(k), inner, f"{path}.{k}", errors)
        return
    if type_name == "object":
        return
    if type_name == "datetime":
        if not isinstance(data, str) or not ISO_UTC.match(data):
            errors.append(
                f"{path}: datetime must be an ISO-8601 UTC string like 2026-03-24T14:30:22.123Z, got {data!r}"
            )
            return
        if not isinstance(value, datetime):
            errors.append(f"{path}: SDK could not parse datetime {data!r}")
            return
        expected = datetime.fromisoformat(data.replace("Z", "+00:00"))
        if value != expected:
            errors.append(f"{path}: datetime {data!r} parsed as {value!r}")
        return
    if type_name in ("str", "int", "float", "bool"):
        want = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}[type_name]
        if not isinstance(data, want) or (type_name in ("int", "float") and isinstance(data, bool)):
            errors.append(f"{path}: expected {type_name}, got {type(data).__name__} {data!r}")
        elif value != data:
            errors.append(f"{path}: value {data!r} came back as {value!r}")
        return
    if type_name in ("date", "LocalDateTime", "YearMonth"):
        if not isinstance(data, str):
            errors.append(f"{path}: expected a {type_name} string, got {data!r}")
        return
    # a model
    cls = getattr(models, type_name, None)
    if cls is None:
        errors.append(f"{path}: unknown SDK model {type_name}")
        return
    if not isinstance(data, dict):
        errors.append(f"{path}: expected an object ({type_name}), got {type(data).__name__}")
        return
    instance = cls()
    json_to_attr = {j: a for a, j in instance.attribute_map.items()}
    unknown = sorted(set(data) - set(json_to_attr))
    if unknown:
        errors.append(f"{path}: keys unknown to {type_name}: {unknown}")
    for key in REQUIRED_KEYS.get(type_name, ()):
        if key not in data:
            errors.append(f"{path}: required key {key!r} of {type_name} missing")
    for key, d in data.items():
        attr = json_to_attr.get(key)
        if attr is None:
            continue
        v = getattr(value, attr, None)
        attr_type = instance.swagger_types[attr]
        enum = allowed_values(type_name, attr)
        if enum is not None and attr_type == "str":
            if d not in enum:
                errors.append(f"{path}.{key}: {d!r} is not one of {type_name}.{key} values {list(enum)}")
            continue
        if enum is not None and attr_type == "list[str]" and isinstance(d, list):
            bad = [x for x in d if x not in enum]
            if bad:
                errors.append(f"{path}.{key}: {bad} not in {type_name}.{key} values {list(enum)}")
            continue
        _walk(d, v, attr_type, f"{path}.{key}", errors)


def _key_diff(original: Any, reserialised: Any, path: str, errors: list[str]) -> None:
    if isinstance(original, dict) and isinstance(reserialised, dict):
        if set(original) != set(reserialised):
            lost = sorted(set(original) - set(reserialised))
            added = sorted(set(reserialised) - set(original))
            errors.append(f"{path}: re-serialised keys differ (lost {lost}, added {added})")
        for k in set(original) & set(reserialised):
            _key_diff(original[k], reserialised[k], f"{path}.{k}", errors)
    elif isinstance(original, list) and isinstance(reserialised, list):
        if len(original) != len(reserialised):
            errors.append(f"{path}: list length {len(original)} became {len(reserialised)}")
        for i, (a, b) in enumerate(zip(original, reserialised, strict=False)):
            _key_diff(a, b, f"{path}[{i}]", errors)


def sdk_roundtrip_errors(data: dict | list, model_name: str) -> list[str]:
    """Everything wrong with `data` as an instance of `model_name` (empty list: faithful)."""
    errors: list[str] = []
    try:
        value = _deserialize(data, model_name)
    except Exception as exc:  # the SDK raises ApiException/ValueError on bad values
        return [f"$: SDK failed to deserialise {model_name}: {exc}"]
    _walk(data, value, model_name, "$", errors)
    reserialised = _client.sanitize_for_serialization(value)
    _key_diff(data, reserialised, "$", errors)
    return errors


def assert_sdk_roundtrip(data: dict | list, model_name: str) -> None:
    """Raise `FidelityError` listing every difference between `data` and the SDK model."""
    errors = sdk_roundtrip_errors(data, model_name)
    if errors:
        shown = "\n  ".join(errors[:40])
        more = f"\n  ... and {len(errors) - 40} more" if len(errors) > 40 else ""
        raise FidelityError(f"{model_name} document does not round-trip through the SDK:\n  {shown}{more}")

"""``load_config``: a configuration document → the valid, active profiles plus precise errors."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from jsonschema import ValidationError

from profiles import rules
from profiles.model import Config, ConfigError, ConfigLoadResult, Profile, ProfileError, snake_case
from profiles.schema import document_validator, profile_defaults, profile_validator, top_level_defaults

logger = logging.getLogger(__name__)


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        return str(error.message).split("'")[1] if "'" in error.message else ""
    if error.validator == "additionalProperties":
        instance = error.instance if isinstance(error.instance, dict) else {}  # an object, by this keyword
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        extra = [str(x) for x in instance if x not in (schema.get("properties") or {})]
        return ", ".join(extra)
    return ".".join(path[:1]) + "".join(f"[{p}]" for p in path[1:])


_FORM_HINTS = {
    "Interval": "is not a count and a unit (m, h, d, mo, y), for example '15m', '1h', '1d', '1mo', '1y'",
    "Name": "must contain a non-space character",
}


def _reason_of(error: ValidationError) -> str:
    if error.validator == "pattern":
        key = str(error.absolute_path[0]) if error.absolute_path else ""
        return f"{error.instance!r} {_FORM_HINTS.get(key, 'does not have the expected form')}"
    if error.validator == "additionalProperties":
        return "unknown key (check the spelling; keys are case-sensitive)"
    if error.validator == "enum":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []  # enum: a list
        return f"{error.instance!r} is not one of {', '.join(map(str, allowed))}"
    if error.validator == "required":
        return "required"
    return error.message


def _document(document: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str | bytes | bytearray):
        raise ConfigError(f"the configuration must be a JSON object, not {type(document).__name__}")
    if isinstance(document, bytes | bytearray):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"the configuration is not UTF-8 text: {exc}") from exc
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"the configuration is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(parsed, dict):
        raise ConfigError(f"the configuration must be a JSON object, not {type(parsed).__name__}")
    return parsed


def _label(index: int, raw: Any) -> str:
    name = raw.get("Name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) and name.strip() else f"#{index + 1}"


def _to_profile(doc: dict[str, Any]) -> Profile:
    values: dict[str, Any] = {
        snake_case(key): tuple(value) if isinstance(value, list) else value for key, value in doc.items()
    }
    return Profile(**values)


def load_config(document: str | bytes | dict[str, Any]) -> ConfigLoadResult:
    """Parse and validate a configuration document.

    Returns the valid AND active profiles (``result.config.profiles``) and one ``ProfileError`` per
    problem found (``result.errors``). Invalid profiles are skipped; the others keep working. Raises
    ``ConfigError`` only for a document that cannot be used at all.
    """
    doc = _document(document)
    errors: list[ProfileError] = []
    for error in document_validator().iter_errors(doc):
        errors.append(ProfileError(None, _field_of(error), _reason_of(error)))
    profiles_raw = doc.get("Profiles", top_level_defaults()["Profiles"])
    if not isinstance(profiles_raw, list):
        raise ConfigError(
            f"'Profiles' must be a JSON array of profile objects, not {type(profiles_raw).__name__}"
        )
    reload_interval = doc.get(
        "ConfigReloadIntervalSeconds", top_level_defaults()["ConfigReloadIntervalSeconds"]
    )
    if (
        not isinstance(reload_interval, int)
        or isinstance(reload_interval, bool)
        or not 10 <= reload_interval <= 86400
    ):
        reload_interval = top_level_defaults()["ConfigReloadIntervalSeconds"]

    defaults = profile_defaults()
    candidates: list[tuple[str, dict[str, Any]]] = []
    inactive: list[str] = []
    for index, raw in enumerate(profiles_raw):
        label = _label(index, raw)
        if not isinstance(raw, dict):
            errors.append(
                ProfileError(label, "", f"a profile must be a JSON object, not {type(raw).__name__}")
            )
            continue
        active = raw.get("Active", defaults["Active"])
        if active is False:
            inactive.append(label)
            continue
        structural = [
            ProfileError(label, _field_of(e), _reason_of(e))
            for e in sorted(profile_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
        ]
        if structural:
            errors += structural
            continue
        merged = {**defaults, **raw}
        problems = rules.check(merged)
        if problems:
            errors += [ProfileError(label, key, reason) for key, reason in problems]
            continue
        candidates.append((label, merged))

    # Duplicate names (case-insensitive) among the active profiles: every holder of the name is rejected.
    names = [
        _label(i, raw).strip().casefold()
        for i, raw in enumerate(profiles_raw)
        if isinstance(raw, dict) and raw.get("Active", True) is not False and isinstance(raw.get("Name"), str)
    ]
    duplicated = {name for name, count in Counter(names).items() if count > 1}
    for index, raw in enumerate(profiles_raw):
        label = _label(index, raw)
        if (
            label.strip().casefold() in duplicated
            and isinstance(raw, dict)
            and raw.get("Active", True) is not False
        ):
            count = Counter(names)[label.strip().casefold()]
            errors.append(
                ProfileError(
                    label,
                    "Name",
                    f"duplicate profile name ({count} active profiles are named "
                    f"{label!r}, ignoring case and surrounding spaces); all of them are rejected",
                )
            )
    valid = tuple(
        _to_profile(doc_) for label, doc_ in candidates if label.strip().casefold() not in duplicated
    )
    for error in errors:
        logger.warning("configuration: %s", error)
    if inactive:
        logger.info("configuration: inactive profiles ignored: %s", ", ".join(inactive))
    logger.info("configuration: %d active valid profile(s), %d error(s)", len(valid), len(errors))
    return ConfigLoadResult(Config(reload_interval, valid), errors, tuple(inactive))

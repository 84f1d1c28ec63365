"""Parse, validate and render naming templates.

Syntax: literal text with ``{Placeholder}`` or ``{Placeholder|Function1;Function2(args)}``. ``{{`` and
``}}`` are literal braces. ``/`` and ``\\`` in the literal text separate folders on every platform;
substituted values never do (their separators become ``_``). The rendered result is a tuple of safe
path components (see ``storage.sanitize``): nothing a value contains can leave the destination root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Protocol

from storage.functions import FunctionError, Value, check_call, to_text
from storage.placeholders import placeholder_type
from storage.sanitize import clean_component, clean_literal, clean_value

logger = logging.getLogger(__name__)

_RESULT_TYPE = {"format": "text", "toupper": "text", "tolower": "text", "padleft": "text", "padright": "text"}


class TemplateError(ValueError):
    """A template does not parse, or names an unknown placeholder or function."""


@dataclass(frozen=True)
class Call:
    name: str
    raw_args: str | None


@dataclass(frozen=True)
class Placeholder:
    name: str
    calls: tuple[Call, ...]
    position: int


class _Separator:
    pass


SEPARATOR = _Separator()
Node = str | Placeholder | _Separator


class ValueSource(Protocol):
    """What a template renders from (``storage.context.TemplateContext``)."""

    def value(self, name: str) -> Value:
        """The placeholder's value for this call, or None when the call has none."""
        ...

    def fallback(self, name: str) -> Value:
        """The documented stand-in for a missing value (never None)."""
        ...

    def localize(self, moment: datetime) -> datetime: ...


def _read_args(text: str, start: int) -> tuple[str, int]:
    """Text between '(' at start-1 and its matching ')', honouring quotes and backslash escapes."""
    depth = 1
    i = start
    quote: str | None = None
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            i += 2
            continue
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
        i += 1
    raise TemplateError(f"unclosed '(' in function arguments starting at position {start}")


def _parse_placeholder(text: str, start: int) -> tuple[Placeholder, int]:
    i = start
    while i < len(text) and text[i] not in "|}{":
        i += 1
    if i >= len(text) or text[i] == "{":
        raise TemplateError(f"unclosed '{{' at position {start - 1}")
    name = text[start:i].strip()
    if not name:
        raise TemplateError(f"empty placeholder name at position {start - 1}")
    calls: list[Call] = []
    if text[i] == "|":
        i += 1
        while True:
            j = i
            while j < len(text) and text[j] not in "(;}":
                j += 1
            if j >= len(text):
                raise TemplateError(f"unclosed '{{' at position {start - 1}")
            fname = text[i:j].strip()
            if not fname:
                raise TemplateError(f"empty function name at position {i}")
            raw: str | None = None
            if text[j] == "(":
                raw, j = _read_args(text, j + 1)
                while j < len(text) and text[j] == " ":
                    j += 1
                if j >= len(text) or text[j] not in ";}":
                    raise TemplateError(f"expected ';' or '}}' after {fname}(...) at position {j}")
            calls.append(Call(fname, raw))
            if text[j] == "}":
                i = j
                break
            i = j + 1
    return Placeholder(name, tuple(calls), start - 1), i + 1


@lru_cache(maxsize=512)
def parse(text: str) -> tuple[Node, ...]:
    """The template's nodes: literal strings, placeholders and folder separators."""
    nodes: list[Node] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            nodes.append("".join(literal))
            literal.clear()

    i = 0
    while i < len(text):
        char = text[i]
        if char == "{":
            if text.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            flush()
            placeholder, i = _parse_placeholder(text, i + 1)
            nodes.append(placeholder)
            continue
        if char == "}":
            if text.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            raise TemplateError(f"unexpected '}}' at position {i} (write '}}}}' for a literal brace)")
        if char in "/\\":
            flush()
            nodes.append(SEPARATOR)
        else:
            literal.append(char)
        i += 1
    flush()
    return tuple(nodes)


def validate(text: str) -> list[str]:
    """Every problem of a template as a readable sentence (empty list: the template is valid)."""
    try:
        nodes = parse(text)
    except TemplateError as exc:
        return [str(exc)]
    problems: list[str] = []
    for node in nodes:
        if not isinstance(node, Placeholder):
            continue
        value_type = placeholder_type(node.name)
        if value_type is None:
            problems.append(f"unknown placeholder {{{node.name}}} at position {node.position}")
            continue
        for call in node.calls:
            try:
                spec, _ = check_call(call.name, call.raw_args, value_type)
            except FunctionError as exc:
                problems.append(f"{{{node.name}}}: {exc}")
                break
            key = spec.name.lower()
            value_type = "number" if key == "random" else _RESULT_TYPE.get(key, value_type)
    return problems


def placeholders_used(text: str) -> set[str]:
    return {node.name for node in parse(text) if isinstance(node, Placeholder)}


def _render_placeholder(node: Placeholder, source: ValueSource) -> str:
    value = source.value(node.name)
    calls = [check_call(call.name, call.raw_args, None) for call in node.calls]
    if value is None or value == "":
        default = next((args[0] for spec, args in calls if spec.name == "Default"), None)
        value = default if default is not None else source.fallback(node.name)
    if isinstance(value, datetime):
        value = source.localize(value)
    for spec, args in calls:
        value = spec.apply(value, args)
    return clean_value(to_text(value))


def render(text: str, source: ValueSource) -> tuple[str, ...]:
    """Render a template into safe path components (empty components are dropped)."""
    components: list[str] = []
    current: list[str] = []
    for node in parse(text):
        if isinstance(node, _Separator):  # SEPARATOR
            components.append("".join(current))
            current = []
        elif isinstance(node, Placeholder):
            current.append(_render_placeholder(node, source))
        else:
            current.append(clean_literal(node))
    components.append("".join(current))
    return tuple(clean_component(part) for part in components if part.strip(" ") != "")

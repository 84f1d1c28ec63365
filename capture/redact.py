"""`run.py capture --redact`: consistent placeholders for what identifies people.

One `Redactor` serves a whole capture, so the same number, name or word becomes the same
placeholder in every document (the pipeline still links participants, sessions and transcripts):

* phone numbers (``ani``, ``dnis``, addresses, ``tel:`` and ``sip:`` URIs, callback numbers, and the
  same digits anywhere else) -> ``555`` followed by a counter, same number of digits; a ``sip:`` URI
  keeps its parameters, its user part becomes a placeholder and its host ``redacted.invalid``;
* names (participant names, caller ids, users, recording users, the users a retention policy
  names) -> ``Person N``; the names of queues, flows, wrap-up codes, policies and divisions are
  configuration, not people, and stay wherever they appear (profiles name queues; an acd
  participant is named after its queue);
* e-mail addresses -> ``personN@example.invalid``;
* transcript text (phrase text, decorated text, words, sentiment and topic phrases) -> placeholder
  words ``qxa``, ``qxb``, ... per distinct word; timings, confidences and structure are kept.

Ids (GUIDs), times and numbers that are not phone numbers are kept. `collect` every document
first, then `apply` to each.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

PHONE_KEYS = frozenset(
    {
        "ani",
        "dnis",
        "sessionDnis",
        "address",
        "addressNormalized",
        "addressRaw",
        "addressDisplayable",
        "addressFrom",
        "addressTo",
        "addressSelf",
        "addressOther",
        "remote",
        "callbackNumbers",
        "callerId",
        "toAddress",
        "fromAddress",
        "destinationAddresses",
        "entryReason",
        "transferTargetAddress",
    }
)
NAME_KEYS = frozenset(
    {"participantName", "name", "nameRaw", "remoteNameDisplayable", "callbackUserName", "displayName"}
)
PERSON_NAME_KEYS = frozenset({"name", "username", "displayName"})  # in user documents
TEXT_KEYS = frozenset({"text", "decoratedText", "word", "phrase", "transcriptPhrase", "transcript"})
CONFIG_KEYS = frozenset(
    {"wrapup", "queue", "flow", "division", "divisions", "routingData", "script", "scripts"}
)
"""Objects that name configuration, not people (wrap-up code, queue, flow, division)."""
CONFIG_KINDS = frozenset({"queue", "wrapup-code", "retention-policy"})
"""Documents that are configuration: their names stay; the people they name (a policy's users) do not."""
USER_KEYS = frozenset(
    {"user", "users", "forUsers", "evaluator", "evaluators", "assignee", "createdBy", "modifiedBy"}
)
"""Members whose objects are users (names and e-mail addresses of people)."""
KEPT_NAME_KEYS = frozenset({"queueName", "flowName", "transferTargetName"})
"""Fields whose value is a configuration name; the same text as a participant name stays too."""

_EMAIL = re.compile(r"(?i)(?<![\w.+-])[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_SIP = re.compile(r"(?i)\bsips?:([^@\s;>\"',]+)@([^\s;>\"',]+)")
_DIGITS = re.compile(r"\+?\d[\d\s().-]{4,}\d")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
MIN_NUMBER_DIGITS = 6


class Redactor:
    """Placeholders for one capture; `collect` every document, then `apply`."""

    def __init__(self) -> None:
        self.numbers: dict[str, str] = {}  # digits -> placeholder digits
        self.names: dict[str, str] = {}
        self.emails: dict[str, str] = {}
        self.sip_users: dict[str, str] = {}
        self.words: dict[str, str] = {}
        self.keep: set[str] = set()  # queue, flow and wrap-up code names: configuration, not people

    # -- pass 1: what must go ----------------------------------------------------------------
    def collect(self, kind: str, document: Any) -> None:
        if kind == "profile":
            return
        config = kind in CONFIG_KINDS
        if config and isinstance(document, dict) and isinstance(document.get("name"), str):
            self.keep.add(document["name"])  # configuration names stay (profiles name queues)
        if kind == "user":
            self._collect_user(document)
        self._walk_collect(document, kind, config=config, key="")

    def _collect_user(self, user: Any) -> None:
        if not isinstance(user, dict):
            return
        for key in PERSON_NAME_KEYS:
            if isinstance(user.get(key), str):
                self._name(user[key])

    def _walk_collect(self, value: Any, kind: str, *, config: bool, key: str) -> None:
        if isinstance(value, dict):
            if key in USER_KEYS or "username" in value:  # people, even inside configuration
                self._collect_user(value)
            elif config and isinstance(value.get("name"), str):
                self.keep.add(value["name"])
            for k, item in value.items():
                if k in CONFIG_KEYS:
                    self._walk_collect(item, kind, config=True, key=k)
                    continue
                if isinstance(item, str) and k in KEPT_NAME_KEYS:
                    self.keep.add(item)
                elif (
                    not config
                    and k != "attributes"
                    and k in NAME_KEYS
                    and isinstance(item, str)
                    and (k != "name" or _names_a_party(value))
                ):
                    self._name(item)
                self._walk_collect(item, kind, config=config, key=k)
            return
        if isinstance(value, list):
            for item in value:
                self._walk_collect(item, kind, config=config, key=key)
            return
        if not isinstance(value, str):
            return
        for user, _host in _SIP.findall(value):
            self._sip_user(user)
        for email in _EMAIL.findall(_SIP.sub(" ", value)):  # user@host of a SIP URI is not an e-mail
            self._email(email)
        if key in PHONE_KEYS or value.lower().startswith("tel:"):
            for run in _DIGITS.findall(value):
                self._number(run)
        if kind == "transcript" and key in TEXT_KEYS:
            for word in _WORD.findall(value):
                self._word(word)

    def _number(self, text: str) -> str | None:
        digits = re.sub(r"\D", "", text)
        if len(digits) < MIN_NUMBER_DIGITS:
            return None
        if digits not in self.numbers:
            n = str(len(self.numbers) + 1)
            self.numbers[digits] = ("555" + n.zfill(max(len(digits) - 3, len(n))))[-len(digits) :]
        return self.numbers[digits]

    def _name(self, name: str) -> None:
        name = name.strip()
        if not name or name in self.names or _EMAIL.fullmatch(name):
            return
        if sum(c.isdigit() for c in name) >= MIN_NUMBER_DIGITS and not any(c.isalpha() for c in name):
            self._number(name)  # a caller id that is a number
            return
        self.names[name] = ""  # numbered by `_number_names` once every document is collected

    def _number_names(self) -> None:
        if self.names and not all(self.names.values()):
            people = [n for n in self.names if n not in self.keep]
            self.names = {n: f"Person {i}" for i, n in enumerate(people, 1)}

    def _email(self, email: str) -> None:
        self.emails.setdefault(email.lower(), f"person{len(self.emails) + 1}@example.invalid")

    def _sip_user(self, user: str) -> None:
        if re.fullmatch(r"\+?\d+", user):
            self._number(user)
        else:
            self.sip_users.setdefault(user, f"party-{len(self.sip_users) + 1}")

    def _word(self, word: str) -> None:
        key = word.lower()
        if key not in self.words:
            self.words[key] = _placeholder_word(len(self.words))

    # -- pass 2: replace ----------------------------------------------------------------------
    def apply(self, kind: str, document: Any) -> Any:
        """A redacted copy of ``document`` (the configuration document passes through)."""
        if kind == "profile":
            return copy.deepcopy(document)
        return self._walk_apply(document, kind, key="")

    def _walk_apply(self, value: Any, kind: str, *, key: str) -> Any:
        if isinstance(value, dict):
            return {k: self._walk_apply(v, kind, key=k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk_apply(v, kind, key=key) for v in value]
        if isinstance(value, str):
            return self.text(
                value, transcript=kind == "transcript" and key in TEXT_KEYS, phone=key in PHONE_KEYS
            )
        return value

    def text(self, value: str, *, transcript: bool = False, phone: bool = False) -> str:
        """One string with every known number, name, e-mail address (and transcript word) replaced."""
        if transcript:
            return _WORD.sub(lambda m: self.words.get(m.group(0).lower(), m.group(0)), value)
        out = _SIP.sub(self._sip_sub, value)
        out = _EMAIL.sub(lambda m: self.emails.get(m.group(0).lower(), m.group(0)), out)
        if self.numbers:
            out = _DIGITS.sub(self._number_sub, out)
        self._number_names()
        for name in sorted(self.names, key=len, reverse=True):
            if name in out and name not in self.keep:
                out = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", self.names[name], out)
        if phone:
            digits = re.sub(r"\D", "", out)
            if digits in self.numbers:  # a formatted number the runs above did not catch
                out = ("tel:+" if out.lower().startswith("tel:") else "+") + self.numbers[digits]
        return out

    def _sip_sub(self, match: re.Match[str]) -> str:
        user = match.group(1)
        digits = re.sub(r"\D", "", user)
        if re.fullmatch(r"\+?\d+", user) and digits in self.numbers:
            placeholder = ("+" if user.startswith("+") else "") + self.numbers[digits]
        else:
            placeholder = self.sip_users.get(user, "party")
        scheme = match.group(0).split(":", 1)[0]
        return f"{scheme}:{placeholder}@redacted.invalid"

    def _number_sub(self, match: re.Match[str]) -> str:
        text = match.group(0)
        digits = re.sub(r"\D", "", text)
        if digits not in self.numbers:
            return text
        return ("+" if text.startswith("+") else "") + self.numbers[digits]

    def summary(self) -> dict[str, int]:
        return {
            "phoneNumbers": len(self.numbers),
            "names": len([n for n in self.names if n not in self.keep]),
            "emailAddresses": len(self.emails),
            "sipUsers": len(self.sip_users),
            "transcriptWords": len(self.words),
        }


def _names_a_party(obj: dict[str, Any]) -> bool:
    """Whether an object's ``name`` is a party's: a participant, an address, a user (not a metric,
    a division or an annotation, whose ``name`` is a label)."""
    return bool(
        {"purpose", "participantPurpose", "nameRaw", "addressNormalized", "username", "email"} & set(obj)
    )


def _placeholder_word(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return "qx" + letters

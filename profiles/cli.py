"""``python run.py profiles check FILE [--conversation DETAILS.json [--recordings RECORDINGS.json]]``
and ``python run.py profiles push FILE``.

``check`` validates a configuration document, prints each profile's errors and, for a sample conversation
given in Genesys Cloud's own JSON, the exact path of every file each valid profile would write.
Exit status: 0 all active profiles valid, 1 some invalid, 2 the document or an input cannot be used.

``push`` validates the document the same way, writes it to the configuration Data Table row (creating
the row if missing) and sends the system-queue signal so the running service reloads at once
(``profiles/push.py``). Exit status: 0 pushed, 1 refused (invalid document), 2 cannot reach or write.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from profiles.loader import load_config
from profiles.model import ConfigError, ConfigLoadResult
from profiles.policies import parse_policies
from profiles.preview import preview_files
from profiles.scoping import profile_scope, touched_queue_ids

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="check|push")
    check = sub.add_parser("check", help="validate a configuration document and preview file paths")
    check.add_argument("file", type=Path, help="the configuration JSON document")
    check.add_argument(
        "--conversation",
        type=Path,
        metavar="DETAILS.json",
        help="GET /api/v2/analytics/conversations/{id}/details",
    )
    check.add_argument(
        "--recordings", type=Path, metavar="RECORDINGS.json", help="GET /api/v2/conversations/{id}/recordings"
    )
    check.add_argument(
        "--rest-conversation",
        type=Path,
        metavar="CONVERSATION.json",
        help="GET /api/v2/conversations/{id} (attributes)",
    )
    check.add_argument(
        "--names",
        type=Path,
        metavar="NAMES.json",
        help='{"queues": {id: name}, "users": {id: {"name", "username"}}, "flows": {id: name}}',
    )
    check.add_argument(
        "--policies", type=Path, metavar="POLICIES.json", help="GET /api/v2/recording/mediaretentionpolicies"
    )
    push = sub.add_parser(
        "push", help="validate a document, write it to the Data Table row and signal the service to reload"
    )
    push.add_argument("file", type=Path, help="the configuration JSON document")
    push.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file (default: $CALLEXPORT_SETTINGS or ./callexport.toml)",
    )
    push.add_argument(
        "--no-signal", action="store_true", help="write only; do not send the system-queue signal"
    )


class InputError(Exception):
    pass


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


def _entities(doc: Any, path: Path) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("entities"), list):
        return doc["entities"]
    if isinstance(doc, list):
        return doc
    raise InputError(f"{path}: expected a JSON array or an object with 'entities'")


def _print_validation(path: Path, result: ConfigLoadResult, raw: Any) -> None:
    profiles_raw = raw.get("Profiles", []) if isinstance(raw, dict) else []
    valid = {p.name for p in result.config.profiles}
    print(
        f"{path}: {len(valid)} active profile(s) valid, {len(result.inactive)} inactive, "
        f"{len(result.errors)} error(s); reload every {result.config.reload_interval_seconds} s"
    )
    for error in result.errors_for(None):
        print(f"  [DOCUMENT] {error.field}: {error.reason}")
    seen: set[str] = set()
    for index, raw_profile in enumerate(profiles_raw):
        name = raw_profile.get("Name") if isinstance(raw_profile, dict) else None
        label = name if isinstance(name, str) and name.strip() else f"#{index + 1}"
        if label in seen:
            continue
        seen.add(label)
        errors = result.errors_for(label)
        if errors:
            print(f"[INVALID] {label}")
            for error in errors:
                print(f"    {error.field or '(profile)'}: {error.reason}")
        elif label in valid:
            print(f"[OK] {label}")
        elif label in result.inactive:
            print(f"[INACTIVE] {label} (ignored)")


def _preview(args: argparse.Namespace, result: ConfigLoadResult) -> None:
    details = _read_json(args.conversation, "conversation details")
    if not isinstance(details, dict) or "participants" not in details:
        raise InputError(
            f"{args.conversation} is not an analytics conversation details document (no 'participants')"
        )
    recordings = (
        _entities(_read_json(args.recordings, "recordings"), args.recordings) if args.recordings else None
    )
    conversation = _read_json(args.rest_conversation, "conversation") if args.rest_conversation else None
    names = _read_json(args.names, "names") if args.names else {}
    queue_names = names.get("queues") or {}
    policies = (
        parse_policies(_entities(_read_json(args.policies, "policies"), args.policies))
        if args.policies
        else None
    )
    conversation_id = details.get("conversationId", "?")
    queues = sorted(queue_names.get(q, q) for q in touched_queue_ids(details))
    print()
    print(f"Preview for conversation {conversation_id} (queues touched: {', '.join(queues) or 'none'})")
    if recordings is None:
        print(
            "  (no recordings document: one stand-in recording spanning the call; Recording.* use fallbacks)"
        )
    for profile in result.config.profiles:
        scope = profile_scope(profile, details, queue_names=queue_names, policies=policies)
        if scope.applies:
            scope_text = "in scope"
        elif not queue_names and profile.queues:
            scope_text = "scope not checked (pass --names to map queue ids to names)"
        elif policies is None and profile.retention_policies:
            scope_text = "scope by retention policy not checked (pass --policies)"
        else:
            scope_text = "NOT in scope: this profile would not export this call"
        print(f"\n{profile.name}: {scope_text}")
        for reason in scope.reasons:
            print(f"    - {reason}")
        files = preview_files(
            profile,
            details,
            recordings,
            conversation=conversation,
            queue_names=queue_names,
            user_names=names.get("users") or {},
            flow_names=names.get("flows") or {},
        )
        if not files:
            print("    (no files: nothing matches this profile's filters)")
        for planned in files:
            print(f"    {planned.kind:<10} {planned.path}")
            print(f"    {'':<10} from {planned.source}")


def push_main(args: argparse.Namespace) -> int:
    from profiles.push import PushRefused, push
    from service.cli import load_credentials
    from service.runtime import build_client
    from service.settings import SettingsError, load_settings

    try:
        text = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read configuration {args.file}: {exc.strerror or exc}")
        return 2
    try:
        settings = load_settings(args.settings)
    except SettingsError as exc:
        print(f"error: {exc}")
        return 2
    try:
        credentials = load_credentials(settings)
    except Exception as exc:
        print(f"error: no usable Genesys Cloud credentials: {exc} (see `python run.py credentials set`)")
        return 2
    client = build_client(settings, credentials)
    try:
        result = push(client, settings, text, signal=not args.no_signal)
    except PushRefused as exc:
        print(f"{args.file}: refused: {exc}")
        for error in exc.errors:
            print(f"  {error}")
        return 1
    except Exception as exc:
        print(f"error: could not write the configuration: {exc}")
        return 2
    finally:
        client.close()
    layout = f"{result.parts} part rows" if result.parts else "one cell"
    print(
        f"{args.file}: pushed {result.profiles} profile(s), {result.characters:,} characters ({layout}) "
        f"to data table {settings.datatable!r} row {settings.datatable_row!r}"
    )
    if result.signal_conversation_id:
        print(
            f"signal sent on queue {settings.system_queue!r} (callback {result.signal_conversation_id}): "
            "the running service reloads now"
        )
    elif result.signal_problem:
        print(f"warning: {result.signal_problem}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.action == "push":
        return push_main(args)
    if not logging.getLogger().handlers:  # the report is printed; keep library warnings off the console
        logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        text = args.file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read configuration {args.file}: {exc.strerror or exc}")
        return 2
    try:
        result = load_config(text)
        raw = json.loads(text.decode("utf-8-sig"))
    except ConfigError as exc:
        print(f"{args.file}: unusable configuration: {exc}")
        return 2
    _print_validation(args.file, result, raw)
    if args.conversation:
        try:
            _preview(args, result)
        except InputError as exc:
            print(f"error: {exc}")
            return 2
    elif args.recordings:
        print("note: --recordings is only used together with --conversation")
    return 1 if result.errors else 0

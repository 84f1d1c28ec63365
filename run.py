"""callexport entry point: `python run.py [COMMAND] ...`.

Each sub-command lives in its own module, imported only when it is used, so that
`python run.py simulate` does not pay for the audio stack and a broken optional module
cannot stop the others. A command module provides `add_arguments(parser)` and
`main(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "service": ("service.cli", "run the export service in the foreground (the default)"),
    "demo": ("service.demo", "run the service against the built-in Genesys Cloud simulator"),
    "export": ("service.export_once", "export one conversation now and exit"),
    "status": ("service.status_cli", "what the export ledger says: running, parked, failed, done today"),
    "retry": ("service.retry_cli", "export failed conversations again (the running service picks them up)"),
    "simulate": ("simulator.cli", "run the Genesys Cloud simulator on loopback"),
    "capture": ("capture.cli", "save what the service reads for one conversation (for tests and support)"),
    "profiles": ("profiles.cli", "validate a profile document and preview file paths"),
    "metadata": ("storage.cli", "list the metadata streams or attributes of an exported file"),
    "audio": ("audio.cli", "convert a recording with the service's audio chain"),
    "transcript": ("transcripts.cli", "convert a Genesys Cloud transcript document"),
    "license": ("licensing.cli", "hardware id, license status and the vendor signing tool"),
    "credentials": ("genesys.credentials_cli", "store, show, delete and test the OAuth credentials"),
    "report": ("report.cli", "account for every call of an interval per profile (csv, json, html)"),
    "backfill": ("backfill.cli", "export every call of an interval that a profile takes, exactly once"),
    "admin": ("service.admin_cli", "serve the admin web app; regenerate its engine data and golden vectors"),
    "setup": ("provisioning.cli", "set up Genesys Cloud, credentials, license and service (idempotent)"),
}
DEFAULT_COMMAND = "service"


def version() -> str:
    """The installed distribution's version, else the one in pyproject.toml next to this file."""
    from importlib import metadata

    try:
        return metadata.version("callexport")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


def _usage() -> str:
    lines = ["usage: python run.py [COMMAND] [options]", "", "commands:"]
    lines += [f"  {name:<12} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "`python run.py COMMAND --help` shows a command's options; `--version` the version."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] == "--version":
        print(f"callexport {version()}")
        return 0
    if argv and not argv[0].startswith("-"):
        command, rest = argv[0], argv[1:]
    else:
        command, rest = DEFAULT_COMMAND, argv
    if command not in COMMANDS:
        print(f"run.py: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_text = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"run.py {command}", description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""Service settings: a TOML file (read with the standard library) plus environment variables.

Precedence, highest first: environment variables, the settings file, the defaults below.
Credentials are not read here: `genesys.credentials` finds them (environment, credential
manager, registry, settings file) and says where it found them.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_SETTINGS_FILE = "callexport.toml"


@dataclass(frozen=True)
class Settings:
    """Everything the service needs besides credentials. Each field documents its TOML key and env var."""

    api_url: str = "https://api.mypurecloud.com"  # [genesys] api_url / CALLEXPORT_API_URL
    login_url: str | None = None  # [genesys] login_url / CALLEXPORT_LOGIN_URL (default: derived)
    requests_per_minute: int = 300  # [genesys] requests_per_minute / CALLEXPORT_REQUESTS_PER_MINUTE
    heartbeat_s: float = 30.0  # [genesys] heartbeat_seconds / CALLEXPORT_HEARTBEAT_SECONDS
    datatable: str = "CallExport Configuration"  # [configuration] datatable / CALLEXPORT_DATATABLE
    datatable_row: str = "config"  # [configuration] row / CALLEXPORT_DATATABLE_ROW
    datatable_column: str = "Configuration"  # [configuration] column / CALLEXPORT_DATATABLE_COLUMN
    system_queue: str = "CallExport System"  # [configuration] system_queue / CALLEXPORT_SYSTEM_QUEUE
    state_dir: Path = Path("state")  # [service] state_dir / CALLEXPORT_STATE_DIR
    log_dir: Path = Path("logs")  # [service] log_dir / CALLEXPORT_LOG_DIR
    log_level: str = "INFO"  # [service] log_level / CALLEXPORT_LOG_LEVEL
    max_concurrent_exports: int = 8  # [service] max_concurrent_exports / CALLEXPORT_MAX_CONCURRENT_EXPORTS
    dsp_workers: int = 0  # [service] dsp_workers / CALLEXPORT_DSP_WORKERS (0: one per CPU core)
    status_interval_s: float = 60.0  # [service] status_interval_seconds / CALLEXPORT_STATUS_INTERVAL_SECONDS
    shutdown_timeout_s: float = (
        60.0  # [service] shutdown_timeout_seconds / CALLEXPORT_SHUTDOWN_TIMEOUT_SECONDS
    )
    wrapup_timeout_s: float = 3600.0  # [service] wrapup_timeout_seconds / CALLEXPORT_WRAPUP_TIMEOUT_SECONDS
    transcript_wait_s: float = (
        3600.0  # [service] transcript_wait_seconds / CALLEXPORT_TRANSCRIPT_WAIT_SECONDS
    )
    recording_wait_s: float = 3600.0  # [service] recording_wait_seconds / CALLEXPORT_RECORDING_WAIT_SECONDS
    # [service] transcript_poll_max_seconds / CALLEXPORT_TRANSCRIPT_POLL_MAX_SECONDS: the longest pause between
    # two asks for a transcript that is not there yet (2 s doubling up to this; at most 15 asks per call)
    transcript_poll_max_s: float = 300.0
    # [service] no_recording_after_seconds / CALLEXPORT_NO_RECORDING_AFTER_SECONDS: a call whose recording
    # metadata stays empty this long (and that analytics does not say was recorded) counts as not recorded
    no_recording_after_s: float = 600.0
    # [service] recoverable_horizon_seconds / CALLEXPORT_RECOVERABLE_HORIZON_SECONDS: how long a recoverable
    # failure (share or Genesys Cloud unavailable) is retried before the item fails
    recoverable_horizon_s: float = 86400.0
    # [service] batch_threshold / CALLEXPORT_BATCH_THRESHOLD: when at least this many conversations wait for
    # an export slot, their analytics details are read 100 at a time (one request) instead of one by one;
    # while the API budget sets the pace, waiting live calls start only after such a
    # bulk read (never behind background work); 0 turns both off
    batch_threshold: int = 20
    # [service] prune_after_days / CALLEXPORT_PRUNE_AFTER_DAYS: finished jobs older than this leave the ledger
    prune_after_days: float = 90.0
    # [service] reconcile_lookback_seconds / CALLEXPORT_RECONCILE_LOOKBACK_SECONDS
    reconcile_lookback_s: float = 3600.0
    # [service] reconcile_interval_seconds / CALLEXPORT_RECONCILE_INTERVAL_SECONDS
    reconcile_interval_s: float = 60.0
    # [service] ledger_url / CALLEXPORT_LEDGER_URL: where the export ledger lives: empty for the embedded SQLite
    # file in state_dir (one instance), or postgresql://user@host:port/database for a ledger that several
    # instances share (docs/deployment.md); the password may come from the credential store instead of the URL
    ledger_url: str = ""
    # [service] instance_name / CALLEXPORT_INSTANCE_NAME: this instance's name on a shared ledger (default: the
    # host name); it must stay the same across restarts and differ between instances
    instance_name: str = ""
    # [service] lease_seconds / CALLEXPORT_LEASE_SECONDS: how long an instance's claim on a job, and the
    # leader's role, last without renewal (renewed every third of it); the take-over time when an instance dies
    lease_s: float = 20.0
    # [audio] channel_layout / CALLEXPORT_CHANNEL_LAYOUT: which stereo channel is the agent's: "auto" detects it
    # per recording (a one-side export is refused when the evidence is weak), "default" (customer left) or
    # "swapped" force it
    channel_layout: str = "auto"
    # [backfill] budget_share / CALLEXPORT_BACKFILL_BUDGET_SHARE: the share of requests_per_minute `run.py
    # backfill` may use (its own limiter), so that the running service keeps the rest for live calls
    backfill_budget_share: float = 0.5
    # [backfill] writeback / CALLEXPORT_BACKFILL_WRITEBACK: "attributes" (one request per backfilled call: the
    # participant attributes the duplicate check and the report read) or "full" (also the custom-attributes record)
    backfill_writeback: str = "attributes"
    # [backfill] downloads / CALLEXPORT_BACKFILL_DOWNLOADS: "batch" (batch recording requests, 100 calls per
    # request, when every profile can do without per-call recording metadata; others one by one) or "one-by-one"
    backfill_downloads: str = "batch"
    license_dir: Path | None = (
        None  # [license] directory / CALLEXPORT_LICENSE_DIR (None: the install directory)
    )
    ntp_servers: tuple[str, ...] = ("pool.ntp.org", "time.windows.com")  # [license] ntp_servers
    settings_file: Path | None = field(default=None, compare=False)


# field -> (toml section, toml key, environment variable)
_SOURCES: dict[str, tuple[str, str, str]] = {
    "api_url": ("genesys", "api_url", "CALLEXPORT_API_URL"),
    "login_url": ("genesys", "login_url", "CALLEXPORT_LOGIN_URL"),
    "requests_per_minute": ("genesys", "requests_per_minute", "CALLEXPORT_REQUESTS_PER_MINUTE"),
    "heartbeat_s": ("genesys", "heartbeat_seconds", "CALLEXPORT_HEARTBEAT_SECONDS"),
    "datatable": ("configuration", "datatable", "CALLEXPORT_DATATABLE"),
    "datatable_row": ("configuration", "row", "CALLEXPORT_DATATABLE_ROW"),
    "datatable_column": ("configuration", "column", "CALLEXPORT_DATATABLE_COLUMN"),
    "system_queue": ("configuration", "system_queue", "CALLEXPORT_SYSTEM_QUEUE"),
    "state_dir": ("service", "state_dir", "CALLEXPORT_STATE_DIR"),
    "log_dir": ("service", "log_dir", "CALLEXPORT_LOG_DIR"),
    "log_level": ("service", "log_level", "CALLEXPORT_LOG_LEVEL"),
    "max_concurrent_exports": ("service", "max_concurrent_exports", "CALLEXPORT_MAX_CONCURRENT_EXPORTS"),
    "dsp_workers": ("service", "dsp_workers", "CALLEXPORT_DSP_WORKERS"),
    "status_interval_s": ("service", "status_interval_seconds", "CALLEXPORT_STATUS_INTERVAL_SECONDS"),
    "shutdown_timeout_s": ("service", "shutdown_timeout_seconds", "CALLEXPORT_SHUTDOWN_TIMEOUT_SECONDS"),
    "wrapup_timeout_s": ("service", "wrapup_timeout_seconds", "CALLEXPORT_WRAPUP_TIMEOUT_SECONDS"),
    "transcript_wait_s": ("service", "transcript_wait_seconds", "CALLEXPORT_TRANSCRIPT_WAIT_SECONDS"),
    "recording_wait_s": ("service", "recording_wait_seconds", "CALLEXPORT_RECORDING_WAIT_SECONDS"),
    "transcript_poll_max_s": (
        "service",
        "transcript_poll_max_seconds",
        "CALLEXPORT_TRANSCRIPT_POLL_MAX_SECONDS",
    ),
    "no_recording_after_s": (
        "service",
        "no_recording_after_seconds",
        "CALLEXPORT_NO_RECORDING_AFTER_SECONDS",
    ),
    "recoverable_horizon_s": (
        "service",
        "recoverable_horizon_seconds",
        "CALLEXPORT_RECOVERABLE_HORIZON_SECONDS",
    ),
    "prune_after_days": ("service", "prune_after_days", "CALLEXPORT_PRUNE_AFTER_DAYS"),
    "batch_threshold": ("service", "batch_threshold", "CALLEXPORT_BATCH_THRESHOLD"),
    "reconcile_lookback_s": (
        "service",
        "reconcile_lookback_seconds",
        "CALLEXPORT_RECONCILE_LOOKBACK_SECONDS",
    ),
    "reconcile_interval_s": (
        "service",
        "reconcile_interval_seconds",
        "CALLEXPORT_RECONCILE_INTERVAL_SECONDS",
    ),
    "ledger_url": ("service", "ledger_url", "CALLEXPORT_LEDGER_URL"),
    "instance_name": ("service", "instance_name", "CALLEXPORT_INSTANCE_NAME"),
    "lease_s": ("service", "lease_seconds", "CALLEXPORT_LEASE_SECONDS"),
    "channel_layout": ("audio", "channel_layout", "CALLEXPORT_CHANNEL_LAYOUT"),
    "backfill_budget_share": ("backfill", "budget_share", "CALLEXPORT_BACKFILL_BUDGET_SHARE"),
    "backfill_writeback": ("backfill", "writeback", "CALLEXPORT_BACKFILL_WRITEBACK"),
    "backfill_downloads": ("backfill", "downloads", "CALLEXPORT_BACKFILL_DOWNLOADS"),
    "license_dir": ("license", "directory", "CALLEXPORT_LICENSE_DIR"),
    "ntp_servers": ("license", "ntp_servers", "CALLEXPORT_NTP_SERVERS"),
}


class SettingsError(ValueError):
    """The settings file or an environment variable holds a value that cannot be used."""


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if "Path" in str(kind):
            return Path(str(raw)) if raw not in (None, "") else None
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if "tuple" in str(kind):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(i).strip() for i in items if str(i).strip())
        return None if raw in (None, "") and "None" in str(kind) else str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {name} = {raw!r} is not a valid {kind}") from exc


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the settings file (if it exists) and apply environment overrides."""
    environ = dict(os.environ if environ is None else environ)
    named = path or (Path(environ["CALLEXPORT_SETTINGS"]) if environ.get("CALLEXPORT_SETTINGS") else None)
    if named is not None and not named.exists():
        raise SettingsError(f"settings file {named} does not exist")
    path = named or Path(DEFAULT_SETTINGS_FILE)
    values: dict[str, Any] = {}
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"settings file {path}: {exc}") from exc
    for name, (section, key, env) in _SOURCES.items():
        if key in document.get(section, {}):
            values[name] = _convert(name, document[section][key], f"{path} [{section}] {key}")
        if env in environ:
            values[name] = _convert(name, environ[env], f"environment {env}")
    settings = replace(Settings(), **values, settings_file=path if path.exists() else None)
    if settings.max_concurrent_exports < 1:
        raise SettingsError("max_concurrent_exports must be at least 1")
    if settings.channel_layout not in ("auto", "default", "swapped"):
        raise SettingsError(
            f"[audio] channel_layout = {settings.channel_layout!r}: expected auto, default or swapped"
        )
    if settings.ledger_url and not settings.ledger_url.startswith(("postgresql:", "postgresql+psycopg:")):
        raise SettingsError(
            "[service] ledger_url: expected postgresql://user@host:port/database (or empty for the "
            "SQLite ledger in state_dir)"
        )
    if settings.lease_s < 3:
        raise SettingsError("[service] lease_seconds must be at least 3")
    if not 0.0 < settings.backfill_budget_share <= 1.0:
        raise SettingsError(
            f"[backfill] budget_share = {settings.backfill_budget_share}: expected a share above 0, at most 1"
        )
    if settings.backfill_writeback not in ("attributes", "full"):
        raise SettingsError(
            f"[backfill] writeback = {settings.backfill_writeback!r}: expected attributes or full"
        )
    if settings.backfill_downloads not in ("batch", "one-by-one"):
        raise SettingsError(
            f"[backfill] downloads = {settings.backfill_downloads!r}: expected batch or one-by-one"
        )
    return settings


def dsp_worker_count(settings: Settings) -> int:
    return settings.dsp_workers if settings.dsp_workers > 0 else max(1, os.cpu_count() or 1)


def ledger_location(settings: Settings) -> Path:
    """Where the embedded export ledger lives: `ledger.sqlite3` in the state directory."""
    return settings.state_dir / "ledger.sqlite3"


def instance_name(settings: Settings) -> str:
    """This instance's name on a shared ledger: `instance_name`, or the host name."""
    import socket

    return settings.instance_name or socket.gethostname()

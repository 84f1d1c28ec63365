"""`python run.py demo`: the whole product against the built-in Genesys Cloud simulator.

Starts the simulator on loopback with a ready-made configuration (service/demo_profiles.json:
several profiles showing the main features), runs the real service against it (real HTTP and
WebSocket traffic, real encoders, real files), generates calls and prints one line per exported
file. Stops after `--calls N` conversations are fully handled, or on Ctrl+C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genesys.rest import GenesysClient
    from ledger import Ledger
    from messages.pipeline import FileWritten
    from service.admin_cli import AdminServer
    from service.license_check import LicenseChecker
    from service.runtime import Service
    from service.settings import Settings
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

DEMO_KINDS = (
    "inbound_simple",
    "inbound_hold",
    "consult_transfer",
    "blind_transfer",
    "conference",
    "outbound",
    "multi_recording",
    "mono_pair",
    "no_recording",
    "abandoned",
)
DEMO_QUEUES = ("Support", "Sales", "Billing", "Claims")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calls",
        type=int,
        default=0,
        help="stop after this many calls are handled (default: run until Ctrl+C)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        help="where exported files go (default ./demo-output)",
    )
    parser.add_argument(
        "--calls-per-minute", type=float, default=120.0, help="call generation rate (default 120)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="simulator seed: the same seed gives the same calls"
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up waiting after this many seconds"
    )
    parser.add_argument(
        "--max-call-seconds", type=float, default=240.0, help="longest generated call (default 240 s)"
    )


def demo_document(out: Path) -> dict[str, Any]:
    text = (Path(__file__).with_name("demo_profiles.json")).read_text(encoding="utf-8")
    return json.loads(text.replace("{out}", json.dumps(str(out))[1:-1]))


class FilePrinter:
    """Prints one line per exported file; counts them."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, written: FileWritten) -> None:
        shown: Path | str = written.path or "(no path)"
        if written.path is not None:
            try:
                shown = written.path.relative_to(self.out)
            except ValueError:
                pass
        duration = f", {written.duration_s:5.1f} s" if written.duration_s else ""
        with self.lock:
            self.count += 1
            print(
                f"{written.profile:<20} {written.conversation_id[:8]}  {shown}  ({written.size:,} bytes{duration})",
                flush=True,
            )


def main(args: argparse.Namespace) -> int:
    from genesys.credentials import Credentials
    from ledger import Ledger
    from service.logging_setup import configure_logging
    from service.runtime import (
        Service,
        build_client,
        build_deps,
        install_signal_handlers,
        log_status,
    )
    from service.settings import Settings
    from simulator.app import Simulator

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_file = configure_logging(out / "logs", "INFO", console=False)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger().addHandler(console)

    with Simulator(
        seed=args.seed,
        config_document=demo_document(out),
        details_delay_s=0.5,
        recording_delay_s=0.5,
        transcript_delay_s=2.0,
        event_speed=120.0,
    ) as sim:
        print(
            f"Simulated Genesys Cloud org on {sim.api_url}; files go to {out}; service log {log_file}",
            flush=True,
        )
        admin = start_admin_app(sim)
        settings = Settings(
            api_url=sim.api_url,
            state_dir=out / ".state",
            log_dir=out / "logs",
            status_interval_s=15.0,
            shutdown_timeout_s=60.0,
            transcript_wait_s=30.0,
            recording_wait_s=120.0,
            license_dir=out / ".license",
        )
        client = build_client(settings, Credentials(sim.client_id, sim.client_secret, "simulator"))
        checker = demo_license(settings, client)
        printer = FilePrinter(out)
        deps = build_deps(settings, client, license_checker=checker, on_file_written=printer)
        service = Service(deps)
        install_signal_handlers(service)
        service.start()
        if not wait_for_subscription(service, timeout=30):
            print("The service did not subscribe to the demo queues in time; see the log", file=sys.stderr)
        injected: list[str] = []
        injector = threading.Thread(
            target=inject_calls,
            args=(sim, args, injected, service.stop_requested),
            name="demo-calls",
            daemon=True,
        )
        injector.start()
        started = time.monotonic()
        next_status = started + settings.status_interval_s
        code = 0
        while not service.stop_requested.wait(0.5):
            if time.monotonic() >= next_status:
                log_status(service)
                next_status = time.monotonic() + settings.status_interval_s
            if args.calls and len(injected) >= args.calls and all_handled(deps.ledger, injected):
                break
            if time.monotonic() - started > args.timeout:
                print(
                    f"Timed out after {args.timeout:.0f} s with calls still being exported", file=sys.stderr
                )
                code = 1
                break
        service.stop_requested.set()
        ledger = deps.ledger
        service.drain(settings.shutdown_timeout_s)
        summary = ledger_summary(Ledger(ledger.path or ledger.url), injected)  # drain closed it
        admin.stop()
    print(
        f"Demo finished: {len(injected)} call(s) generated, {printer.count} file(s) written; "
        f"{summary}. Files are in {out}",
        flush=True,
    )
    return code if not service.escalated else 70


def start_admin_app(sim: Simulator) -> AdminServer:
    """The admin web app on loopback, editing the demo's configuration in the simulator (prints its URL)."""
    from service.admin_cli import AdminServer, app_config
    from simulator.oauth_users import ADMIN_PASSWORD, ADMIN_USERNAME

    config = app_config(api_url=sim.api_url, login_url=sim.login_url, client_id=sim.admin_app_client_id)
    admin = AdminServer(config=config).start()
    sim.add_redirect_uri(sim.admin_app_client_id, admin.url)
    print(
        f"Admin app: {admin.url} (sign in as {ADMIN_USERNAME} / {ADMIN_PASSWORD}; "
        "a save reloads the running demo service)",
        flush=True,
    )
    return admin


def demo_license(settings: Settings, client: GenesysClient) -> LicenseChecker | None:
    """A license for this machine signed with the committed demo key (valid against the simulator only)."""
    try:
        from service.license_check import LicenseChecker, ensure_demo_license
    except ImportError:  # licensing not available: run without a license check
        return None
    license_dir = settings.license_dir
    if license_dir is None:  # the demo always sets one
        return None
    ensure_demo_license(license_dir)
    return LicenseChecker(license_dir, api_url=settings.api_url, server_time=client.get_date, ntp_servers=())


def wait_for_subscription(service: Service, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = service.status()
        if status.get("topics") and status.get("websocket") == "connected":
            return True
        time.sleep(0.1)
    return False


def inject_calls(
    sim: Simulator, args: argparse.Namespace, injected: list[str], stop: threading.Event
) -> None:
    kinds = itertools.cycle(DEMO_KINDS)
    queues = itertools.cycle(DEMO_QUEUES)
    interval = 60.0 / max(0.1, args.calls_per_minute)
    while not stop.is_set() and (not args.calls or len(injected) < args.calls):
        kind = next(kinds)
        duration = min(args.max_call_seconds, 30.0 + (len(injected) * 37) % 200)
        call = sim.inject_call(kind=kind, queue_name=next(queues), duration_s=duration)
        injected.append(call.conversation_id)
        stop.wait(interval)


def all_handled(ledger: Ledger, conversation_ids: list[str]) -> bool:
    for conversation_id in conversation_ids:
        job = ledger.job(conversation_id)
        if job is None or job.state not in ("done", "failed"):
            return False
    return True


def ledger_summary(ledger: Ledger, conversation_ids: list[str]) -> str:
    states: dict[str, int] = {}
    for conversation_id in conversation_ids:
        job = ledger.job(conversation_id)
        state = job.state if job else "not seen"
        states[state] = states.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items()))

"""`python run.py simulate`: run the Genesys Cloud simulator on loopback until Ctrl+C.

With `--replay DIR...` it also serves captured conversations (`simulator.replay`); a capture that
cannot be used stops it with exit code 2 and a message naming the file at fault.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="HTTP API port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--ws-port", type=int, default=0, help="notification WebSocket port (0: any free port)"
    )
    parser.add_argument(
        "--calls-per-minute",
        type=float,
        default=None,
        help="calls generated per minute into the named queues (0: none; default 6, or 0 with --replay)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the org and the calls (default 0)")
    parser.add_argument(
        "--event-speed",
        type=float,
        default=20.0,
        help="how much faster than real time a call's events are published (default 20)",
    )
    parser.add_argument("--heartbeat", type=float, default=30.0, help="WebSocket heartbeat period in seconds")
    parser.add_argument("--token-ttl", type=float, default=86_400.0, help="access token lifetime in seconds")
    parser.add_argument(
        "--person-token-ttl",
        type=float,
        default=86_400.0,
        help="lifetime in seconds of tokens issued to people who sign in (default 86400)",
    )
    parser.add_argument(
        "--admin-app-redirect-uri",
        action="append",
        default=[],
        metavar="URI",
        help="redirect URI (exact) registered on the admin app's OAuth clients; repeatable",
    )
    parser.add_argument(
        "--queues", default="", help="comma-separated queue names for the traffic (default: all)"
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=0,
        help="simulate this many past days of calls (ended before today, UTC) with their recordings",
    )
    parser.add_argument(
        "--history-calls-per-day", type=int, default=200, help="calls per past day (default 200)"
    )
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr (default WARNING)")
    parser.add_argument(
        "--replay",
        nargs="+",
        default=[],
        metavar="DIR",
        help="serve these capture directories (run.py capture) for their conversation ids",
    )
    parser.add_argument(
        "--destination-root",
        default=None,
        help="with --replay: set every captured profile's DestinationRoot to this folder",
    )


def main(args: argparse.Namespace) -> int:
    from capture.layout import CaptureError
    from simulator.app import Simulator

    if args.history_days < 0 or args.history_calls_per_day < 0:
        print("simulate: --history-days and --history-calls-per-day must be >= 0", file=sys.stderr)
        return 2

    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    calls_per_minute = args.calls_per_minute
    if calls_per_minute is None:
        calls_per_minute = 0.0 if args.replay else 6.0
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            simulator = Simulator(
                seed=args.seed,
                port=args.port,
                ws_port=args.ws_port,
                event_speed=args.event_speed,
                heartbeat_s=args.heartbeat,
                token_ttl_s=args.token_ttl,
                person_token_ttl_s=args.person_token_ttl,
                admin_app_redirect_uris=list(args.admin_app_redirect_uri),
                history_days=args.history_days,
                history_calls_per_day=args.history_calls_per_day if args.history_days else 0,
                replay=args.replay,
                replay_destination_root=args.destination_root,
            )
        except CaptureError as exc:
            print(f"simulate: cannot replay the capture: {exc}", file=sys.stderr, flush=True)
            return 2
        with simulator as sim:
            print(f"API_URL={sim.api_url}", flush=True)
            print(f"LOGIN_URL={sim.login_url}", flush=True)
            print(f"CLIENT_ID={sim.client_id}", flush=True)
            print(f"CLIENT_SECRET={sim.client_secret}", flush=True)
            print(f"ADMIN_APP_CLIENT_ID={sim.admin_app_client_id}", flush=True)
            print(f"ADMIN_APP_IMPLICIT_CLIENT_ID={sim.admin_app_implicit_client_id}", flush=True)
            print(f"SETUP_CLIENT_ID={sim.setup_client_id}", flush=True)
            print(f"ADMIN_USERNAME={sim.admin.username}", flush=True)
            print(f"ADMIN_PASSWORD={sim.admin.password}", flush=True)
            if len(sim.history):
                days = sim.history.days()
                print(f"HISTORY={len(sim.history)} calls from {days[0]} to {days[-1]}", flush=True)
            if args.replay:
                replayed = ",".join(c.conversation_id for c in sim.replay_book.calls())
                print(f"REPLAYED={replayed}", flush=True)
            queues = [q.strip() for q in args.queues.split(",") if q.strip()] or None
            unknown = [q for q in queues or [] if q not in {x.name for x in sim.org.all_queues()}]
            if unknown:
                print(
                    f"simulate: unknown queue(s) {', '.join(unknown)}; the org has: "
                    f"{', '.join(q.name for q in sim.org.queues)}",
                    file=sys.stderr,
                    flush=True,
                )
                return 2
            if calls_per_minute > 0:
                sim.start_traffic(calls_per_minute, queue_names=queues)
            logger.warning(
                "simulator running on %s with %s calls per minute; Ctrl+C stops it",
                sim.api_url,
                calls_per_minute,
            )
            while not stop.wait(0.5):
                pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    print("simulator stopped", file=sys.stderr, flush=True)
    return 0

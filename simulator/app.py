"""`Simulator`: a loopback Genesys Cloud org for tests, the demo and `python run.py simulate`.

    with Simulator(seed=1, heartbeat_s=1, event_speed=50) as sim:
        call = sim.inject_call(kind="inbound", queue_name="Sales", duration_s=40)
        ...  # point the service at sim.api_url with sim.client_id / sim.client_secret
        sim.wait_until_published(call.conversation_id, timeout=10)

The HTTP API (and `/oauth/token`) is served on `sim.api_url`; the notification WebSocket on
its own loopback port, announced through each channel's `connectUri`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator import (
    api_authorize,
    api_conversations,
    api_oauth_clients,
    api_platform,
    authz,
    bulk,
    documents,
    integrations,
    queue_admin,
    variations,
    views,
)
from simulator import replay as replay_routes
from simulator.callbacks import callback_documents
from simulator.callbacks import disconnect as callback_disconnect
from simulator.channels import ChannelRegistry
from simulator.cors import CorsPolicy
from simulator.customattributes import CustomAttributesStore
from simulator.datatables import CONFIG_TABLE_NAME, DataTableStore, string_schema
from simulator.errors import not_found
from simulator.faults import Faults
from simulator.history import History
from simulator.http_api import Request, Router
from simulator.mediacache import MediaCache
from simulator.model import Call
from simulator.oauth_clients import AuthCodes, LoginSessions, OAuthClient, OAuthClients
from simulator.oauth_users import ADMIN_USERNAME, People, Person, default_people
from simulator.org import Org, Queue, User, default_org
from simulator.recording_variants import apply_variants
from simulator.replay import ReplayBook
from simulator.scenarios import generate_call
from simulator.scheduler import Scheduler
from simulator.server import ApiServer, RecordedRequest, RequestLog
from simulator.signing import UrlSigner
from simulator.state import CallBook, LiveCall, SimConfig, compressed_instant_s
from simulator.tokens import TokenStore
from simulator.traffic import TrafficGenerator
from simulator.websocket import NotificationSocketServer

if TYPE_CHECKING:
    from simulator.analytics_jobs import AnalyticsJobs
    from simulator.recording_batches import RecordingBatches

logger = logging.getLogger(__name__)

CONFIG_COLUMN = "Configuration"
CONFIG_ROW = "config"
SHAPES = {"conversations": "", "calls": ".calls"}
SETUP_REDIRECT_URI = "http://127.0.0.1:53682/oauth/callback"
"""The loopback redirect URI registered by default on the setup command's PKCE client."""


class Simulator:
    """The simulated org with its HTTP and WebSocket servers (started by `start()` / `with`)."""

    def __init__(
        self,
        seed: int = 0,
        *,
        port: int = 0,
        ws_port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_ttl_s: float = 86_400.0,
        heartbeat_s: float = 30.0,
        channel_ttl_s: float = 86_400.0,
        socket_closing_grace_s: float = 60.0,
        details_delay_s: float = 2.0,
        recording_delay_s: float = 1.0,
        transcode_202_count: int = 1,
        transcript_delay_s: float = 3.0,
        media_url_ttl_s: float = 600.0,
        transcript_url_ttl_s: float = 600.0,
        event_speed: float = 20.0,
        archived_fraction: float = 0.0,
        attribute_events: bool = True,
        metadata_delay_s: float = 0.0,
        recording_flag: str = "mixed",
        screen_recording_fraction: float = 0.2,
        screen_transcode_s: float = 3600.0,
        deleted_fraction: float = 0.0,
        error_fraction: float = 0.0,
        restoring_fraction: float = 0.0,
        restore_s: float = 5.0,
        terminated_fraction: float = 0.3,
        rate_limit_allowed: int = 300,
        media_dir: Path | str | None = None,
        config_document: dict[str, Any] | str | None = None,
        org: Org | None = None,
        provisioned: bool = True,
        person_token_ttl_s: float = 86_400.0,
        auth_code_ttl_s: float = 120.0,
        cors_origins: list[str] | None = None,
        admin_app_redirect_uris: list[str] | tuple[str, ...] = (),
        setup_redirect_uris: list[str] | tuple[str, ...] = (SETUP_REDIRECT_URI,),
        history_days: int = 0,
        history_calls_per_day: int = 0,
        suppressed_hold_fraction: float = 0.0,
        swapped_channel_fraction: float = 0.0,
        replay: Iterable[Path | str] = (),
        replay_destination_root: Path | str | None = None,
    ) -> None:
        if event_speed < 1:
            raise ValueError(f"event_speed must be >= 1 (compression factor), got {event_speed}")
        self.seed = seed
        self.config = SimConfig(
            token_ttl_s=token_ttl_s,
            heartbeat_s=heartbeat_s,
            channel_ttl_s=channel_ttl_s,
            socket_closing_grace_s=socket_closing_grace_s,
            details_delay_s=details_delay_s,
            recording_delay_s=recording_delay_s,
            transcode_202_count=transcode_202_count,
            transcript_delay_s=transcript_delay_s,
            media_url_ttl_s=media_url_ttl_s,
            transcript_url_ttl_s=transcript_url_ttl_s,
            event_speed=event_speed,
            archived_fraction=archived_fraction,
            attribute_events=attribute_events,
            metadata_delay_s=metadata_delay_s,
            recording_flag=recording_flag,
            screen_recording_fraction=screen_recording_fraction,
            screen_transcode_s=screen_transcode_s,
            deleted_fraction=deleted_fraction,
            error_fraction=error_fraction,
            restoring_fraction=restoring_fraction,
            restore_s=restore_s,
            terminated_fraction=terminated_fraction,
        )
        self.org: Org = org or default_org(seed)
        # org recording settings drawn per injected call (simulator.recording_variants)
        self.suppressed_hold_fraction = suppressed_hold_fraction
        self.swapped_channel_fraction = swapped_channel_fraction
        if not provisioned:  # an org `python run.py setup` has not touched: no system queue, no table
            self.org = dataclasses.replace(self.org, system_queue=None)
        self.client_id = client_id or f"callexport-sim-{seed}"
        self.client_secret = client_secret or hashlib.sha256(f"sim-secret-{seed}".encode()).hexdigest()[:40]
        self._rng = random.Random(f"simulator-{seed}")
        self._rng_lock = threading.Lock()
        self.faults = Faults(seed)
        self.tokens = TokenStore({self.client_id: self.client_secret}, token_ttl_s, rate_limit_allowed)
        self._init_oauth(
            seed, person_token_ttl_s, auth_code_ttl_s, admin_app_redirect_uris, setup_redirect_uris
        )
        self.channels = ChannelRegistry(channel_ttl_s, lambda: [q.id for q in self.org.all_queues()])
        self.book = CallBook()
        self.bulk = bulk.BulkKnobs()
        """Limits and timings of the bulk endpoints (batch recordings, analytics jobs); settable."""
        self.history = History(self.org, seed)
        """The simulated past (`history.add(days, calls_per_day)`, truth per day and call)."""
        self.book.set_lazy(self.history.live, self.history.pin)
        if history_days and history_calls_per_day:
            self.history.add(history_days, history_calls_per_day)
        self.custom = CustomAttributesStore()
        division = {
            "id": self.org.division_id,
            "name": self.org.division_name,
            "selfUri": f"/api/v2/authorization/divisions/{self.org.division_id}",
        }
        self.datatables = DataTableStore(division)
        self.authz = authz.AuthorizationStore(division)
        self.oauth_clients = api_oauth_clients.OAuthClientStore(self)
        self.authz.listeners.append(self.oauth_clients.refresh_permissions)
        if not provisioned:  # the simulator's own client is an automation admin there, not the service's
            own = self.oauth.get(self.client_id)
            assert own is not None  # registered with the other OAuth clients above
            own.name = "simulator admin automation"
        self.queue_admin = queue_admin.QueueAdmin(self)
        self.integrations = integrations.IntegrationStore()
        self.config_table_id: str | None = None
        if provisioned:
            self.config_table_id = self.datatables.create(
                {
                    "name": CONFIG_TABLE_NAME,
                    "description": "callexport configuration document (JSON in a row)",
                    "schema": string_schema({CONFIG_COLUMN: "string"}),
                },
                table_id=str(uuid.UUID(int=random.Random(f"table-{seed}").getrandbits(128), version=4)),
            ).id
        self.replay_book = ReplayBook()
        self.replay_profiles: list[tuple[Path, str]] = []  # (captured profile.json, its text)
        self.config_from_argument = config_document is not None
        if config_document is not None:
            self.set_config_document(config_document)
        for directory in replay:  # before any socket or directory exists: a bad capture leaks nothing
            self.load_replay(directory, destination_root=replay_destination_root)
        self.signer = UrlSigner()
        self._own_media_dir = media_dir is None
        self.media_dir = (
            Path(media_dir) if media_dir else Path(tempfile.mkdtemp(prefix="callexport-sim-media-"))
        )
        self.media = MediaCache(self.media_dir)
        self.log = RequestLog()
        self.scheduler = Scheduler()
        self.ws = NotificationSocketServer(
            self.channels,
            heartbeat_s=heartbeat_s,
            closing_grace_s=socket_closing_grace_s,
            heartbeats_stopped=lambda: bool(self.faults.stop_heartbeats),
            organization_id=self.org.id,
            port=ws_port,
        )
        self.channels.set_on_removed(self.ws.close_channel)
        self.router = Router()
        api_authorize.register(self.router, self)  # first: /api/v2/users/me before /users/{userId}
        api_platform.register(self.router, self)
        api_conversations.register(self.router, self)
        for module in (authz, api_oauth_clients, queue_admin, integrations):
            module.register(self.router, self)
        self.recording_batches: RecordingBatches | None = None  # set by bulk.register
        self.analytics_jobs: AnalyticsJobs | None = None
        bulk.register(self.router, self)
        replay_routes.install(self.router, self)
        self.http = ApiServer(
            self.router,
            self.tokens,
            self.faults,
            self.log,
            port=port,
            authorize=api_authorize.permission_check(self),
            cors=CorsPolicy(cors_origins),
        )
        self.faults.install_action("drop_websockets", self.ws.drop_all)
        self.faults.install_action("send_socket_closing", self.ws.send_socket_closing)
        self.faults.install_action("send_system_message", self.ws.send_system_message)
        self.faults.install_action("revoke_tokens", self._revoke_tokens)
        self._callbacks: dict[str, Any] = {}  # conversation id -> CallbackDocuments
        self._traffic: TrafficGenerator | None = None
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Simulator:
        if not self._started:
            self.http.start()
            self.ws.start()
            self.scheduler.start()
            self._started = True
            logger.info(
                "simulator listening on %s (WebSocket %s), org %s",
                self.api_url,
                self.ws.base_url,
                self.org.name,
            )
        return self

    def close(self) -> None:
        self.stop_traffic()
        if self._started:
            self.scheduler.stop()
            self.ws.stop()
            self.http.stop()
            self._started = False
        if self.analytics_jobs is not None:
            self.analytics_jobs.close()
        self.media.close()
        if self._own_media_dir:
            shutil.rmtree(self.media_dir, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def api_url(self) -> str:
        return self.http.base_url

    @property
    def login_url(self) -> str:
        return self.http.base_url

    @property
    def ws_url(self) -> str:
        return self.ws.base_url

    # -- people and OAuth clients (sign-in with authorization code + PKCE or implicit grant) ---------
    def _init_oauth(
        self,
        seed: int,
        person_token_ttl_s: float,
        auth_code_ttl_s: float,
        admin_app_redirect_uris: list[str] | tuple[str, ...],
        setup_redirect_uris: list[str] | tuple[str, ...],
    ) -> None:
        self.person_token_ttl_s = float(person_token_ttl_s)
        """Lifetime of tokens issued to people (clients without their own `token_ttl_s`); settable."""
        self.people: People = default_people(seed)
        self.oauth = OAuthClients(seed)
        self.auth_codes = AuthCodes(auth_code_ttl_s)
        self.login_sessions = LoginSessions()
        self.oauth.register(
            "callexport service",
            "CLIENT-CREDENTIALS",
            client_id=self.client_id,
            secret=self.client_secret,
            token_ttl_s=None,
        )
        self.admin_app_client_id = self.register_oauth_client(
            "callexport admin app", "CODE", admin_app_redirect_uris
        ).id
        self.admin_app_implicit_client_id = self.register_oauth_client(
            "callexport admin app (implicit)", "TOKEN", admin_app_redirect_uris
        ).id
        self.setup_client_id = self.register_oauth_client("callexport setup", "CODE", setup_redirect_uris).id

    def register_oauth_client(
        self,
        name: str,
        grant_type: str = "CODE",
        redirect_uris: list[str] | tuple[str, ...] = (),
        *,
        client_id: str | None = None,
        secret: str | None = None,
        permissions: list[str] | None = None,
        token_ttl_s: float | None = None,
    ) -> OAuthClient:
        """Add an OAuth client: `grant_type` CODE (authorization code, with or without PKCE), TOKEN
        (implicit) or CLIENT-CREDENTIALS; `permissions` of client-credentials tokens (None: all)."""
        client = self.oauth.register(
            name,
            grant_type,
            redirect_uris,
            client_id=client_id,
            secret=secret,
            permissions=permissions,
            token_ttl_s=token_ttl_s,
        )
        self.tokens.add_client(client.id, client.secret)
        return client

    def add_redirect_uri(self, client_id: str, uri: str) -> None:
        """Register one more redirect URI (exact match) on a client, e.g. the admin app's URL."""
        self.oauth.add_redirect_uri(client_id, uri)

    def add_person(
        self, username: str, password: str, permissions: list[str] | tuple[str, ...] = (), **kw: Any
    ) -> Person:
        """Add someone who can sign in; `permissions` like `routing:queue:view` (`*` segments match all)."""
        return self.people.add(username, password, permissions, **kw)

    @property
    def admin(self) -> Person:
        """The default administrator (every permission)."""
        person = self.people.by_username(ADMIN_USERNAME)
        assert person is not None
        return person

    def issue_person_token(
        self, username: str, client_id: str | None = None, ttl_s: float | None = None
    ) -> str:
        """A person's access token without the browser flow (for tests that do not test sign-in)."""
        person = self.people.by_username(username)
        if person is None:
            raise KeyError(f"no person {username!r}")
        cid = client_id or self.admin_app_client_id
        return self.tokens.issue(
            cid, user_id=person.id, ttl_s=self.person_token_ttl_s if ttl_s is None else ttl_s
        ).value

    def all_users(self) -> list[User]:
        """Every user of the org: the agents and the people who can sign in."""
        return list(self.org.users) + [p.user for p in self.people.all()]

    # -- calls ------------------------------------------------------------------------------------
    def _draw_seed(self) -> int:
        with self._rng_lock:
            return self._rng.getrandbits(63)

    def generate(
        self,
        *,
        end_ms: int,
        kind: str | None = None,
        queue_name: str | None = None,
        duration_s: float | None = None,
        seed: int | None = None,
    ) -> Call:
        """Generate one call (no scheduling): the same seed and kind give the same call."""
        return generate_call(
            self.org,
            random.Random(seed if seed is not None else self._draw_seed()),
            end_ms=end_ms,
            kind=kind,
            duration_s=duration_s,
            queue_name=queue_name,
        )

    def inject_call(
        self,
        kind: str | None = None,
        queue_name: str | None = None,
        duration_s: float | None = None,
        *,
        ended_ago_s: float | None = None,
        hold_recording: str | None = None,
        channel_layout: str | None = None,
        flow_queue_recording: str | None = None,
        **overrides: Any,
    ) -> Call:
        """Create a call now and schedule its events and document availability; returns at once.

        The call's events are published over `(last state change - start) / event_speed`
        seconds of real time starting now. With `ended_ago_s` the call is history instead: it
        ended that long ago, publishes no events and every document is available at once.
        `overrides` replace fields of the generated `Call` (e.g. `transcript_available=False`).
        `hold_recording` (`recorded`/`suppressed`), `channel_layout` (`standard`/`swapped`/`mixed`) and
        `flow_queue_recording` (`recorded`/`suppressed`) force the org's recording settings for this
        call (`simulator.recording_variants`); by default the first two are drawn with
        `suppressed_hold_fraction` and `swapped_channel_fraction`, the third is as generated.
        """
        seed = self._draw_seed()
        now_ms = int(time.time() * 1000)
        probe = self.generate(
            end_ms=now_ms, kind=kind, queue_name=queue_name, duration_s=duration_s, seed=seed
        )
        span_ms = probe.last_event_ms() - probe.start_ms
        tail_ms = probe.last_event_ms() - probe.end_ms
        if ended_ago_s is not None:
            end_ms = now_ms - int(ended_ago_s * 1000) - tail_ms
        else:
            end_ms = now_ms + int(span_ms / self.config.event_speed) - tail_ms
        call = self.generate(
            end_ms=end_ms, kind=kind, queue_name=queue_name, duration_s=duration_s, seed=seed
        )
        call = apply_variants(
            call,
            random.Random(seed ^ 0x1A70),
            hold_recording=hold_recording,
            channel_layout=channel_layout,
            flow_queue_recording=flow_queue_recording,
            suppressed_hold_fraction=self.suppressed_hold_fraction,
            swapped_channel_fraction=self.swapped_channel_fraction,
        )
        if overrides:
            call = dataclasses.replace(call, **overrides)
        self._schedule(call, seed, history=ended_ago_s is not None)
        return call

    def _schedule(self, call: Call, seed: int, *, history: bool) -> LiveCall:
        cfg = self.config
        last_ms = call.last_event_ms()
        if history:
            now = time.time()
            disconnect_s = last_s = now
        else:
            disconnect_s = compressed_instant_s(call.end_ms, last_ms, cfg.event_speed)
            last_s = last_ms / 1000.0
        rng = random.Random(seed ^ 0x5EED)
        live = LiveCall(
            call=call,
            seed=seed,
            disconnect_s=disconnect_s,
            last_event_s=last_s,
            details_s=last_s + (0 if history else cfg.details_delay_s),
            recordings_s=disconnect_s + (0 if history else cfg.recording_delay_s),
            transcript_s=disconnect_s + (0 if history else cfg.recording_delay_s + cfg.transcript_delay_s),
            archived=rng.random() < cfg.archived_fraction,
        )
        variations.apply_to_live(live, cfg, history=history)
        self.book.add(live)
        if history or not any(documents.queue_entered_ms(call, q) is not None for q in call.queue_ids()):
            live.done.set()
            return live
        instants = documents.event_instants(call, rng)
        live.events_total = len(instants)
        for qid in call.queue_ids():
            entered = documents.queue_entered_ms(call, qid)
            if entered is not None:
                live.queue_entered_ms[qid] = entered
                live.queue_snapshots[qid] = sum(1 for t in instants if t >= entered)
        when = 0.0
        for i, at_ms in enumerate(instants):
            when = max(when, compressed_instant_s(at_ms, last_ms, cfg.event_speed))
            final = i == len(instants) - 1
            self.scheduler.at(when, functools.partial(self._publish, live, at_ms, final))
        logger.info(
            "simulator scheduled %s call %s in %s: %d events over %.1f s",
            call.kind,
            call.conversation_id,
            call.queue_name,
            len(instants),
            max(0.0, when - time.time()),
        )
        return live

    def queue_topics(self, live: LiveCall, at_ms: int) -> list[tuple[str, str]]:
        """(topic, shape) pairs the snapshot at `at_ms` is published on: the topics of every queue
        the conversation had reached by then."""
        return [
            (f"v2.routing.queues.{qid}.conversations{suffix}", shape)
            for qid, entered in live.queue_entered_ms.items()
            if at_ms >= entered
            for shape, suffix in SHAPES.items()
        ]

    def _publish(self, live: LiveCall, at_ms: int, final: bool) -> None:
        try:
            attributes = self.book.attributes(live.conversation_id)
            bodies: dict[str, dict[str, Any]] = {}
            for topic, shape in self.queue_topics(live, at_ms):
                if not self.channels.subscribers(topic):
                    continue
                if shape not in bodies:
                    bodies[shape] = views.queue_event(live, self.org, at_ms, shape, attributes)
                self.ws.publish(topic, bodies[shape])
            live.events_published += 1
        finally:
            if final:
                live.done.set()

    def on_attributes_written(self, live: LiveCall) -> None:
        """A participant attributes PATCH: publish a fresh snapshot (as the platform does)."""
        if not self.config.attribute_events or not live.done.is_set():
            return
        at_ms = min(int(time.time() * 1000), live.call.last_event_ms())
        self.scheduler.at(time.time(), lambda: self._publish(live, at_ms, False))

    def start_traffic(self, calls_per_minute: float, *, queue_names: list[str] | None = None) -> None:
        """Generate calls continuously at `calls_per_minute` into the org's queues."""
        self.stop_traffic()
        names = queue_names or [q.name for q in self.org.queues]
        self._traffic = TrafficGenerator(
            lambda: self.inject_call(queue_name=self._pick(names)), calls_per_minute, seed=self.seed
        )
        self._traffic.start()

    def _pick(self, names: list[str]) -> str:
        with self._rng_lock:
            return self._rng.choice(names)

    def stop_traffic(self) -> None:
        if self._traffic is not None:
            self._traffic.stop()
            self._traffic = None

    # -- replay of captured conversations -----------------------------------------------------------
    def load_replay(
        self,
        directory: Path | str,
        *,
        destination_root: Path | str | None = None,
        keep_status_attributes: bool = False,
    ) -> str:
        """Serve a capture directory (`run.py capture`) for its conversation id; returns that id.

        Its configuration document goes into the configuration table (merged with those of captures
        loaded before; a `config_document` given to the simulator wins), the profiles' DestinationRoots
        moved below `destination_root` when given. Status attributes of an earlier export are left
        out of the conversation unless `keep_status_attributes`. Raises
        `capture.layout.CaptureError` naming the file when the capture is unusable."""
        return replay_routes.load(
            self,
            directory,
            destination_root=destination_root,
            keep_status_attributes=keep_status_attributes,
        ).conversation_id

    # -- callbacks on the system queue --------------------------------------------------------------
    def create_callback(self, queue: Queue, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /api/v2/conversations/callbacks`: a callback conversation and its queue event."""
        docs = callback_documents(self.org, queue, body, int(time.time() * 1000))
        cid = docs.conversation["id"]
        self._callbacks[cid] = docs
        topic = f"v2.routing.queues.{queue.id}.conversations"

        def publish() -> None:
            self.ws.publish(topic, docs.event)
            self.ws.publish(topic + ".callbacks", docs.event)

        self.scheduler.at(time.time(), publish)
        logger.info("simulator created callback conversation %s on queue %s", cid, queue.name)
        return docs.response

    def callback_conversation(self, conversation_id: str) -> dict[str, Any] | None:
        docs = self._callbacks.get(conversation_id)
        return None if docs is None else docs.conversation

    def callback_details(self, conversation_id: str) -> dict[str, Any] | None:
        """Analytics details of a callback conversation (sessions of ``mediaType: "callback"``)."""
        docs = self._callbacks.get(conversation_id)
        return None if docs is None else docs.details

    def disconnect_callback(self, conversation_id: str) -> dict[str, Any]:
        """`PATCH /api/v2/conversations/callbacks/{id}` with ``state: disconnected``: every
        participant ends, the final snapshot is published on the queue's topic."""
        docs = self._callbacks[conversation_id]
        if not docs.disconnected:
            docs = callback_disconnect(docs, int(time.time() * 1000))
            self._callbacks[conversation_id] = docs
            queue_id = next(p["queueId"] for p in docs.event["participants"] if p.get("queueId"))
            topic = f"v2.routing.queues.{queue_id}.conversations"
            event = docs.event
            self.scheduler.at(time.time(), lambda: self.ws.publish(topic, event))
            logger.info("simulator callback conversation %s disconnected", conversation_id)
        return docs.conversation

    @property
    def callbacks(self) -> dict[str, dict[str, Any]]:
        """Callback conversations created through the API (REST `Conversation` documents, as now)."""
        return {cid: docs.conversation for cid, docs in self._callbacks.items()}

    # -- URLs ------------------------------------------------------------------------------------------
    def media_url(self, conversation_id: str, recording_id: str, format_id: str) -> str:
        ttl = 0.0 if self.faults.expire_media_urls else self.config.media_url_ttl_s
        return self.signer.sign(self.api_url, f"/media/{conversation_id}/{recording_id}/{format_id}", ttl)

    def transcript_url(self, conversation_id: str, communication_id: str, part: int = 0) -> str:
        """Pre-signed URL of part `part` of a communication's transcript (part 0: the plain path)."""
        ttl = 0.0 if self.faults.expire_media_urls else self.config.transcript_url_ttl_s
        path = f"/transcripts/{conversation_id}/{communication_id}" + (f"/{part}" if part else "")
        return self.signer.sign(self.api_url, path, ttl)

    def annotation_rng(self) -> random.Random:
        """A generator for per-request hold annotation ids (random per request, like the real API)."""
        return random.Random(self._draw_seed())

    def _revoke_tokens(self) -> int:
        return self.tokens.revoke_all()

    def subject_of(self, request: Request) -> dict[str, str]:
        """Who made an authenticated request: the person who signed in, else the OAuth client."""
        user_id = getattr(request, "user_id", None)
        if user_id:
            person = self.people.by_id(user_id)
            return {"id": user_id, "name": person.user.name if person else user_id, "kind": "person"}
        client = self.oauth.get(request.client_id)
        return {
            "id": request.client_id,
            "name": client.name if client else request.client_id,
            "kind": "client",
        }

    # -- inspection for tests -----------------------------------------------------------------------
    @property
    def calls(self) -> dict[str, Call]:
        """Conversation id → the full truth of every call generated in this run."""
        return self.book.truth()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request received so far (method, path, query, headers, JSON body, status)."""
        return self.log.snapshot()

    @property
    def socket_frames(self) -> list[tuple[str, str]]:
        """Every text frame clients sent on notification sockets, as (channel id, text)."""
        return list(self.ws.received)

    def live(self, conversation_id: str) -> LiveCall:
        live = self.book.get(conversation_id)
        if live is None:
            raise KeyError(f"no call {conversation_id!r} in this simulator")
        return live

    def participant_attributes(self, conversation_id: str) -> dict[str, dict[str, str]]:
        """Participant id → attributes written through the API for one conversation."""
        replayed = self.replay_book.get(conversation_id)
        if replayed is not None:
            return replayed.attributes()
        return self.book.attributes(conversation_id)

    def custom_attributes(self, conversation_id: str) -> list[dict[str, Any]]:
        """The custom attribute records written for one conversation (`CustomAttributes` documents)."""
        return [r.document() for r in self.custom.records(conversation_id)]

    def _config_table(self) -> str:
        """The configuration data table's id (404 like an unknown table when not provisioned)."""
        if self.config_table_id is None:
            raise not_found("Data table (the configuration table: the simulator is not provisioned)")
        return self.config_table_id

    def datatable_rows(self, table_id: str | None = None) -> list[dict[str, Any]]:
        return self.datatables.rows(table_id or self._config_table())

    def set_datatable_row(self, row: dict[str, Any], table_id: str | None = None) -> dict[str, Any]:
        """Insert or replace a row (by `key`) in a data table (default: the configuration table)."""
        return self.datatables.set_row(table_id or self._config_table(), row)

    def set_config_document(self, document: dict[str, Any] | str, row_key: str = CONFIG_ROW) -> None:
        """Store the service's JSON configuration document in the configuration data table, in the
        layout callexport writes (profiles/table_layout.py: one cell, or parts rows and a manifest)."""
        from profiles import table_layout

        text = document if isinstance(document, str) else json.dumps(document)
        table_layout.store(_TableRows(self.datatables, self._config_table()), row_key, text)

    def config_document(self, row_key: str = CONFIG_ROW) -> str:
        """The configuration document as stored now (parts joined), for test assertions."""
        from profiles import table_layout

        rows = {r["key"]: r.get(CONFIG_COLUMN) for r in self.datatables.rows(self._config_table())}
        head = rows[row_key]
        if head is None:
            raise KeyError(f"configuration row {row_key!r} has no {CONFIG_COLUMN!r} value")
        return table_layout.read(row_key, head, rows)

    def delay_transcript(self, conversation_id: str, extra_s: float) -> None:
        """Speech analytics delivers this call's transcript `extra_s` seconds later than configured
        (real platforms deliver transcripts from seconds to many minutes after the call)."""
        live = self.book.get(conversation_id)
        if live is None:
            raise KeyError(f"no call {conversation_id}")
        live.transcript_s += max(0.0, float(extra_s))

    def wait_until_published(self, conversation_id: str, timeout: float = 30.0) -> bool:
        """Block until every event of the call has been published."""
        return self.live(conversation_id).done.wait(timeout)

    def wait_until_available(
        self, conversation_id: str, what: str = "details", timeout: float = 60.0
    ) -> bool:
        """Block until `details`, `recordings` or `transcript` of a call is available."""
        live = self.live(conversation_id)
        at = {"details": live.details_s, "recordings": live.recordings_s, "transcript": live.transcript_s}[
            what
        ]
        delay = at - time.time()
        if delay > timeout:
            return False
        if delay > 0:
            time.sleep(delay)
        return True


class _TableRows:
    """`profiles.table_layout.RowStore` over one simulated data table (the configuration column)."""

    def __init__(self, store: DataTableStore, table_id: str) -> None:
        self.store, self.table_id = store, table_id

    def keys(self) -> list[str]:
        return [r["key"] for r in self.store.rows(self.table_id)]

    def upsert(self, key: str, value: str) -> None:
        self.store.set_row(self.table_id, {"key": key, CONFIG_COLUMN: value})

    def delete(self, key: str) -> None:
        self.store.delete_row(self.table_id, key)

"""`GenesysClient`: the REST calls callexport makes, with token, rate limit and retries.

Requests are described through the official SDK (``PureCloudPlatformClientV2``: paths, query
names, serialisation) wherever it serves, but every request goes out through one transport of
ours (a `requests.Session` with timeouts), plugged into the SDK's ``ApiClient`` with
``set_http_client``. That transport adds the bearer token, takes a slot from the shared rate
limiter, reads the ``inin-ratelimit-*`` headers, maps error responses to `genesys.errors` and
keeps the raw response per thread. The methods return the **raw Genesys JSON** (plain dicts and
lists exactly as the API sent them; SDK models would drop fields they do not know and reformat
dates). Calls the SDK does not serve well (recordings with their 202 status, the transcript URL)
use the same transport directly.

Thread-safe: one `GenesysClient` may be used from many helper threads at once. The SDK's
``Configuration`` is a process-wide singleton (``@singleton``) but host, token and HTTP client
live on each ``ApiClient``, so several clients for different hosts coexist in one process.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import requests
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception, stop_after_attempt

from .auth import AccessTokens, TokenProvider
from .config import ClientConfig
from .errors import (
    AuthenticationFailed,
    BadRequest,
    ClientClosed,
    GenesysError,
    GenesysUnavailable,
    NotFound,
    RateLimited,
    TransientError,
    Unauthorized,
    error_from_response,
)
from .ratelimit import Priority, RateLimiter, limiter_for
from .sdk import sdk

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 100
ID_PREDICATES = 100
"""Conversation ids per synchronous details query (one predicate each; the limit is unconfirmed, so a
400 naming predicates halves it)."""
DETAILS_PAGE_SIZE = 100
DETAILS_MAX_RESULTS = 10_000
"""The synchronous details query returns at most 10,000 conversations (developercenter-tutorials)."""
BATCH_MAX_ITEMS = 100
"""`BatchDownloadJobSubmission.batchDownloadRequestList`: "List of up to 100 items requested" (SDK)."""


@dataclass(frozen=True)
class Pending:
    """202 Accepted: Genesys is still preparing the media (transcoding)."""

    estimated_ms: int | None = None
    body: Any = None


@dataclass(frozen=True)
class ApiResponse:
    """One response as the client received it, for observers (`add_observer`; `run.py capture`).

    Carries no header, token or secret: ``endpoint`` is the template the client names the request by
    (``"GET /api/v2/conversations/{conversationId}"``), ``path`` and ``query`` what was asked,
    ``body`` the JSON exactly as sent (``None`` when empty or not JSON).
    """

    method: str
    endpoint: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any


ResponseObserver = Callable[[ApiResponse], None]


class _SdkResponse:
    """What the SDK expects from an HTTP client (the shape of its ``RESTResponse``)."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.reason = response.reason
        self.data = response.text
        self._headers = response.headers

    def getheaders(self) -> Mapping[str, str]:
        return self._headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name, default)


_HttpClient: Any = sdk.abstract_http_client.AbstractHttpClient  # the SDK's transport interface


class _Transport(_HttpClient):
    def __init__(self, client: GenesysClient) -> None:
        super().__init__()
        self._client = client

    def request(self, http_request_options: Any) -> _SdkResponse:  # noqa: D401 - SDK interface
        o = http_request_options
        response = self._client._send(
            o.method, o.url, params=o.query_params or None, headers=o.headers, body=o.body
        )
        return _SdkResponse(response)


class _Local(threading.local):
    endpoint: str = ""
    response: requests.Response | None = None
    token: str | None = None
    priority: int = Priority.LIVE


def _estimated_ms(body: Any) -> int | None:
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    values = [
        int(item["estimatedTranscodeTimeMs"])
        for item in items
        if isinstance(item, dict) and isinstance(item.get("estimatedTranscodeTimeMs"), int | float)
    ]
    return max(values) if values else None


class GenesysClient:
    """REST client of one OAuth client against one Genesys Cloud region (or the simulator)."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        limiter: RateLimiter | None = None,
        token_provider: AccessTokens | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = config.user_agent
        self._owns_tokens = token_provider is None
        self.tokens: AccessTokens = token_provider or TokenProvider(config, session=requests.Session())
        self.limiter = limiter or limiter_for(config.client_id, config.requests_per_minute)
        self._local = _Local()
        self._closed = threading.Event()
        self.request_count = 0
        self.page_size = PAGE_SIZE
        self._count_lock = threading.Lock()
        self._observers: list[ResponseObserver] = []
        self.api_client = sdk.ApiClient(host=config.api_url)
        self.api_client.set_http_client(_Transport(self))
        # We return the raw JSON of each response; building SDK models from it would only cost CPU
        # (~2 ms for a conference call's analytics details) and fail on fields the SDK does not know.
        self.api_client.deserialize = _skip_deserialize
        self._routing = sdk.RoutingApi(self.api_client)
        self._users = sdk.UsersApi(self.api_client)
        self._conversations = sdk.ConversationsApi(self.api_client)
        self._analytics = sdk.AnalyticsApi(self.api_client)
        self._recording = sdk.RecordingApi(self.api_client)
        self._sta = sdk.SpeechTextAnalyticsApi(self.api_client)
        self._architect = sdk.ArchitectApi(self.api_client)
        self._notifications = sdk.NotificationsApi(self.api_client)
        self._utilities = sdk.UtilitiesApi(self.api_client)
        self._organization = sdk.OrganizationApi(self.api_client)

    # ----- priority -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def priority(self, priority: int) -> Iterator[None]:
        """Requests made by this thread inside the block count as `priority` against the shared
        budget (`genesys.ratelimit.Priority`: live exports first, then write-back, then background)."""
        previous = self._local.priority
        self._local.priority = int(priority)
        try:
            yield
        finally:
            self._local.priority = previous

    # ----- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Abort retry and request-budget waits in other threads and release connections."""
        self._closed.set()
        self.limiter.wake()  # shared with other clients of the same id: only this one's waits end
        self._session.close()
        if self._owns_tokens:
            self.tokens.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- observers --------------------------------------------------------------------------
    def add_observer(self, observer: ResponseObserver) -> None:
        """Call ``observer(ApiResponse)`` for every response this client receives (any status), on
        the thread that made the request. An observer's exception is logged, never raised."""
        self._observers.append(observer)

    def remove_observer(self, observer: ResponseObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def _notify(self, method: str, url: str, params: Any, response: requests.Response) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        items = params.items() if isinstance(params, Mapping) else (params or [])
        for key, value in items:
            for item in value if isinstance(value, list | tuple) else [value]:
                query.setdefault(str(key), []).append(str(item))
        event = ApiResponse(
            method.upper(),
            self._local.endpoint or f"{method.upper()} {parts.path}",
            parts.path,
            query,
            response.status_code,
            _json_or_none(response),
        )
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                logger.exception("response observer failed for %s", event.endpoint)

    # ----- transport --------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> requests.Response:
        endpoint = self._local.endpoint or f"{method} {url}"
        if self._closed.is_set():
            raise ClientClosed(endpoint, message="client closed")
        self.limiter.acquire(
            self.config.rate_limit_max_wait_s,
            what=endpoint,
            priority=self._local.priority,
            abort=self._closed,
        )
        token = self.tokens.token()
        self._local.token = token
        out_headers = {
            k: v for k, v in (headers or {}).items() if k.lower() not in ("authorization", "cookie")
        }
        out_headers["Authorization"] = f"Bearer {token}"
        out_headers.setdefault("Accept", "application/json")
        data = None
        if body is not None:
            data = json.dumps(body)
            out_headers["Content-Type"] = "application/json"
        try:
            response = self._session.request(
                method, url, params=params, data=data, headers=out_headers, timeout=self.config.timeout_s
            )
        except requests.RequestException as exc:
            raise TransientError(endpoint, 0, message=f"{type(exc).__name__}: {_short(exc)}") from None
        with self._count_lock:
            self.request_count += 1
        self._local.response = response
        self.limiter.observe_headers(response.headers)
        if self._observers:
            self._notify(method, url, params, response)
        if 200 <= response.status_code < 300:
            return response
        err = error_from_response(endpoint, response.status_code, response.headers, response.text)
        if isinstance(err, RateLimited):
            self.limiter.pause(min(err.retry_after, self.config.max_retry_after_s))
        raise err

    def _sleep(self, seconds: float) -> None:
        if self._closed.wait(seconds):
            raise ClientClosed(self._local.endpoint or "request", message="client closed during a retry wait")

    def _call(self, endpoint: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one HTTP request) under the protocol's own rules; ``endpoint`` names it in logs.

        Only the protocol is retried here: a 429 waits its ``Retry-After`` (and pauses the shared
        limiter), a 401 refreshes the token once. Every other failure (5xx, network, timeouts) is
        raised at once: the layer that owns the work retries it with `reliability.backoff`, so
        retries never stack.
        """
        auth_retry = {"used": False}
        cfg = self.config

        def attempt() -> T:
            self._local.endpoint = endpoint
            self._local.response = None
            self._local.token = None
            try:
                return fn()
            except Unauthorized:
                self.tokens.invalidate(self._local.token)
                raise

        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, RateLimited):
                return True
            if (
                isinstance(exc, Unauthorized)
                and not isinstance(exc, AuthenticationFailed)
                and not auth_retry["used"]
            ):
                auth_retry["used"] = True
                return True
            return False

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited):
                return min(exc.retry_after, cfg.max_retry_after_s)
            return 0.0

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "%s: attempt %d of %d failed (%s); retrying in %.1fs",
                endpoint,
                state.attempt_number,
                cfg.max_retries + 1,
                exc,
                delay,
            )

        retrying = Retrying(
            retry=retry_if_exception(should_retry),
            stop=stop_after_attempt(cfg.max_retries + 1),
            wait=wait,
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=False,
        )
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, GenesysError)
            logger.error(
                "%s: giving up after %d attempts: %s", endpoint, exc.last_attempt.attempt_number, last
            )
            raise GenesysUnavailable(endpoint, exc.last_attempt.attempt_number, last) from last

    def _sdk(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        """Call an SDK method through `_call` and return the raw JSON of the response."""

        def run() -> tuple[int, Any]:
            try:
                fn()
            except GenesysError:
                raise
            except Exception as exc:  # the SDK failed to deserialise a 2xx body: we use the raw JSON anyway
                response = self._local.response
                if response is None or not 200 <= response.status_code < 300:
                    raise
                logger.debug("%s: SDK could not deserialise the response (%s); using raw JSON", endpoint, exc)
            response = self._local.response
            assert response is not None
            return response.status_code, _json_or_none(response)

        return self._call(endpoint, run)[1]

    def _http(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        """A plain request (no SDK) under the same policy; returns ``(status, json)``."""
        url = self.config.api_url + path

        def run() -> tuple[int, Any]:
            response = self._send(method, url, params=params, body=body)
            return response.status_code, _json_or_none(response)

        return self._call(endpoint, run)

    def _pages(self, endpoint: str, fetch: Callable[[int], Any]) -> list[dict[str, Any]]:
        entities: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self._sdk(endpoint, functools.partial(fetch, page)) or {}
            entities.extend(e for e in data.get("entities") or [] if isinstance(e, dict))
            page_count = data.get("pageCount")
            if not data.get("entities") or (isinstance(page_count, int) and page >= page_count):
                break
            if page_count is None and not data.get("nextUri"):
                break
            page += 1
        return entities

    # ----- utilities / organisation -----------------------------------------------------------
    def get_date(self) -> dict[str, Any]:
        """``GET /api/v2/date`` -> ``{"currentDate": ISO-8601}`` (trusted server time)."""
        return self._sdk("GET /api/v2/date", self._utilities.get_date)

    def get_organization(self) -> dict[str, Any]:
        """``GET /api/v2/organizations/me``."""
        return self._sdk("GET /api/v2/organizations/me", self._organization.get_organizations_me)

    # ----- routing / users --------------------------------------------------------------------
    def find_queues(self, name: str | None = None) -> list[dict[str, Any]]:
        """All queues (every page), optionally filtered by ``name`` (``*`` wildcards allowed)."""
        kwargs: dict[str, Any] = {"page_size": self.page_size}
        if name:
            kwargs["name"] = name
        return self._pages(
            "GET /api/v2/routing/queues",
            lambda page: self._routing.get_routing_queues(page_number=page, **kwargs),
        )

    def queues_by_name(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Resolve queue names (case-insensitive) with one listing; unknown names are absent."""
        wanted = {n.lower(): n for n in names if n}
        found: dict[str, dict[str, Any]] = {}
        for queue in self.find_queues():
            key = str(queue.get("name", "")).lower()
            if key in wanted:
                found[wanted[key]] = queue
        missing = sorted(set(wanted.values()) - set(found))
        if missing:
            logger.warning("queue(s) not found in Genesys Cloud: %s", ", ".join(missing))
        return found

    def get_queue(self, queue_id: str) -> dict[str, Any]:
        return self._sdk(
            "GET /api/v2/routing/queues/{queueId}", lambda: self._routing.get_routing_queue(queue_id)
        )

    def get_wrapup_code(self, code_id: str) -> dict[str, Any]:
        """``GET /api/v2/routing/wrapupcodes/{codeId}`` (analytics carries wrap-up code ids)."""
        return self._sdk(
            "GET /api/v2/routing/wrapupcodes/{codeId}", lambda: self._routing.get_routing_wrapupcode(code_id)
        )

    def get_user(self, user_id: str) -> dict[str, Any]:
        return self._sdk("GET /api/v2/users/{userId}", lambda: self._users.get_user(user_id))

    def get_users(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Users by id, in bulk (``GET /api/v2/users?id=...``, 100 per request)."""
        unique = list(dict.fromkeys(i for i in ids if i))
        users: list[dict[str, Any]] = []
        for start in range(0, len(unique), PAGE_SIZE):
            chunk = unique[start : start + PAGE_SIZE]
            data = self._sdk(
                "GET /api/v2/users", functools.partial(self._users.get_users, id=chunk, page_size=len(chunk))
            )
            users.extend(e for e in (data or {}).get("entities") or [] if isinstance(e, dict))
        return users

    # ----- conversations / analytics ----------------------------------------------------------
    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        return self._sdk(
            "GET /api/v2/conversations/{conversationId}",
            lambda: self._conversations.get_conversation(conversation_id),
        )

    def get_conversation_details(self, conversation_id: str, *, require_end: bool = False) -> dict[str, Any]:
        """Analytics details; raises `NotFound` while analytics has not caught up (and, with
        ``require_end``, while the details have no ``conversationEnd`` yet)."""
        endpoint = "GET /api/v2/analytics/conversations/{conversationId}/details"
        details = self._sdk(
            endpoint, lambda: self._analytics.get_analytics_conversation_details(conversation_id)
        )
        if require_end and not (details or {}).get("conversationEnd"):
            raise NotFound(endpoint, 200, message=f"details of {conversation_id} have no conversationEnd yet")
        return details

    def query_conversation_details(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._sdk(
            "POST /api/v2/analytics/conversations/details/query",
            lambda: self._analytics.post_analytics_conversations_details_query(body),
        )

    def query_details_by_ids(
        self, conversation_ids: Iterable[str], interval: str, *, chunk: int | None = None
    ) -> list[dict[str, Any]]:
        """Analytics details of many conversations at once: the synchronous query with one
        ``conversationId`` predicate per conversation, ``chunk`` ids per request (default
        `ID_PREDICATES`), every page. ``interval`` (``<ISO>/<ISO>``, at most 7 days, starting at most 35
        days back) must cover the conversations: the query matches those that started on a UTC day the
        interval touches and were active in it. A 400 that names predicates halves the chunk and asks
        again (the predicate limit is unconfirmed). Conversations analytics does not know yet are
        simply absent from the answer."""
        ids = list(dict.fromkeys(i for i in conversation_ids if i))
        size = max(1, chunk or ID_PREDICATES)
        found: dict[str, dict[str, Any]] = {}
        start = 0
        while start < len(ids):
            part = ids[start : start + size]
            try:
                for doc in self._details_query_pages(_ids_query(part, interval), want=len(part)):
                    found.setdefault(str(doc.get("conversationId")), doc)
            except BadRequest as exc:
                if size > 1 and "predicate" in str(exc).lower():
                    size = max(1, size // 2)
                    logger.warning(
                        "details query refused %d id predicates (%s); trying %d", len(part), exc, size
                    )
                    continue
                raise
            start += len(part)
        return [found[i] for i in ids if i in found]

    def _details_query_pages(self, body: dict[str, Any], *, want: int | None = None) -> list[dict[str, Any]]:
        """Every page of a query (stops early once `want` conversations are in: `totalHits` moves while
        data arrives, so it is not trusted to end the paging)."""
        docs: list[dict[str, Any]] = []
        page = 1
        while True:
            body["paging"] = {"pageSize": DETAILS_PAGE_SIZE, "pageNumber": page}
            data = self.query_conversation_details(body) or {}
            batch = [c for c in data.get("conversations") or [] if isinstance(c, dict)]
            docs.extend(batch)
            if (
                len(batch) < DETAILS_PAGE_SIZE
                or page * DETAILS_PAGE_SIZE >= DETAILS_MAX_RESULTS
                or (want is not None and len(docs) >= want)
            ):
                return docs
            page += 1

    # ----- analytics conversation details jobs (asynchronous) ------------------------------------
    def submit_details_job(self, query: Mapping[str, Any]) -> str:
        """``POST /api/v2/analytics/conversations/details/jobs`` (`AsyncConversationQuery`) -> job id."""
        data = self._sdk(
            "POST /api/v2/analytics/conversations/details/jobs",
            lambda: self._analytics.post_analytics_conversations_details_jobs(dict(query)),
        )
        job_id = (data or {}).get("jobId")
        if not job_id:
            raise GenesysError("POST /api/v2/analytics/conversations/details/jobs", 200, message="no jobId")
        return str(job_id)

    def get_details_job(self, job_id: str) -> dict[str, Any]:
        """`AsyncQueryStatus`: ``state`` QUEUED/PENDING/FULFILLED/FAILED/CANCELLED/EXPIRED, dates, error."""
        return self._sdk(
            "GET /api/v2/analytics/conversations/details/jobs/{jobId}",
            lambda: self._analytics.get_analytics_conversations_details_job(job_id),
        )

    def get_details_job_results(
        self, job_id: str, cursor: str | None = None, page_size: int | None = None
    ) -> dict[str, Any]:
        """One page of a fulfilled job: ``conversations`` (with participant ``attributes``), ``cursor``
        (absent on the last page), ``dataAvailabilityDate``."""
        kwargs: dict[str, Any] = {}
        if cursor:
            kwargs["cursor"] = cursor
        if page_size:
            kwargs["page_size"] = int(page_size)
        return self._sdk(
            "GET /api/v2/analytics/conversations/details/jobs/{jobId}/results",
            lambda: self._analytics.get_analytics_conversations_details_job_results(job_id, **kwargs),
        )

    def delete_details_job(self, job_id: str) -> None:
        """Cancel a job / delete its results."""
        self._sdk(
            "DELETE /api/v2/analytics/conversations/details/jobs/{jobId}",
            lambda: self._analytics.delete_analytics_conversations_details_job(job_id),
        )

    def get_details_jobs_availability(self) -> str:
        """The data lake's ``dataAvailabilityDate`` (ISO-8601): jobs know the data up to it."""
        data = self._sdk(
            "GET /api/v2/analytics/conversations/details/jobs/availability",
            self._analytics.get_analytics_conversations_details_jobs_availability,
        )
        value = (data or {}).get("dataAvailabilityDate")
        if not value:
            raise GenesysError(
                "GET /api/v2/analytics/conversations/details/jobs/availability",
                200,
                message="no dataAvailabilityDate",
            )
        return str(value)

    # ----- batch recording downloads ------------------------------------------------------------
    def submit_recording_batch(self, pairs: Iterable[tuple[str, str | None]]) -> str:
        """``POST /api/v2/recording/batchrequests`` for (conversation id, recording id or None: every
        recording of the conversation) pairs, at most `BATCH_MAX_ITEMS`; returns the job id."""
        items = [{"conversationId": cid, **({"recordingId": rid} if rid else {})} for cid, rid in pairs]
        if not items or len(items) > BATCH_MAX_ITEMS:
            raise ValueError(f"a batch request takes 1..{BATCH_MAX_ITEMS} items, got {len(items)}")
        data = self._sdk(
            "POST /api/v2/recording/batchrequests",
            lambda: self._recording.post_recording_batchrequests({"batchDownloadRequestList": items}),
        )
        job_id = (data or {}).get("id")
        if not job_id:
            raise GenesysError("POST /api/v2/recording/batchrequests", 200, message="no job id")
        return str(job_id)

    def get_recording_batch(self, job_id: str) -> dict[str, Any]:
        """`BatchDownloadJobStatusResult`: ``status`` InProgress/Completed, counts, ``results`` (each
        ``resultUrl`` + ``contentType`` or ``errorMsg``)."""
        return self._sdk(
            "GET /api/v2/recording/batchrequests/{jobId}",
            lambda: self._recording.get_recording_batchrequest(job_id),
        )

    # ----- recordings -------------------------------------------------------------------------
    def get_recording_metadata(self, conversation_id: str) -> list[dict[str, Any]]:
        """``GET .../recordingmetadata``: recording ids and ``fileState`` without transcoding."""
        data = self._sdk(
            "GET /api/v2/conversations/{conversationId}/recordingmetadata",
            lambda: self._recording.get_conversation_recordingmetadata(conversation_id),
        )
        return list(data or [])

    def get_recordings(
        self, conversation_id: str, format_id: str = "WAV", *, max_wait_ms: int = 5000
    ) -> list[dict[str, Any]] | Pending:
        """All recordings with media URIs in ``format_id``, or `Pending` (202) while transcoding."""
        status, data = self._http(
            "GET /api/v2/conversations/{conversationId}/recordings",
            "GET",
            f"/api/v2/conversations/{_seg(conversation_id)}/recordings",
            params={"formatId": format_id, "maxWaitMs": int(max_wait_ms)},
        )
        if status == 202:
            return Pending(_estimated_ms(data), data)
        return list(data or [])

    def get_recording(
        self, conversation_id: str, recording_id: str, format_id: str = "WAV"
    ) -> dict[str, Any] | Pending:
        """One recording with media URIs, or `Pending` (202) while transcoding."""
        status, data = self._http(
            "GET /api/v2/conversations/{conversationId}/recordings/{recordingId}",
            "GET",
            f"/api/v2/conversations/{_seg(conversation_id)}/recordings/{_seg(recording_id)}",
            params={"formatId": format_id},
        )
        if status == 202 or not isinstance(data, dict):
            return Pending(_estimated_ms(data), data)
        return data

    def list_retention_policies(self) -> list[dict[str, Any]]:
        return self._pages(
            "GET /api/v2/recording/mediaretentionpolicies",
            lambda page: self._recording.get_recording_mediaretentionpolicies(
                page_number=page, page_size=self.page_size
            ),
        )

    # ----- transcripts ------------------------------------------------------------------------
    def get_transcript_url(self, conversation_id: str, communication_id: str) -> str:
        """The pre-signed transcript URL (valid ~10 minutes). `NotFound` = no transcript (yet)."""
        data = self._sdk(
            "GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturl",
            lambda: self._sta.get_speechandtextanalytics_conversation_communication_transcripturl(
                conversation_id, communication_id
            ),
        )
        url = (data or {}).get("url")
        if not url:
            raise NotFound(
                "GET .../transcripturl",
                200,
                message=f"no transcript URL for conversation {conversation_id} communication {communication_id}",
            )
        return str(url)

    def get_transcript_urls(self, conversation_id: str, communication_id: str) -> dict[str, Any]:
        """``TranscriptUrls`` of a communication: one pre-signed URL per recording (``urls[]`` of
        ``{"recording": {"id"}, "url"}``). `NotFound` = no transcript (yet)."""
        data = self._sdk(
            "GET /api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}/transcripturls",
            lambda: self._sta.get_speechandtextanalytics_conversation_communication_transcripturls(
                conversation_id, communication_id
            ),
        )
        return data if isinstance(data, dict) else {}

    # ----- write-back -------------------------------------------------------------------------
    def patch_participant_attributes(
        self, conversation_id: str, participant_id: str, attrs: Mapping[str, str]
    ) -> dict[str, Any] | None:
        body = {"attributes": {str(k): str(v) for k, v in attrs.items()}}
        return self._sdk(
            "PATCH /api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes",
            lambda: self._conversations.patch_conversations_call_participant_attributes(
                conversation_id, participant_id, body
            ),
        )

    def get_custom_attributes(self, conversation_id: str) -> list[dict[str, Any]]:
        """All custom-attribute records of a conversation (``results``)."""
        data = self._sdk(
            "GET /api/v2/conversations/{conversationId}/customattributes",
            lambda: self._conversations.get_conversation_customattributes(conversation_id),
        )
        return list((data or {}).get("results") or [])

    def put_custom_attributes(
        self,
        conversation_id: str,
        record_id: str,
        schema_id: str,
        attributes: Mapping[str, Any],
        *,
        version: int | None = None,
        divisions: list[str] | None = None,
    ) -> dict[str, Any] | None:
        body = _custom_attributes_body(record_id, attributes, version, divisions)
        body["schemaId"] = schema_id
        return self._sdk(
            "PUT /api/v2/conversations/{conversationId}/customattributes",
            lambda: self._conversations.put_conversation_customattributes(conversation_id, body=body),
        )

    def patch_custom_attributes(
        self,
        conversation_id: str,
        record_id: str,
        attributes: Mapping[str, Any],
        *,
        version: int | None = None,
        divisions: list[str] | None = None,
    ) -> dict[str, Any] | None:
        body = _custom_attributes_body(record_id, attributes, version, divisions)
        return self._sdk(
            "PATCH /api/v2/conversations/{conversationId}/customattributes",
            lambda: self._conversations.patch_conversation_customattributes(conversation_id, body=body),
        )

    def list_custom_attribute_schemas(self) -> list[dict[str, Any]]:
        data = self._sdk(
            "GET /api/v2/conversations/customattributes/schemas",
            self._conversations.get_conversations_customattributes_schemas,
        )
        return list((data or {}).get("entities") or [])

    def find_custom_attribute_schema(self, title: str) -> dict[str, Any] | None:
        """The schema whose ``jsonSchema.title`` (or ``name``) equals ``title``, if any."""
        for schema in self.list_custom_attribute_schemas():
            js = schema.get("jsonSchema") or {}
            if title in (js.get("title"), schema.get("name")):
                return schema
        return None

    def create_custom_attribute_schema(
        self,
        title: str,
        properties: Mapping[str, Any],
        *,
        description: str = "",
        required: list[str] | None = None,
    ) -> dict[str, Any]:
        body = {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": title,
            "description": description or title,
            "required": list(required or []),
            "properties": dict(properties),
        }
        return self._sdk(
            "POST /api/v2/conversations/customattributes/schemas",
            lambda: self._conversations.post_conversations_customattributes_schemas(body),
        )

    def post_custom_attribute_schema(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v2/conversations/customattributes/schemas`` with a whole
        ``ConversationJsonSchemaRequest`` document (``$schema``, ``title``, ``description``,
        ``required``, ``properties``)."""
        body = dict(document)
        return self._sdk(
            "POST /api/v2/conversations/customattributes/schemas",
            lambda: self._conversations.post_conversations_customattributes_schemas(body),
        )

    def ensure_custom_attribute_schema(
        self, title: str, properties: Mapping[str, Any], *, description: str = ""
    ) -> dict[str, Any]:
        """Find the schema by title, or create it."""
        found = self.find_custom_attribute_schema(title)
        if found is not None:
            return found
        logger.info("creating the conversation custom attributes schema %r", title)
        return self.create_custom_attribute_schema(title, properties, description=description)

    def get_custom_attribute_coretypes(self) -> list[dict[str, Any]]:
        """``GET /api/v2/conversations/customattributes/schemas/coretypes`` -> the ``Coretype``
        entities (``name``, ``validationFields``, ``validationLimits``) schemas are built from."""
        data = self._sdk(
            "GET /api/v2/conversations/customattributes/schemas/coretypes",
            self._conversations.get_conversations_customattributes_schemas_coretypes,
        )
        return list((data or {}).get("entities") or [])

    def get_custom_attribute_limits(self) -> dict[str, Any]:
        """``GET /api/v2/conversations/customattributes/schemas/limits`` (`SchemaQuantityLimits`)."""
        data = self._sdk(
            "GET /api/v2/conversations/customattributes/schemas/limits",
            self._conversations.get_conversations_customattributes_schemas_limits,
        )
        return data if isinstance(data, dict) else {}

    # ----- data tables ------------------------------------------------------------------------
    def find_datatable(self, name: str) -> dict[str, Any] | None:
        """The data table named ``name`` (case-insensitive exact match), or None."""
        tables = self._pages(
            "GET /api/v2/flows/datatables",
            lambda page: self._architect.get_flows_datatables(
                page_number=page, page_size=self.page_size, name=name
            ),
        )
        for table in tables:
            if str(table.get("name", "")).lower() == name.lower():
                return table
        return None

    def get_datatable_row(self, table_id: str, key: str) -> dict[str, Any]:
        """One row (a flat object with ``key``); raises `NotFound` for a missing row."""
        return self._sdk(
            "GET /api/v2/flows/datatables/{datatableId}/rows/{rowId}",
            lambda: self._architect.get_flows_datatable_row(table_id, key, showbrief=False),
        )

    def put_datatable_row(
        self, table_id: str, key: str, row: Mapping[str, Any], *, create_missing: bool = True
    ) -> dict[str, Any]:
        """Replace the row ``key``; with ``create_missing`` a missing row (404) is created (POST)."""
        body = dict(row)
        body["key"] = key
        try:
            return self._sdk(
                "PUT /api/v2/flows/datatables/{datatableId}/rows/{rowId}",
                lambda: self._architect.put_flows_datatable_row(table_id, key, body=body),
            )
        except NotFound:
            if not create_missing:
                raise
            logger.info("data table %s has no row %r yet; creating it", table_id, key)
            return self.create_datatable_row(table_id, body)

    def list_datatable_rows(self, table_id: str) -> list[dict[str, Any]]:
        """Every row of a data table with all its fields (``showbrief=false``), page by page."""
        return self._pages(
            "GET /api/v2/flows/datatables/{datatableId}/rows",
            lambda page: self._architect.get_flows_datatable_rows(
                table_id, page_number=page, page_size=self.page_size, showbrief=False
            ),
        )

    def delete_datatable_row(self, table_id: str, key: str) -> None:
        self._sdk(
            "DELETE /api/v2/flows/datatables/{datatableId}/rows/{rowId}",
            lambda: self._architect.delete_flows_datatable_row(table_id, key),
        )

    def create_datatable_row(self, table_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return self._sdk(
            "POST /api/v2/flows/datatables/{datatableId}/rows",
            lambda: self._architect.post_flows_datatable_rows(table_id, dict(row)),
        )

    # ----- notifications ----------------------------------------------------------------------
    def create_channel(self) -> dict[str, Any]:
        """``POST /api/v2/notifications/channels`` -> ``{"id", "connectUri", "expires"}``."""
        return self._sdk(
            "POST /api/v2/notifications/channels", self._notifications.post_notifications_channels
        )

    def channel_exists(self, channel_id: str) -> bool:
        try:
            self._sdk(
                "HEAD /api/v2/notifications/channels/{channelId}",
                lambda: self._notifications.head_notifications_channel(channel_id),
            )
        except NotFound:
            return False
        return True

    def put_subscriptions(
        self, channel_id: str, topics: Iterable[str], *, ignore_errors: bool = True
    ) -> list[dict[str, Any]]:
        """Replace the channel's topic list; returns the ``ChannelTopic`` entities.

        With ``ignore_errors`` (default) a topic the client may not read comes back with
        ``state: "Rejected"`` instead of failing the whole request (403) and subscribing nothing.
        """
        body = [{"id": t} for t in topics]
        data = self._sdk(
            "PUT /api/v2/notifications/channels/{channelId}/subscriptions",
            lambda: self._notifications.put_notifications_channel_subscriptions(
                channel_id, body, ignore_errors=ignore_errors
            ),
        )
        return list((data or {}).get("entities") or [])

    def get_subscriptions(self, channel_id: str) -> list[dict[str, Any]]:
        status, data = self._http(
            "GET /api/v2/notifications/channels/{channelId}/subscriptions",
            "GET",
            f"/api/v2/notifications/channels/{_seg(channel_id)}/subscriptions",
        )
        return list((data or {}).get("entities") or [])

    def create_callback(
        self,
        queue_id: str,
        *,
        callback_numbers: list[str] | None = None,
        callback_user_name: str = "callexport configuration changed",
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a callback on ``queue_id``: the configuration-change signal on the system queue."""
        body: dict[str, Any] = {
            "queueId": queue_id,
            "callbackNumbers": list(callback_numbers or ["+10000000000"]),
            "callbackUserName": callback_user_name,
        }
        if data:
            body["data"] = dict(data)
        return self._sdk(
            "POST /api/v2/conversations/callbacks",
            lambda: self._conversations.post_conversations_callbacks(body),
        )

    def disconnect_callback(self, conversation_id: str) -> dict[str, Any] | None:
        """Disconnect every participant of a callback conversation
        (``PATCH /api/v2/conversations/callbacks/{conversationId}`` with ``{"state": "disconnected"}``;
        permission ``conversation:communication:disconnect``)."""
        return self._sdk(
            "PATCH /api/v2/conversations/callbacks/{conversationId}",
            lambda: self._conversations.patch_conversations_callback(
                conversation_id, {"state": "disconnected"}
            ),
        )


def _ids_query(conversation_ids: list[str], interval: str) -> dict[str, Any]:
    return {
        "interval": interval,
        "order": "asc",
        "orderBy": "conversationStart",
        "conversationFilters": [
            {
                "type": "or",
                "predicates": [
                    {"type": "dimension", "dimension": "conversationId", "operator": "matches", "value": cid}
                    for cid in conversation_ids
                ],
            }
        ],
    }


def _custom_attributes_body(
    record_id: str, attributes: Mapping[str, Any], version: int | None, divisions: list[str] | None
) -> dict[str, Any]:
    """The fields a custom-attributes PUT and PATCH share (`divisions: []` = unassigned division)."""
    body: dict[str, Any] = {
        "id": record_id,
        "divisions": list(divisions or []),
        "customAttributes": dict(attributes),
    }
    if version is not None:
        body["version"] = version
    return body


def _skip_deserialize(response: Any, response_type: Any) -> None:
    return None


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None

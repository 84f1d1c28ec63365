"""Creating and changing queues and their members (`RoutingApi`): `POST /api/v2/routing/queues`,
`PUT/DELETE …/queues/{queueId}`, `GET/POST …/queues/{queueId}/members`.

A queue created here joins the org at once: it is listed by `GET /api/v2/routing/queues`, its
notification topics can be subscribed and callbacks can be created on it. The org is immutable, so a
change replaces `sim.org` with a copy (one attribute assignment, safe for the request threads).
Modelled on the platform: queue names are unique (case-insensitive); a created queue has no members;
`POST …/members` adds users, with `delete=true` removes them.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from simulator import documents
from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.org import Org, Queue

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

API = "/api/v2"
PROMPTS = ("MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED")


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class QueueAdmin:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._members: dict[str, list[str]] = {}  # queue id -> user ids (queues seen through this API)
        self._lock = threading.RLock()

    # -- helpers ------------------------------------------------------------------------------
    def _replace_org(self, **changes: Any) -> Org:
        org = dataclasses.replace(self._sim.org, **changes)
        self._sim.org = org
        return org

    def _queue_fields(self, body: dict[str, Any], current: Queue | None) -> dict[str, Any]:
        name = body.get("name", current.name if current else None)
        if not isinstance(name, str) or not name.strip():
            raise bad_request("A queue needs a name")
        for q in self._sim.org.all_queues():
            if q.name.lower() == name.strip().lower() and (current is None or q.id != current.id):
                raise ApiError(409, f"A queue named {name!r} already exists", code="conflict")
        acw = body.get("acwSettings") or {}
        prompt = acw.get("wrapupPrompt", "OPTIONAL")
        if prompt not in PROMPTS:
            raise bad_request(f"acwSettings.wrapupPrompt must be one of {', '.join(PROMPTS)}")
        return {
            "name": name.strip(),
            "description": str(body.get("description") or ""),
            "enable_transcription": bool(body.get("enableTranscription", False)),
            "acw_wrapup_prompt": prompt,
            "acw_timeout_ms": int(acw.get("timeoutMs", 0) or 0),
            "suppress_in_queue_call_recording": bool(body.get("suppressInQueueCallRecording", False)),
        }

    def members(self, queue_id: str) -> list[str]:
        queue = self._sim.org.queue_by_id(queue_id)
        with self._lock:
            if queue_id not in self._members:  # a queue of the generated org: its first agents
                self._members[queue_id] = [u.id for u in self._sim.org.users[: queue.member_count]]
            return list(self._members[queue_id])

    def _set_members(self, queue_id: str, user_ids: list[str]) -> None:
        with self._lock:
            self._members[queue_id] = user_ids
            org = self._sim.org
            count = len(user_ids)

            def counted(q: Queue) -> Queue:
                if q.id != queue_id:
                    return q
                return dataclasses.replace(q, member_count=count, joined_member_count=count)

            system = counted(org.system_queue) if org.system_queue else None
            self._replace_org(queues=tuple(counted(q) for q in org.queues), system_queue=system)

    # -- operations -----------------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> Queue:
        with self._lock:
            now = iso_now()
            queue = Queue(
                id=str(uuid.uuid4()),
                member_count=0,
                joined_member_count=0,
                date_created=now,
                date_modified=now,
                **self._queue_fields(body, None),
            )
            self._members[queue.id] = []
            self._replace_org(queues=(*self._sim.org.queues, queue))
        logger.info("simulator queue %r created (%s)", queue.name, queue.id)
        return queue

    def update(self, queue_id: str, body: dict[str, Any]) -> Queue:
        with self._lock:
            org = self._sim.org
            try:
                current = org.queue_by_id(queue_id)
            except KeyError:
                raise not_found("Queue", queue_id) from None
            updated = dataclasses.replace(
                current, date_modified=iso_now(), **self._queue_fields(body, current)
            )
            if org.system_queue is not None and org.system_queue.id == queue_id:
                self._replace_org(system_queue=updated)
            else:
                self._replace_org(queues=tuple(updated if q.id == queue_id else q for q in org.queues))
        return updated

    def delete(self, queue_id: str) -> None:
        with self._lock:
            org = self._sim.org
            if org.system_queue is not None and org.system_queue.id == queue_id:
                self._replace_org(system_queue=None)
            elif any(q.id == queue_id for q in org.queues):
                self._replace_org(queues=tuple(q for q in org.queues if q.id != queue_id))
            else:
                raise not_found("Queue", queue_id)
            self._members.pop(queue_id, None)

    def change_members(self, queue_id: str, user_ids: list[str], *, remove: bool) -> None:
        current = self.members(queue_id)
        for user_id in user_ids:
            try:
                self._sim.org.user_by_id(user_id)
            except KeyError:
                raise bad_request(f"User {user_id} does not exist") from None
        if remove:
            updated = [u for u in current if u not in set(user_ids)]
        else:
            updated = current + [u for u in user_ids if u not in current]
        self._set_members(queue_id, updated)


def register(router: Router, sim: Simulator) -> None:
    admin: QueueAdmin = sim.queue_admin

    def queue_or_404(queue_id: str) -> Queue:
        try:
            return sim.org.queue_by_id(queue_id)
        except KeyError:
            raise not_found("Queue", queue_id) from None

    def post_queue(req: Request) -> dict[str, Any]:
        return documents.queue(admin.create(req.json_object()), sim.org)

    def put_queue(req: Request) -> dict[str, Any]:
        return documents.queue(admin.update(req.params["queueId"], req.json_object()), sim.org)

    def delete_queue(req: Request) -> Response:
        admin.delete(req.params["queueId"])
        return Response(204, None)

    def get_members(req: Request) -> dict[str, Any]:
        queue = queue_or_404(req.params["queueId"])
        entities = []
        for user_id in admin.members(queue.id):
            user = sim.org.user_by_id(user_id)
            entities.append(
                {
                    "id": user.id,
                    "name": user.name,
                    "user": documents.user(user),
                    "ringNumber": 1,
                    "joined": True,
                    "memberBy": "user",
                    "selfUri": f"{API}/users/{user.id}",
                }
            )
        path = f"{API}/routing/queues/{queue.id}/members"
        return {
            "entities": entities,
            "pageNumber": 1,
            "pageSize": max(25, len(entities)),
            "firstUri": f"{path}?pageSize=25&pageNumber=1",
            "selfUri": f"{path}?pageSize=25&pageNumber=1",
        }

    def post_members(req: Request) -> Response:
        queue = queue_or_404(req.params["queueId"])
        body = req.json()
        if not isinstance(body, list) or not all(isinstance(m, dict) and m.get("id") for m in body):
            raise bad_request("The body must be a list of objects with an 'id'")
        admin.change_members(queue.id, [str(m["id"]) for m in body], remove=req.flag("delete"))
        return Response(204, None)

    base = f"{API}/routing/queues"
    router.add("POST", base, post_queue)
    router.add("PUT", base + "/{queueId}", put_queue)
    router.add("DELETE", base + "/{queueId}", delete_queue)
    router.add("GET", base + "/{queueId}/members", get_members)
    router.add("POST", base + "/{queueId}/members", post_members)

"""The system queue: a queue without members and without transcription, whose conversations (a
callback created by the admin app on save) tell the service to reload its configuration at once.

`RoutingApi`: `GET/POST /api/v2/routing/queues` (`CreateQueueRequest`), `PUT …/{id}` (`QueueRequest`),
`GET …/{id}/members`, `POST …/{id}/members?delete=true`. As the Terraform provider's
`genesyscloud_routing_queue`. A member added by hand is removed (a callback on this queue would be
offered to them), transcription switched on by hand is switched off.
"""

from __future__ import annotations

import logging
from typing import Any

from provisioning.oauth_client import home_division_id
from provisioning.plan import CREATE, OK, UPDATE, Context, Finding, Outcome, collision, is_ours, with_marker

logger = logging.getLogger(__name__)

DESCRIPTION = "callexport configuration-change signals (callbacks from the admin app); no agents."
READ_ONLY = (
    "id",
    "selfUri",
    "dateCreated",
    "dateModified",
    "createdBy",
    "modifiedBy",
    "memberCount",
    "userMemberCount",
    "joinedMemberCount",
)


def find_queue(ctx: Context, name: str) -> dict[str, Any] | None:
    return next(
        (q for q in ctx.require_client().find_queues(name) if str(q.get("name", "")).lower() == name.lower()),
        None,
    )


def members(ctx: Context, queue_id: str) -> list[dict[str, Any]]:
    client = ctx.require_client()
    return client.all_pages(
        "GET /api/v2/routing/queues/{queueId}/members",
        lambda page: client.routing.get_routing_queue_members(queue_id, page_number=page, page_size=100),
    )


class SystemQueueStep:
    key = "queue"
    needs: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.title = f"System queue {ctx.options.system_queue!r}"

    def inspect(self, ctx: Context) -> Finding:
        name = ctx.options.system_queue
        queue = find_queue(ctx, name)
        if queue is None:
            return Finding(CREATE, f"create the system queue {name!r} (no members, no transcription)")
        if not is_ours(queue.get("description")) and self.key not in ctx.options.adopt:
            return collision("queue", name, "--system-queue", self.key)
        ctx.values["queue_id"] = queue["id"]
        changes, data = [], {}
        if queue.get("enableTranscription"):
            changes.append("switch transcription off")
        if not is_ours(queue.get("description")):
            changes.append("mark it as managed by callexport setup (adopted)")
        listed = members(ctx, queue["id"])
        if listed:
            names = ", ".join(str(m.get("name") or m.get("id")) for m in listed)
            changes.append(f"remove its {len(listed)} member(s) ({names})")
            data["members"] = [m["id"] for m in listed]
        if not changes:
            return Finding(OK, f"system queue {name!r} has no members and no transcription", found=queue)
        return Finding(
            UPDATE, f"fix the system queue {name!r}: " + "; ".join(changes), changes, found=queue, data=data
        )

    def apply(self, ctx: Context, finding: Finding) -> Outcome:
        name = ctx.options.system_queue
        if finding.action == CREATE:
            client = ctx.require_client()
            body = {
                "name": name,
                "description": with_marker(DESCRIPTION),
                "division": {"id": home_division_id(ctx)},
                "enableTranscription": False,
                "acwSettings": {"wrapupPrompt": "OPTIONAL"},
            }
            queue = client.call(
                "POST /api/v2/routing/queues", lambda: client.routing.post_routing_queues(body)
            )
            ctx.values["queue_id"] = queue["id"]
            return Outcome("created", f"created the system queue {name!r}")
        queue = dict(finding.found or {})
        queue_id = queue["id"]
        if any(not c.startswith("remove its") for c in finding.changes):
            client = ctx.require_client()
            body = {k: v for k, v in queue.items() if k not in READ_ONLY}
            body.update(
                enableTranscription=False,
                description=with_marker(str(queue.get("description") or DESCRIPTION)),
            )
            client.call(
                "PUT /api/v2/routing/queues/{queueId}",
                lambda: client.routing.put_routing_queue(queue_id, body),
            )
        if finding.data.get("members"):
            client = ctx.require_client()
            gone = [{"id": m} for m in finding.data["members"]]
            client.call(
                "POST /api/v2/routing/queues/{queueId}/members",
                lambda: client.routing.post_routing_queue_members(queue_id, gone, delete=True),
            )
        return Outcome("updated", f"fixed the system queue {name!r}: " + "; ".join(finding.changes))

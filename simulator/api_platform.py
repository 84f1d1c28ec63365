"""Routes of the platform side (OAuth lives in `simulator.api_authorize`): notifications, routing, users, retention policies,
Architect data tables, date and organization."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from simulator import documents
from simulator.channels import channel_topic_entities
from simulator.errors import bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.paging import listing, name_matches

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def register(router: Router, sim: Simulator) -> None:
    # -- notifications -------------------------------------------------------------------
    def channel_doc(ch: Any) -> dict[str, Any]:
        return {"connectUri": sim.ws.connect_uri(ch.id), "id": ch.id, "expires": iso(ch.expires_s)}

    def post_channel(req: Request) -> dict[str, Any]:
        ch = sim.channels.create(req.client_id, req.token)
        logger.info("simulator created notification channel %s", ch.id)
        return channel_doc(ch)

    def get_channels(req: Request) -> dict[str, Any]:
        scope = (req.arg("includechannels") or "token").lower()
        if scope not in ("token", "oauthclient"):
            raise bad_request("includechannels must be 'token' or 'oauthclient'")
        chans = sim.channels.list_for(req.client_id, req.token if scope == "token" else None)
        return {"entities": [channel_doc(c) for c in chans]}

    def head_channel(req: Request) -> Response:
        sim.channels.require(req.params["channelId"], req.client_id)
        return Response(200, None)

    def get_subs(req: Request) -> dict[str, Any]:
        ch = sim.channels.require(req.params["channelId"], req.client_id)
        return {"entities": channel_topic_entities(ch)}

    def topics_of(req: Request) -> list[str]:
        body = req.json()
        if not isinstance(body, list):
            raise bad_request("The body must be a JSON array of ChannelTopic objects")
        topics = []
        for item in body:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise bad_request("Each ChannelTopic needs a string 'id'")
            topics.append(item["id"])
        return topics

    def put_subs(req: Request) -> dict[str, Any]:
        ch = sim.channels.require(req.params["channelId"], req.client_id)
        results = sim.channels.subscribe(
            ch, topics_of(req), replace=True, ignore_errors=req.flag("ignoreErrors")
        )
        return {"entities": results}

    def post_subs(req: Request) -> dict[str, Any]:
        ch = sim.channels.require(req.params["channelId"], req.client_id)
        sim.channels.subscribe(ch, topics_of(req), replace=False, ignore_errors=req.flag("ignoreErrors"))
        return {"entities": channel_topic_entities(ch)}

    def delete_subs(req: Request) -> Response:
        ch = sim.channels.require(req.params["channelId"], req.client_id)
        sim.channels.unsubscribe_all(ch)
        return Response(204, None)

    def available_topics(req: Request) -> dict[str, Any]:
        topics = [
            ("v2.routing.queues.{id}.conversations", "QueueConversationEventTopicConversation"),
            ("v2.routing.queues.{id}.conversations.calls", "QueueConversationCallEventTopicCallConversation"),
        ]
        return {
            "entities": [
                {
                    "id": t,
                    "description": f"Conversation snapshots of a queue ({m})",
                    "requiresPermissions": ["routing:queue:view"],
                    "transports": ["All"],
                    "visibility": "Public",
                    "publicApiTemplateUriPaths": ["/api/v2/routing/queues/{id}"],
                }
                for t, m in topics
            ]
        }

    base = "/api/v2/notifications/channels"
    router.add("GET", "/api/v2/notifications/availabletopics", available_topics)
    router.add("POST", base, post_channel)
    router.add("GET", base, get_channels)
    router.add("HEAD", base + "/{channelId}", head_channel)
    router.add("GET", base + "/{channelId}/subscriptions", get_subs)
    router.add("PUT", base + "/{channelId}/subscriptions", put_subs)
    router.add("POST", base + "/{channelId}/subscriptions", post_subs)
    router.add("DELETE", base + "/{channelId}/subscriptions", delete_subs)

    # -- routing queues and users ----------------------------------------------------------
    def get_queues(req: Request) -> dict[str, Any]:
        queues = list(sim.org.all_queues())
        name = req.arg("name")
        if name:
            queues = [q for q in queues if name_matches(name, q.name)]
        ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
        if ids:
            queues = [q for q in queues if q.id in ids]
        queues.sort(key=lambda q: q.name.lower(), reverse=(req.arg("sortOrder") or "asc").lower() == "desc")
        return listing([documents.queue(q, sim.org) for q in queues], req.path, req.query)

    def get_queue(req: Request) -> dict[str, Any]:
        try:
            q = sim.org.queue_by_id(req.params["queueId"])
        except KeyError:
            raise not_found("Queue", req.params["queueId"]) from None
        return documents.queue(q, sim.org)

    def get_users(req: Request) -> dict[str, Any]:
        users = sim.all_users()
        ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
        if ids:
            users = [u for u in users if u.id in ids]
        users.sort(key=lambda u: u.name.lower(), reverse=(req.arg("sortOrder") or "asc").lower() == "desc")
        return listing([documents.user(u, sim.org) for u in users], req.path, req.query)

    def get_user(req: Request) -> dict[str, Any]:
        u = next((u for u in sim.all_users() if u.id == req.params["userId"]), None)
        if u is None:
            raise not_found("User", req.params["userId"])
        return documents.user(u, sim.org)

    def get_wrapup_codes(req: Request) -> dict[str, Any]:
        codes = sorted(sim.org.wrapup_codes, key=lambda c: c.name.lower())
        name = req.arg("name")
        if name:
            codes = [c for c in codes if name_matches(name, c.name)]
        ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
        if ids:
            codes = [c for c in codes if c.id in ids]
        return listing([documents.wrapup_code(c.id, sim.org) for c in codes], req.path, req.query)

    def get_wrapup_code(req: Request) -> dict[str, Any]:
        try:
            return documents.wrapup_code(req.params["codeId"], sim.org)
        except KeyError:
            raise not_found("Wrap-up code", req.params["codeId"]) from None

    router.add("GET", "/api/v2/routing/wrapupcodes", get_wrapup_codes)
    router.add("GET", "/api/v2/routing/wrapupcodes/{codeId}", get_wrapup_code)
    router.add("GET", "/api/v2/routing/queues", get_queues)
    router.add("GET", "/api/v2/routing/queues/{queueId}", get_queue)
    router.add("GET", "/api/v2/users", get_users)
    router.add("GET", "/api/v2/users/{userId}", get_user)

    # -- retention policies -------------------------------------------------------------------
    def get_policies(req: Request) -> dict[str, Any]:
        policies = list(sim.org.policies)
        name = req.arg("name")
        if name:
            policies = [p for p in policies if name_matches(name, p.name)]
        return listing([documents.retention_policy(p, sim.org) for p in policies], req.path, req.query)

    def get_policy(req: Request) -> dict[str, Any]:
        try:
            p = sim.org.policy_by_id(req.params["policyId"])
        except KeyError:
            raise not_found("Policy", req.params["policyId"]) from None
        return documents.retention_policy(p, sim.org)

    router.add("GET", "/api/v2/recording/mediaretentionpolicies", get_policies)
    router.add("GET", "/api/v2/recording/mediaretentionpolicies/{policyId}", get_policy)

    # -- Architect data tables ------------------------------------------------------------------
    def get_tables(req: Request) -> dict[str, Any]:
        tables = sim.datatables.all()
        name = req.arg("name")
        if name:
            tables = [t for t in tables if name_matches(name, t.name)]
        expand = "schema" in (req.arg("expand") or "")
        return listing([t.document(expand) for t in tables], req.path, req.query)

    def post_table(req: Request) -> dict[str, Any]:
        return sim.datatables.create(req.json_object()).document()

    def get_table(req: Request) -> dict[str, Any]:
        return sim.datatables.get(req.params["datatableId"]).document("schema" in (req.arg("expand") or ""))

    def put_table(req: Request) -> dict[str, Any]:
        return sim.datatables.update(req.params["datatableId"], req.json_object()).document()

    def delete_table(req: Request) -> Response:
        sim.datatables.delete(req.params["datatableId"], req.flag("force"))
        return Response(204, None)

    def brief(rows: list[dict[str, Any]], req: Request) -> list[dict[str, Any]]:
        if (req.arg("showbrief") or "true").lower() == "true":
            return [{"key": r["key"]} for r in rows]
        return rows

    def get_rows(req: Request) -> dict[str, Any]:
        rows = sim.datatables.rows(req.params["datatableId"])
        if (req.arg("sortOrder") or "ascending").lower() in ("descending", "desc"):
            rows.reverse()
        return listing(brief(rows, req), req.path, req.query)

    def post_row(req: Request) -> dict[str, Any]:
        return sim.datatables.insert(req.params["datatableId"], req.json_object())

    def get_row(req: Request) -> dict[str, Any]:
        row = sim.datatables.row(req.params["datatableId"], req.params["rowId"])
        return {"key": row["key"]} if req.flag("showbrief") else row

    def put_row(req: Request) -> dict[str, Any]:
        return sim.datatables.replace(req.params["datatableId"], req.params["rowId"], req.json_object())

    def delete_row(req: Request) -> Response:
        sim.datatables.delete_row(req.params["datatableId"], req.params["rowId"])
        return Response(204, None)

    dt = "/api/v2/flows/datatables"
    router.add("GET", dt, get_tables)
    router.add("POST", dt, post_table)
    router.add("GET", dt + "/{datatableId}", get_table)
    router.add("PUT", dt + "/{datatableId}", put_table)
    router.add("DELETE", dt + "/{datatableId}", delete_table)
    router.add("GET", dt + "/{datatableId}/rows", get_rows)
    router.add("POST", dt + "/{datatableId}/rows", post_row)
    router.add("GET", dt + "/{datatableId}/rows/{rowId}", get_row)
    router.add("PUT", dt + "/{datatableId}/rows/{rowId}", put_row)
    router.add("DELETE", dt + "/{datatableId}/rows/{rowId}", delete_row)

    # -- utilities -------------------------------------------------------------------------------
    def get_date(req: Request) -> dict[str, Any]:
        import time

        return {"currentDate": iso(time.time())}

    def get_org(req: Request) -> dict[str, Any]:
        return {
            "id": sim.org.id,
            "name": sim.org.name,
            "defaultLanguage": "en-us",
            "defaultCountryCode": "US",
            "thirdPartyOrgName": "callexport-sim",
            "domain": "callexport-sim",
            "version": 1,
            "state": "active",
            "voicemailEnabled": True,
            "productPlatform": "PureCloud",
            "features": {},
            "selfUri": f"/api/v2/organizations/{sim.org.id}",
        }

    router.add("GET", "/api/v2/date", get_date)
    router.add("GET", "/api/v2/organizations/me", get_org)

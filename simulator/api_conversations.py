"""Routes of the conversation side: conversations, participant and custom attributes, callbacks,
analytics details, recordings and media, STA transcripts."""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from simulator import documents, variations, views
from simulator.analytics_jobs import detail_documents
from simulator.analytics_query import check_predicate_limits, parse_interval, run_query
from simulator.customattributes import CORETYPES, LIMITS, coretype_document
from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.media import content_type
from simulator.state import FORMAT_IDS, LiveCall

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

DEFAULT_FORMAT = "WEBM"
MEDIA_WAIT_S = 120.0


def s3_denied(reason: str) -> Response:
    """The S3-style 403 of an expired or tampered pre-signed URL."""
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        f"<Message>{'Request has expired' if reason == 'expired' else 'Invalid signature'}</Message></Error>"
    )
    return Response(403, text.encode(), content_type="application/xml")


def loose_json(doc: Any) -> bytes:
    """The document as JSON with trailing commas after the last element of every non-empty array
    and object, as Genesys' own published transcript sample has: valid for lenient readers only."""
    text = json.dumps(doc, indent=1)
    return re.sub(r"([}\]\"0-9a-z])(?=\n\s*[}\]])", r"\1,", text).encode("utf-8")


def register(router: Router, sim: Simulator) -> None:
    def live_call(req: Request) -> LiveCall:
        cid = req.params["conversationId"]
        live = sim.book.visible(cid)
        if live is None:
            raise not_found("Conversation", cid)
        return live

    def now_ms() -> int:
        return int(time.time() * 1000)

    # -- conversations ------------------------------------------------------------------------
    def get_conversation(req: Request) -> dict[str, Any]:
        cid = req.params["conversationId"]
        callback = sim.callback_conversation(cid)
        if callback is not None:
            return callback
        live = live_call(req)
        return views.conversation(live, sim.org, now_ms(), sim.book.attributes(cid))

    def patch_attributes(req: Request, *, returns_body: bool) -> Response:
        live = live_call(req)
        pid = req.params["participantId"]
        try:
            live.call.participant(pid)
        except KeyError:
            raise not_found("Participant", pid) from None
        body = req.json_object()
        attrs = body.get("attributes")
        if not isinstance(attrs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()
        ):
            raise bad_request("'attributes' must be an object of string values")
        merged = sim.book.set_attributes(live.conversation_id, pid, attrs)
        logger.info(
            "simulator conversation %s participant %s attributes updated: %s",
            live.conversation_id,
            pid,
            sorted(attrs),
        )
        sim.on_attributes_written(live)
        if returns_body:
            return Response(200, {"attributes": merged})
        return Response(202, None)

    router.add(
        "PATCH",
        "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes",
        lambda req: patch_attributes(req, returns_body=True),
    )

    # -- callbacks (configuration-change signal on the system queue) -----------------------------
    def post_callback(req: Request) -> dict[str, Any]:
        body = req.json_object()
        queue_id = body.get("queueId") or (body.get("routingData") or {}).get("queueId")
        if not queue_id:
            raise bad_request("A callback needs a queueId (or routingData.queueId)")
        try:
            queue = sim.org.queue_by_id(queue_id)
        except KeyError:
            raise bad_request(f"Queue {queue_id} does not exist") from None
        numbers = body.get("callbackNumbers")
        if not isinstance(numbers, list) or not numbers:
            raise bad_request("A callback needs at least one callbackNumbers entry")
        return sim.create_callback(queue, body)

    # -- custom attributes -------------------------------------------------------------------------
    schemas = "/api/v2/conversations/customattributes/schemas"

    def list_schemas(req: Request) -> dict[str, Any]:
        items = [s.document() for s in sim.custom.schemas()]
        return {"total": len(items), "entities": items, "selfUri": schemas}

    def limits(req: Request) -> dict[str, Any]:
        return {"id": "limits", "name": "limits", **LIMITS, "selfUri": schemas + "/limits"}

    def patch_callback(req: Request) -> dict[str, Any]:
        cid = req.params["conversationId"]
        if sim.callback_conversation(cid) is None:
            raise not_found("Callback conversation", cid)
        body = req.json_object()
        if body.get("state") != "disconnected":
            raise bad_request("On update, 'disconnected' is the only valid conversation state")
        return sim.disconnect_callback(cid)

    router.add("POST", "/api/v2/conversations/callbacks", post_callback)
    router.add("PATCH", "/api/v2/conversations/callbacks/{conversationId}", patch_callback)
    router.add("GET", schemas, list_schemas)
    router.add("POST", schemas, lambda req: sim.custom.create_schema(req.json_object()).document())
    router.add("GET", schemas + "/limits", limits)

    def coretypes(req: Request) -> dict[str, Any]:
        items = [coretype_document(name) for name in sorted(CORETYPES)]
        return {"total": len(items), "entities": items, "selfUri": schemas + "/coretypes"}

    def coretype(req: Request) -> dict[str, Any]:
        name = req.params["coreTypeName"]
        if name not in CORETYPES:
            raise not_found("Core type", name)
        return coretype_document(name)

    router.add("GET", schemas + "/coretypes", coretypes)
    router.add("GET", schemas + "/coretypes/{coreTypeName}", coretype)
    router.add(
        "GET", schemas + "/{schemaId}", lambda req: sim.custom.schema(req.params["schemaId"]).document()
    )

    def put_custom(req: Request) -> dict[str, Any]:
        live = live_call(req)
        return {"id": sim.custom.put(live.conversation_id, req.json_object()).id}

    def patch_custom(req: Request) -> Response:
        live = live_call(req)
        sim.custom.patch(live.conversation_id, req.json_object())
        return Response(204, None)

    def get_custom(req: Request) -> dict[str, Any]:
        live = live_call(req)
        return {"results": [r.document() for r in sim.custom.records(live.conversation_id)]}

    def get_custom_one(req: Request) -> dict[str, Any]:
        live = live_call(req)
        return sim.custom.record(live.conversation_id, req.params["attributesId"]).document()

    def delete_custom(req: Request) -> Response:
        live = live_call(req)
        sim.custom.delete(live.conversation_id, req.params["attributesId"])
        return Response(204, None)

    ca = "/api/v2/conversations/{conversationId}/customattributes"
    router.add("PUT", ca, put_custom)
    router.add("PATCH", ca, patch_custom)
    router.add("GET", ca, get_custom)
    router.add("GET", ca + "/{attributesId}", get_custom_one)
    router.add("DELETE", ca + "/{attributesId}", delete_custom)

    # -- analytics ----------------------------------------------------------------------------------
    def details_ready(live: LiveCall) -> bool:
        return time.time() >= live.details_s

    def get_details(req: Request) -> dict[str, Any]:
        callback = sim.callback_details(req.params["conversationId"])
        if callback is not None:
            return callback
        live = live_call(req)
        if not details_ready(live):
            raise not_found("Conversation details", live.conversation_id)
        return views.details(live, sim.org)

    def get_details_multi(req: Request) -> dict[str, Any]:
        ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
        if not ids:
            raise bad_request("Query parameter 'id' is required")
        if len(ids) > 100:
            raise bad_request("At most 100 conversation ids per request")
        docs = []
        for cid in ids:
            live = sim.book.visible(cid)
            replayed = sim.replay_book.details_document(cid)
            if live is not None and details_ready(live):
                docs.append(views.details(live, sim.org))
            elif replayed is not None:
                docs.append(replayed)
        return {"conversations": docs}

    def post_query(req: Request) -> dict[str, Any]:
        body = req.json_object()
        start, end = parse_interval(body.get("interval"))
        check_predicate_limits(body, sim.bulk.max_predicates)
        return run_query(
            body,
            detail_documents(sim, start, end),
            now_s=time.time(),
            max_predicates=None,
        )

    router.add("GET", "/api/v2/analytics/conversations/details", get_details_multi)
    router.add("POST", "/api/v2/analytics/conversations/details/query", post_query)
    router.add("GET", "/api/v2/analytics/conversations/{conversationId}/details", get_details)

    # -- recordings ---------------------------------------------------------------------------------
    def recordings_of(live: LiveCall) -> list[Any]:
        """Audio recordings then screen recordings, once any recording is listed."""
        if live.recording_state(time.time()) is None:
            return []
        return [*live.call.recordings, *live.screen_recordings]

    def is_screen(rec: Any) -> bool:
        return isinstance(rec, variations.ScreenRecording)

    def find_recording(live: LiveCall, rid: str) -> Any:
        for rec in recordings_of(live):
            if rec.recording_id == rid:
                return rec
        raise not_found("Recording", rid)

    def state_of(live: LiveCall, rec: Any) -> str:
        return live.file_state(rec.recording_id, time.time()) or "UPLOADING"

    def with_state_dates(live: LiveCall, doc: dict[str, Any], state: str) -> dict[str, Any]:
        """Dates that go with a final or restored file state (the policy dates are future ones)."""
        when = documents.iso(live.recordings_s * 1000)
        if state == "DELETED":
            doc["deleteDate"] = when
        elif state == "ARCHIVED":
            doc["archiveDate"], doc["archiveMedium"] = when, "CLOUDARCHIVE"
        elif state == "RESTORED":
            doc["restoreExpirationTime"] = documents.iso((live.restored_s + 2 * 86_400) * 1000)
        return doc

    def meta_doc(live: LiveCall, rec: Any) -> dict[str, Any]:
        state = state_of(live, rec)
        if is_screen(rec):
            return variations.screen_metadata(live.call, rec, state)
        doc = documents.recording_metadata(live.call, rec, sim.org, file_state=state)
        if state == "RESTORED":  # playable again: annotations as for AVAILABLE
            doc["annotations"] = documents.recording_metadata(live.call, rec)["annotations"]
        return with_state_dates(live, doc, state)

    def get_metadata_list(req: Request) -> list[dict[str, Any]]:
        live = live_call(req)
        return [meta_doc(live, rec) for rec in recordings_of(live)]

    def get_metadata(req: Request) -> dict[str, Any]:
        live = live_call(req)
        return meta_doc(live, find_recording(live, req.params["recordingId"]))

    def format_of(req: Request) -> str:
        formats = [f for v in req.query.get("mediaFormats", []) for f in v.split(",") if f]
        fmt = (formats[0] if formats else req.arg("formatId") or DEFAULT_FORMAT).upper()
        if fmt != "NONE" and fmt not in FORMAT_IDS:
            raise bad_request(f"formatId {fmt!r} is not one of {', '.join(FORMAT_IDS)}, NONE")
        return fmt

    def screen_doc(live: LiveCall, rec: Any, fmt: str) -> tuple[int, dict[str, Any]]:
        """A screen recording asked for in an audio format: 202 for `screen_transcode_s`."""
        state = state_of(live, rec)
        user = documents.user(sim.org.user_by_id(rec.user_id), sim.org)
        ready = time.time() >= live.recordings_s + sim.config.screen_transcode_s
        if fmt == "NONE" or state != "AVAILABLE":
            return (202 if state == "UPLOADING" else 200), variations.screen_recording(
                live.call, rec, user, state, None
            )
        if not ready:
            return 202, variations.screen_recording(live.call, rec, user, state, None)
        uri = sim.media_url(live.conversation_id, rec.recording_id, fmt)
        return 200, variations.screen_recording(live.call, rec, user, state, uri)

    def media_doc(live: LiveCall, rec: Any, fmt: str, max_wait_ms: int) -> tuple[int, dict[str, Any]]:
        """(status, Recording) for one recording in one format: 202 while 'transcoding'."""
        if is_screen(rec):
            return screen_doc(live, rec, fmt)
        state = state_of(live, rec)
        if state not in ("AVAILABLE", "RESTORED") or fmt == "NONE":
            doc = documents.recording(
                live.call,
                rec,
                sim.org,
                format_id=fmt,
                media_uris=None,
                file_state=state,
                annotation_rng=sim.annotation_rng(),
            )
            return (202 if state in ("UPLOADING", "RESTORING") else 200), with_state_dates(live, doc, state)
        future = sim.media.request(live.call, rec, fmt)
        before = sim.book.count_transcode_request(live.conversation_id, rec.recording_id, fmt)
        extra = int(sim.faults.extra_202)
        pending = before < sim.config.transcode_202_count + extra
        if pending and max_wait_ms > 0 and before >= extra:
            try:
                future.result(timeout=max_wait_ms / 1000.0)
                pending = False
            except FutureTimeout:
                pass
        if pending:
            doc = documents.recording(
                live.call,
                rec,
                sim.org,
                format_id=fmt,
                media_uris=None,
                file_state=state,
                annotation_rng=sim.annotation_rng(),
            )
            return 202, with_state_dates(live, doc, state)
        uri = sim.media_url(live.conversation_id, rec.recording_id, fmt)
        size = future.result().stat().st_size if future.done() and future.exception() is None else None
        doc = documents.recording(
            live.call,
            rec,
            sim.org,
            format_id=fmt,
            media_uris={"S": uri},
            file_state=state,
            output_size=size,
            annotation_rng=sim.annotation_rng(),
        )
        return 200, with_state_dates(live, doc, state)

    def max_wait(req: Request) -> int:
        try:
            return max(0, min(int(req.arg("maxWaitMs") or 0), 10_000))
        except ValueError as exc:
            raise bad_request("maxWaitMs must be an integer") from exc

    def get_recordings(req: Request) -> Response:
        live = live_call(req)
        fmt, wait = format_of(req), max_wait(req)
        results = [media_doc(live, rec, fmt, wait) for rec in recordings_of(live)]
        status = 202 if any(s == 202 for s, _ in results) else 200
        return Response(status, [d for _, d in results])

    def get_recording(req: Request) -> Response:
        live = live_call(req)
        rec = find_recording(live, req.params["recordingId"])
        status, doc = media_doc(live, rec, format_of(req), max_wait(req))
        return Response(status, doc)

    conv = "/api/v2/conversations/{conversationId}"
    router.add("GET", conv + "/recordingmetadata", get_metadata_list)
    router.add("GET", conv + "/recordingmetadata/{recordingId}", get_metadata)
    router.add("GET", conv + "/recordings", get_recordings)
    router.add("GET", conv + "/recordings/{recordingId}", get_recording)
    router.add(
        "PATCH",
        conv + "/participants/{participantId}/attributes",
        lambda req: patch_attributes(req, returns_body=False),
    )
    router.add("GET", conv, get_conversation)

    def download_media(req: Request) -> Response:
        problem = "expired" if sim.faults.expire_media_urls else sim.signer.check(req.path, req.query)
        if problem:
            return s3_denied(problem)
        cid, rid, fmt = req.params["conversationId"], req.params["recordingId"], req.params["formatId"]
        live = sim.book.get(cid)
        if live is None or fmt not in FORMAT_IDS:
            raise not_found("Media", rid)
        try:
            rec = live.call.recording(rid)
        except KeyError:  # a screen recording: no video is simulated
            raise not_found("Media", rid) from None
        path = sim.media.request(live.call, rec, fmt).result(timeout=MEDIA_WAIT_S)
        return Response(
            200, None, content_type=content_type(fmt), file=path, corrupt=bool(sim.faults.corrupt_media)
        )

    router.add("GET", "/media/{conversationId}/{recordingId}/{formatId}", download_media, auth=False)

    # -- speech and text analytics -----------------------------------------------------------------
    def transcript_ready(live: LiveCall, comm: str) -> bool:
        return (
            not sim.faults.transcripts_never
            and live.call.transcript_available
            and comm in documents.transcript_communication_ids(live.call)
            and time.time() >= live.transcript_s
        )

    def get_transcript_url(req: Request) -> dict[str, Any]:
        """The single-URL endpoint: the first part of the communication's transcript only."""
        live = live_call(req)
        comm = req.params["communicationId"]
        if not transcript_ready(live, comm):
            raise not_found("Transcript", comm)
        return {"url": sim.transcript_url(live.conversation_id, comm)}

    def get_transcript_urls(req: Request) -> dict[str, Any]:
        """`TranscriptUrls`: one URL per recording of the communication (every part)."""
        live = live_call(req)
        comm = req.params["communicationId"]
        if not transcript_ready(live, comm):
            raise not_found("Transcript", comm)
        cid = live.conversation_id
        return {
            "conversation": {"id": cid, "selfUri": f"/api/v2/conversations/{cid}"},
            "communicationId": comm,
            "urls": [
                {
                    "recording": {
                        "id": r.recording_id,
                        "selfUri": f"/api/v2/conversations/{cid}/recordings/{r.recording_id}",
                    },
                    "url": sim.transcript_url(cid, comm, part),
                }
                for part, r in enumerate(documents.transcript_parts(live.call, comm))
            ],
        }

    def download_transcript(req: Request) -> Response:
        problem = "expired" if sim.faults.expire_media_urls else sim.signer.check(req.path, req.query)
        if problem:
            return s3_denied(problem)
        live = sim.book.get(req.params["conversationId"])
        if live is None:
            raise ApiError(404, "No such transcript")
        try:
            part = int(req.params.get("part", "0"))
            doc = documents.transcript_document(live.call, sim.org, req.params["communicationId"], part)
        except (KeyError, ValueError):
            raise ApiError(404, "No such transcript") from None
        if sim.faults.loose_transcript_json:
            return Response(200, loose_json(doc), content_type="application/json")
        return Response(200, doc)

    sta = "/api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}"
    router.add("GET", sta + "/transcripturl", get_transcript_url)
    router.add("GET", sta + "/transcripturls", get_transcript_urls)
    router.add("GET", "/transcripts/{conversationId}/{communicationId}", download_transcript, auth=False)
    router.add(
        "GET", "/transcripts/{conversationId}/{communicationId}/{part}", download_transcript, auth=False
    )

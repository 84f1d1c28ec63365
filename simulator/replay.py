"""Replay captured conversations: `python run.py simulate --replay DIR...`, `Simulator(replay=[...])`.

A capture directory (`capture.layout`) is served for its conversation id exactly as captured: the
analytics details, the conversation (with participant attributes written at run time merged in,
and the service's own earlier status attributes left out so the call can be exported again), the
recording metadata, the recordings (with fresh signed media URLs for the requested `formatId`),
the STA transcripts behind signed URLs (bytes as captured), and the queue, user, wrap-up code and
retention-policy documents next to the org's own (a captured queue replaces an org queue of the
same name). Participant attribute PATCHes and custom attributes work on replayed calls.

Media in every formatId: the captured audio (WAV as captured for `WAV`, re-encoded for the other
formats), or, without it, synthesised audio of the recorded length and channel count, with speech
where the captured transcript has phrases. Everything is available at once (a replayed call is
history: no events, no 202s).

Routes are layered over the simulator's own (`Router.wrap`): a request about a replayed
conversation is answered here, any other goes to the simulator as before.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from capture.layout import Capture, CaptureError, load_capture, safe_name
from simulator import documents
from simulator.api_conversations import s3_denied
from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.media import EXTENSIONS, content_type
from simulator.paging import listing, name_matches
from simulator.state import FORMAT_IDS

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

STATUS_PREFIX = "callexport."
"""Participant attributes the service writes back (`export.output_plan.STATUS_PREFIX`)."""

_CONFIG_PROFILES = "Profiles"


class ReplayedCall:
    """One captured conversation, served as history."""

    def __init__(self, capture: Capture, *, keep_status_attributes: bool = False) -> None:
        self.capture = capture
        self.conversation_id = capture.conversation_id
        self.keep_status_attributes = keep_status_attributes
        self._attributes: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self.metadata = {str(m["id"]): m for m in capture.recording_metadata if m.get("id")}
        self.recordings = {str(r["id"]): r for r in capture.recordings if r.get("id")}
        self.recording_ids = list(self.metadata) + [r for r in self.recordings if r not in self.metadata]
        self.participant_ids = {
            str(p.get("id") or p.get("participantId"))
            for doc in (capture.conversation, capture.details)
            for p in doc.get("participants") or []
            if isinstance(p, dict) and (p.get("id") or p.get("participantId"))
        }

    # -- conversation and attributes -------------------------------------------------------------
    def conversation(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.capture.conversation)
        written = self.attributes()
        for participant in doc.get("participants") or []:
            if not isinstance(participant, dict):
                continue
            attrs = dict(participant.get("attributes") or {})
            if not self.keep_status_attributes:
                attrs = {k: v for k, v in attrs.items() if not str(k).startswith(STATUS_PREFIX)}
            attrs.update(written.get(str(participant.get("id")), {}))
            if attrs or "attributes" in participant:
                participant["attributes"] = attrs
        return doc

    def attributes(self) -> dict[str, dict[str, str]]:
        with self._lock:
            return {pid: dict(a) for pid, a in self._attributes.items()}

    def set_attributes(self, participant_id: str, attrs: dict[str, str]) -> dict[str, str]:
        with self._lock:
            merged = self._attributes.setdefault(participant_id, {})
            merged.update(attrs)
            return dict(merged)

    # -- recordings --------------------------------------------------------------------------------
    def file_state(self, recording_id: str) -> str:
        doc = self.metadata.get(recording_id) or self.recordings.get(recording_id) or {}
        return str(doc.get("fileState") or "AVAILABLE")

    def recording_doc(self, recording_id: str, media_url: str | None, size: int | None) -> dict[str, Any]:
        """The captured `Recording` (or, when only metadata was captured, the metadata fields),
        with `mediaUris` for the requested format when the recording can be downloaded."""
        doc = copy.deepcopy(self.recordings.get(recording_id) or self.metadata[recording_id])
        doc.pop("mediaUris", None)
        if media_url is not None:
            doc["mediaUris"] = {"S": {"mediaUri": media_url}}
            if size is not None:
                doc["outputSizeInBytes"] = size
        return doc

    def downloadable(self, recording_id: str) -> bool:
        doc = self.metadata.get(recording_id) or self.recordings.get(recording_id) or {}
        return self.file_state(recording_id) in ("AVAILABLE", "RESTORED") and str(
            doc.get("media") or "audio"
        ).lower() in ("audio", "")

    def media_job(self, recording_id: str, format_id: str) -> Callable[[Path], Path]:
        """How the media of one recording in one format is made (run once, on the encoding pool)."""
        from simulator.media import encode_blocks

        facts = self.capture.media.get(recording_id)
        if facts is not None and facts.file is not None and format_id == facts.format_id:
            captured = facts.file
            return lambda _directory: captured

        def job(directory: Path) -> Path:
            dest = directory / (
                f"replay_{safe_name(self.conversation_id)}_{safe_name(recording_id)}_{format_id.lower()}"
                f"{EXTENSIONS[format_id]}"
            )
            source: Any
            if facts is not None and facts.file is not None:
                source = _FileBlocks(facts.file)
            else:
                source = self.synthesiser(recording_id)
            encode_blocks(source, format_id, dest)
            logger.info(
                "simulator replay: conversation %s recording %s as %s (%s audio, %d bytes)",
                self.conversation_id,
                recording_id,
                format_id,
                "captured" if facts is not None and facts.file is not None else "synthesised",
                dest.stat().st_size,
            )
            return dest

        return job

    def synthesiser(self, recording_id: str) -> Any:
        """Synthetic audio of the recorded length and channel count, with speech where the captured
        transcripts have phrases (`simulator.audio_synth`)."""
        from simulator.audio_synth import DEFAULT_SAMPLE_RATE, RecordingRenderer
        from simulator.model import Call, Recording

        doc = self.recordings.get(recording_id) or self.metadata.get(recording_id) or {}
        start_ms = (
            _epoch_ms(doc.get("startTime")) or _epoch_ms(self.capture.details.get("conversationStart")) or 0
        )
        facts = self.capture.media.get(recording_id)
        sr = DEFAULT_SAMPLE_RATE
        if facts is not None:
            channels, frames = facts.channels, round(facts.frames * sr / facts.sample_rate)
        else:
            end_ms = _epoch_ms(doc.get("endTime"))
            duration_ms = doc.get("outputDurationMs") or ((end_ms - start_ms) if end_ms else 0)
            channels, frames = 2, round(float(duration_ms) * sr / 1000)
        if channels > 2:
            logger.warning(
                "simulator replay: recording %s has %d channels; synthesising 2", recording_id, channels
            )
        subtype = str(doc.get("mediaSubtype") or "Trunk")
        layout = "dual" if channels >= 2 else ("internal" if subtype.lower() == "station" else "external")
        end = start_ms + math.ceil(frames * 1000 / sr)
        # a recording that is not dual-channel has both parties on its one channel (docs/genesys.md)
        rec = Recording(
            recording_id,
            subtype,
            start_ms,
            end,
            layout,
            (),
            str(doc.get("sessionId") or ""),
            channel_layout="standard" if channels >= 2 else "mixed",
        )
        call = Call(
            conversation_id=self.conversation_id,
            kind="replay",
            start_ms=start_ms,
            end_ms=end,
            direction=str(self.capture.details.get("originatingDirection") or "inbound"),
            participants=(),
            recordings=(rec,),
            utterances=tuple(self._utterances()),
            sounds=(),
            transcript_available=False,
            customer_attributes={},
            ani="",
            dnis="",
            queue_name=None,
            division_id="",
            audio_seed=zlib.crc32(f"{self.conversation_id}/{recording_id}".encode()),
        )
        renderer = RecordingRenderer(call, rec, sr)
        renderer.total_frames = frames
        return renderer

    def _utterances(self) -> Iterator[Any]:
        from simulator.model import Utterance, Word
        from transcripts.errors import TranscriptError
        from transcripts.parse import decode_json

        for data in (t.data for parts in self.capture.transcripts.values() for t in parts):
            try:
                doc, _warnings = decode_json(data)
            except TranscriptError:
                continue
            for transcript in doc.get("transcripts") or []:
                for phrase in transcript.get("phrases") or []:
                    try:
                        start = int(phrase["startTimeMs"])
                        end = start + int((phrase.get("duration") or {}).get("milliseconds") or 0)
                    except (KeyError, TypeError, ValueError):
                        continue
                    purpose = str(phrase.get("participantPurpose") or "").lower()
                    side = "external" if purpose in ("external", "customer") else "internal"
                    words = []
                    for w in phrase.get("words") or []:
                        try:
                            w0 = int(w["startTimeMs"])
                            w1 = w0 + int((w.get("duration") or {}).get("milliseconds") or 0)
                        except (KeyError, TypeError, ValueError):
                            continue
                        words.append(Word(str(w.get("word") or "a"), w0, max(w1, w0 + 1), 1.0))
                    if end > start and words:
                        yield Utterance(
                            side,
                            "",
                            start,
                            end,
                            str(phrase.get("text") or ""),
                            tuple(words),
                            1.0,
                            voice=int(side == "external"),
                        )


class _FileBlocks:
    """Captured audio as float32 blocks for the simulator's encoders."""

    def __init__(self, path: Path) -> None:
        import soundfile

        info = soundfile.info(str(path))
        self.path = path
        self.sr = int(info.samplerate)
        self.channels = int(info.channels)

    def iter_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        import soundfile

        with soundfile.SoundFile(str(self.path)) as f:
            yield from f.blocks(blocksize=block_frames, dtype="float32", always_2d=True)


def _epoch_ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


class ReplayBook:
    """Every replayed conversation of a simulator, and the org documents their captures brought."""

    def __init__(self) -> None:
        self._calls: dict[str, ReplayedCall] = {}
        self.docs: dict[str, dict[str, dict[str, Any]]] = {
            "queue": {},
            "user": {},
            "wrapup-code": {},
            "retention-policy": {},
        }
        self._lock = threading.Lock()

    def add(self, call: ReplayedCall) -> None:
        with self._lock:
            self._calls[call.conversation_id] = call
            capture = call.capture
            self.docs["queue"].update(capture.queues)
            self.docs["user"].update(capture.users)
            self.docs["wrapup-code"].update(capture.wrapup_codes)
            self.docs["retention-policy"].update(capture.policies)

    def get(self, conversation_id: str) -> ReplayedCall | None:
        with self._lock:
            return self._calls.get(conversation_id)

    def calls(self) -> list[ReplayedCall]:
        with self._lock:
            return list(self._calls.values())

    def details_document(self, conversation_id: str) -> dict[str, Any] | None:
        call = self.get(conversation_id)
        return copy.deepcopy(call.capture.details) if call is not None else None

    def details_documents(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(c.capture.details) for c in self.calls()]

    def captured(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: copy.deepcopy(v) for k, v in self.docs[kind].items()}


def load(
    sim: Simulator,
    directory: Path | str,
    *,
    destination_root: Path | str | None = None,
    keep_status_attributes: bool = False,
) -> ReplayedCall:
    """Load a capture into ``sim`` (`CaptureError` names the file at fault; nothing is half-loaded).

    The captures' configuration documents go into the configuration table: one as it is (every
    DestinationRoot set to ``destination_root`` when given); several merged into one document whose
    ``Profiles`` are all of theirs (identical duplicates once; a different profile of the same name
    gets the capture's directory name appended). A ``config_document`` given to the simulator wins."""
    capture = load_capture(directory)
    call = ReplayedCall(capture, keep_status_attributes=keep_status_attributes)
    document = None
    if capture.profile is not None and not sim.config_from_argument:
        profiles = [*sim.replay_profiles, (capture.root / "profile.json", capture.profile)]
        document = combined_configuration(profiles, destination_root)
    sim.replay_book.add(call)
    if document is not None:
        sim.replay_profiles.append((capture.root / "profile.json", capture.profile or ""))
        sim.set_config_document(document)
    logger.info(
        "simulator replaying conversation %s from %s (%d recording(s), %d transcript(s), %s audio)",
        call.conversation_id,
        capture.root,
        len(call.recording_ids),
        len(capture.transcripts),
        "captured" if any(f.file for f in capture.media.values()) else "synthesised",
    )
    return call


def combined_configuration(documents: list[tuple[Path, str]], destination_root: Path | str | None) -> str:
    """One configuration document from the captured ones (see `load`). With ``destination_root`` the
    profiles' DestinationRoots move below it together, keeping their layout: the common part of
    their paths is replaced by ``destination_root`` (one profile: its root becomes it)."""
    import json

    if len(documents) == 1 and destination_root is None:
        return documents[0][1]
    combined: dict[str, Any] | None = None
    seen: dict[str, dict[str, Any]] = {}
    for path, text in documents:
        try:
            document = json.loads(text)
            profiles = document[_CONFIG_PROFILES]
            if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
                raise TypeError("Profiles is not a list of objects")
        except (ValueError, KeyError, TypeError) as exc:
            raise CaptureError(
                path, f"not a configuration document with Profiles, cannot be combined or re-rooted ({exc})"
            ) from None
        if combined is None:
            combined = {k: v for k, v in document.items() if k != _CONFIG_PROFILES}
            combined[_CONFIG_PROFILES] = []
        for profile in profiles:
            profile = dict(profile)
            key = str(profile.get("Name", "")).casefold()
            if key in seen:
                if seen[key] == profile:
                    continue
                profile["Name"] = f"{profile.get('Name')} ({path.parent.name})"
                key = str(profile["Name"]).casefold()
            seen[key] = profile
            combined[_CONFIG_PROFILES].append(profile)
    assert combined is not None
    if destination_root is not None:
        roots = [str(p.get("DestinationRoot") or "") for p in combined[_CONFIG_PROFILES]]
        for profile, root in zip(
            combined[_CONFIG_PROFILES], rebased_roots(roots, Path(destination_root)), strict=True
        ):
            profile["DestinationRoot"] = str(root)
    return json.dumps(combined)


def rebased_roots(roots: list[str], new_root: Path) -> list[Path]:
    """``roots`` moved below ``new_root``, their common leading folders replaced by it (Windows and
    UNC roots of a customer's capture are understood as such)."""
    import re
    from pathlib import PurePath, PurePosixPath, PureWindowsPath

    def parts(root: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(comparison keys, original parts) of one root."""
        windows = "\\" in root or re.match(r"^[A-Za-z]:", root) is not None
        path: PurePath = PureWindowsPath(root) if windows else PurePosixPath(root)
        return tuple(p.casefold() if windows else p for p in path.parts), path.parts

    split = [parts(r) for r in roots]
    keys = [k for k, _ in split]
    common = len(keys[0]) if len(keys) == 1 else 0
    while len(keys) > 1 and all(len(k) > common for k in keys) and len({k[common] for k in keys}) == 1:
        common += 1
    return [new_root.joinpath(*original[common:]) for _, original in split]


# -- routes ----------------------------------------------------------------------------------------
def install(router: Router, sim: Simulator) -> None:
    """Layer the replay over the simulator's routes (requests about other conversations pass)."""
    book = sim.replay_book

    def scoped(method: str, template: str, handler: Callable[[Request, ReplayedCall], Any]) -> None:
        def wrapper(original: Callable[[Request], Any]) -> Callable[[Request], Any]:
            def handle(req: Request) -> Any:
                call = book.get(req.params.get("conversationId", ""))
                return original(req) if call is None else handler(req, call)

            return handle

        router.wrap(method, template, wrapper)

    conv = "/api/v2/conversations/{conversationId}"

    def participant(call: ReplayedCall, req: Request) -> str:
        pid = req.params["participantId"]
        if pid not in call.participant_ids:
            raise not_found("Participant", pid)
        return pid

    def patch_attributes(req: Request, call: ReplayedCall, returns_body: bool) -> Response:
        pid = participant(call, req)
        attrs = req.json_object().get("attributes")
        if not isinstance(attrs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()
        ):
            raise bad_request("'attributes' must be an object of string values")
        merged = call.set_attributes(pid, attrs)
        return Response(200, {"attributes": merged}) if returns_body else Response(202, None)

    scoped("GET", conv, lambda req, call: call.conversation())
    scoped(
        "PATCH",
        "/api/v2/conversations/calls/{conversationId}/participants/{participantId}/attributes",
        lambda req, call: patch_attributes(req, call, True),
    )
    scoped(
        "PATCH",
        conv + "/participants/{participantId}/attributes",
        lambda req, call: patch_attributes(req, call, False),
    )

    # custom attributes: the simulator's store, keyed by the replayed conversation id
    ca = conv + "/customattributes"
    scoped("PUT", ca, lambda req, call: {"id": sim.custom.put(call.conversation_id, req.json_object()).id})

    def patch_custom(req: Request, call: ReplayedCall) -> Response:
        sim.custom.patch(call.conversation_id, req.json_object())
        return Response(204, None)

    def delete_custom(req: Request, call: ReplayedCall) -> Response:
        sim.custom.delete(call.conversation_id, req.params["attributesId"])
        return Response(204, None)

    scoped("PATCH", ca, patch_custom)
    scoped(
        "GET",
        ca,
        lambda req, call: {"results": [r.document() for r in sim.custom.records(call.conversation_id)]},
    )
    scoped(
        "GET",
        ca + "/{attributesId}",
        lambda req, call: sim.custom.record(call.conversation_id, req.params["attributesId"]).document(),
    )
    scoped("DELETE", ca + "/{attributesId}", delete_custom)

    scoped(
        "GET",
        "/api/v2/analytics/conversations/{conversationId}/details",
        lambda req, call: copy.deepcopy(call.capture.details),
    )

    # recordings and media
    def metadata_one(req: Request, call: ReplayedCall) -> dict[str, Any]:
        rid = req.params["recordingId"]
        if rid not in call.metadata:
            raise not_found("Recording", rid)
        return copy.deepcopy(call.metadata[rid])

    def format_of(req: Request) -> str:
        formats = [f for v in req.query.get("mediaFormats", []) for f in v.split(",") if f]
        fmt = (formats[0] if formats else req.arg("formatId") or "WEBM").upper()
        if fmt != "NONE" and fmt not in FORMAT_IDS:
            raise bad_request(f"formatId {fmt!r} is not one of {', '.join(FORMAT_IDS)}, NONE")
        return fmt

    def recording(call: ReplayedCall, rid: str, fmt: str) -> dict[str, Any]:
        if fmt == "NONE" or not call.downloadable(rid):
            return call.recording_doc(rid, None, None)
        future = sim.media.request_job(
            (f"replay:{call.conversation_id}:{rid}", fmt), call.media_job(rid, fmt)
        )
        size = future.result().stat().st_size if future.done() and future.exception() is None else None
        return call.recording_doc(rid, sim.media_url(call.conversation_id, rid, fmt), size)

    def recordings(req: Request, call: ReplayedCall) -> Response:
        fmt = format_of(req)
        return Response(200, [recording(call, rid, fmt) for rid in call.recording_ids])

    def recording_one(req: Request, call: ReplayedCall) -> Response:
        rid = req.params["recordingId"]
        if rid not in call.recording_ids:
            raise not_found("Recording", rid)
        return Response(200, recording(call, rid, format_of(req)))

    scoped("GET", conv + "/recordingmetadata", lambda req, call: copy.deepcopy(list(call.metadata.values())))
    scoped("GET", conv + "/recordingmetadata/{recordingId}", metadata_one)
    scoped("GET", conv + "/recordings", recordings)
    scoped("GET", conv + "/recordings/{recordingId}", recording_one)

    def download_media(req: Request, call: ReplayedCall) -> Response:
        problem = "expired" if sim.faults.expire_media_urls else sim.signer.check(req.path, req.query)
        if problem:
            return s3_denied(problem)
        rid, fmt = req.params["recordingId"], req.params["formatId"]
        if rid not in call.recording_ids or fmt not in FORMAT_IDS or not call.downloadable(rid):
            raise not_found("Media", rid)
        future = sim.media.request_job(
            (f"replay:{call.conversation_id}:{rid}", fmt), call.media_job(rid, fmt)
        )
        path = future.result(timeout=120.0)
        return Response(
            200, None, content_type=content_type(fmt), file=path, corrupt=bool(sim.faults.corrupt_media)
        )

    scoped("GET", "/media/{conversationId}/{recordingId}/{formatId}", download_media)

    # transcripts: one part per recording of a communication (`transcripturls`), bytes as captured
    def transcript_parts(req: Request, call: ReplayedCall) -> tuple[str, list[Any]]:
        comm = req.params["communicationId"]
        parts = call.capture.transcripts.get(comm)
        if sim.faults.transcripts_never or not parts:
            raise not_found("Transcript", comm)
        return comm, parts

    def transcript_url(req: Request, call: ReplayedCall) -> dict[str, Any]:
        comm, _parts = transcript_parts(req, call)
        return {"url": sim.transcript_url(call.conversation_id, comm)}  # the single URL: the first part

    def transcript_urls(req: Request, call: ReplayedCall) -> dict[str, Any]:
        comm, parts = transcript_parts(req, call)
        cid = call.conversation_id
        sessions = [
            r
            for r in call.recording_ids
            if str((call.recordings.get(r) or call.metadata.get(r) or {}).get("sessionId")) == comm
        ] or call.recording_ids
        urls = []
        for index, part in enumerate(parts):
            rid = part.recording_id or (sessions[min(index, len(sessions) - 1)] if sessions else None)
            item: dict[str, Any] = {"url": sim.transcript_url(cid, comm, index)}
            if rid:
                item = {
                    "recording": {"id": rid, "selfUri": f"/api/v2/conversations/{cid}/recordings/{rid}"},
                    **item,
                }
            urls.append(item)
        return {
            "conversation": {"id": cid, "selfUri": f"/api/v2/conversations/{cid}"},
            "communicationId": comm,
            "urls": urls,
        }

    def download_transcript(req: Request, call: ReplayedCall) -> Response:
        problem = "expired" if sim.faults.expire_media_urls else sim.signer.check(req.path, req.query)
        if problem:
            return s3_denied(problem)
        parts = call.capture.transcripts.get(req.params["communicationId"]) or []
        try:
            index = int(req.params.get("part", "0"))
        except ValueError:
            index = -1
        if not 0 <= index < len(parts):
            raise ApiError(404, "No such transcript")
        return Response(200, parts[index].data)

    sta = "/api/v2/speechandtextanalytics/conversations/{conversationId}/communications/{communicationId}"
    scoped("GET", sta + "/transcripturl", transcript_url)
    scoped("GET", sta + "/transcripturls", transcript_urls)
    scoped("GET", "/transcripts/{conversationId}/{communicationId}", download_transcript)
    scoped("GET", "/transcripts/{conversationId}/{communicationId}/{part}", download_transcript)

    _install_lookups(router, sim)


def _install_lookups(router: Router, sim: Simulator) -> None:
    """Captured queues, users, wrap-up codes and policies next to the org's own."""
    book = sim.replay_book
    org = sim.org
    sources: dict[str, tuple[str, str, Callable[[], list[dict[str, Any]]]]] = {
        "queue": (
            "/api/v2/routing/queues",
            "queueId",
            lambda: [documents.queue(q, org) for q in org.all_queues()],
        ),
        "user": ("/api/v2/users", "userId", lambda: [documents.user(u, org) for u in org.users]),
        "wrapup-code": (
            "/api/v2/routing/wrapupcodes",
            "codeId",
            lambda: [documents.wrapup_code(c.id, org) for c in org.wrapup_codes],
        ),
        "retention-policy": (
            "/api/v2/recording/mediaretentionpolicies",
            "policyId",
            lambda: [documents.retention_policy(p, org) for p in org.policies],
        ),
    }
    for kind, (path, param, org_docs) in sources.items():

        def listing_wrapper(
            original: Callable[[Request], Any],
            kind: str = kind,
            org_docs: Callable[[], list[dict[str, Any]]] = org_docs,
        ) -> Callable[[Request], Any]:
            def handle(req: Request) -> Any:
                captured = book.captured(kind)
                if not captured:
                    return original(req)
                names = {str(d.get("name", "")).lower() for d in captured.values()}
                # a captured queue replaces the org's queue of the same name (profiles name queues)
                docs = list(captured.values()) + [
                    d
                    for d in org_docs()
                    if d.get("id") not in captured
                    and (kind != "queue" or str(d.get("name", "")).lower() not in names)
                ]
                name = req.arg("name")
                if name:
                    docs = [d for d in docs if name_matches(name, str(d.get("name", "")))]
                ids = [i for v in req.query.get("id", []) for i in v.split(",") if i]
                if ids:
                    docs = [d for d in docs if d.get("id") in ids]
                docs.sort(
                    key=lambda d: str(d.get("name", "")).lower(),
                    reverse=(req.arg("sortOrder") or "asc").lower() == "desc",
                )
                return listing(docs, req.path, req.query)

            return handle

        def one_wrapper(
            original: Callable[[Request], Any], kind: str = kind, param: str = param
        ) -> Callable[[Request], Any]:
            def handle(req: Request) -> Any:
                doc = book.captured(kind).get(req.params.get(param, ""))
                return original(req) if doc is None else doc

            return handle

        router.wrap("GET", path, listing_wrapper)
        router.wrap("GET", path + "/{" + param + "}", one_wrapper)

// The live preview: every file a profile would write for a sample conversation: port of
// profiles/preview.py (same documents in, same paths out).

import { buildContext } from "./context.js";
import { engineData } from "./data.js";
import { displayPath, segmentSuffix } from "./paths.js";
import { planSegments } from "./segments.js";
import { parseTimestamp } from "./time.js";

class PreviewSequence {
  constructor() {
    this.value = 0;
  }
  nextValue() {
    this.value += 1;
    return this.value;
  }
}

export function audioRecordings(recordings, details) {
  if (recordings !== null && recordings !== undefined) {
    return recordings.filter((r) => String(r.media === undefined ? "audio" : r.media).toLowerCase() === "audio");
  }
  return [
    {
      conversationId: details.conversationId ?? null,
      startTime: details.conversationStart ?? null,
      endTime: details.conversationEnd || details.conversationStart || null,
      media: "audio",
      annotations: [],
    },
  ];
}

export function customerCommunications(details) {
  const sessions = [];
  for (const participant of details.participants || []) {
    if (!["customer", "external"].includes(String(participant.purpose ?? "").toLowerCase())) continue;
    for (const session of participant.sessions || []) {
      if (session.sessionId && String(session.mediaType ?? "voice").toLowerCase() === "voice") sessions.push(session);
    }
  }
  return sessions;
}

function sessionStartMs(session) {
  let best = null;
  for (const s of session.segments || []) {
    if (!s.segmentStart) continue;
    const t = parseTimestamp(s.segmentStart);
    if (t !== null && (best === null || t.compare(best) < 0)) best = t;
  }
  return best === null ? null : Math.trunc(best.timestamp() * 1000);
}

export const extensionFor = (kind, format) => engineData().extensions[kind][format];

function writesSegmentFiles(profile) {
  const filter = profile.ParticipantPurposesToExport.length > 0 || profile.CallSegmentsToExport.length > 0;
  return filter && !profile.ConcatenateParticipantSegments;
}

/** Every file `profile` (a document with defaults applied) would write, in the service's order. */
export function previewFiles(profile, details, recordings = null, options = {}) {
  const sequence = new PreviewSequence();
  const common = {
    details,
    profile,
    conversation: options.conversation ?? null,
    queueNames: options.queueNames ?? null,
    userNames: options.userNames ?? null,
    flowNames: options.flowNames ?? null,
    sequence,
    now: options.now ?? null,
    machineName: options.machineName ?? null,
  };
  const files = [];
  const audio = audioRecordings(recordings, details);
  if (profile.AudioExportEnabled) {
    const ext = extensionFor("audio", profile.AudioFormat);
    for (const rec of audio) {
      const label = `recording ${rec.id || "(none given)"}`;
      const real = rec.id ? rec : null;
      const context = buildContext({ ...common, recording: real, fileExtension: ext, formatName: profile.AudioFormat });
      if (!writesSegmentFiles(profile)) {
        files.push({ kind: "audio", path: displayPath(profile, context, "audio"), source: label });
        continue;
      }
      const plan = planSegments(details, rec, {
        purposes: profile.ParticipantPurposesToExport,
        segmentTypes: profile.CallSegmentsToExport,
      });
      for (const segment of plan) {
        const suffix = segmentSuffix(segment.participantName || segment.purpose, segment.segmentType, segment.ordinal);
        files.push({
          kind: "audio",
          path: displayPath(profile, context, "audio", suffix),
          source: `${label}, segment ${segment.ordinal}: ${segment.title}`,
        });
      }
    }
  }
  if (profile.TranscriptExportEnabled) {
    const ext = extensionFor("transcript", profile.TranscriptFormat);
    for (const session of customerCommunications(details)) {
      const communication = String(session.sessionId);
      const rec = audio.find((r) => r.id && r.sessionId === communication) ?? null;
      let startMs = null;
      if (rec && rec.startTime) {
        const moment = parseTimestamp(rec.startTime);
        startMs = moment ? Math.trunc(moment.timestamp() * 1000) : null;
      }
      const standIn = { communicationId: communication, startTime: startMs || sessionStartMs(session) };
      const context = buildContext({
        ...common,
        recording: rec,
        transcript: standIn,
        fileExtension: ext,
        formatName: profile.TranscriptFormat,
      });
      files.push({ kind: "transcript", path: displayPath(profile, context, "transcript"), source: `communication ${communication}` });
    }
  }
  return files;
}

// Which participant segments of a call an individual-segment export writes: port of the selection
// part of audio/segments.py plan_segments (media clock, gaps, filters, time order).

import { parseIso } from "./time.js";

const GAP_REASONS = ["SecurePause", "FlowOrQueue", "Pause"];

/** Python's round() of a float to an integer (half to even). */
function pyRoundInt(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function epochMs(value) {
  if (typeof value === "number") return Math.trunc(value);
  return pyRoundInt(parseIso(String(value).replaceAll("Z", "+00:00")).timestamp() * 1000);
}

const has = (obj, key) => obj && typeof obj === "object" && key in obj;

function mediaClock(recording) {
  const start = epochMs(recording.startTime);
  const gaps = [];
  let removed = 0;
  const location = (a) => (has(a, "realtimeLocation") ? a.realtimeLocation : has(a, "location") ? a.location : 0);
  const annotations = (recording.annotations || [])
    .filter((a) => GAP_REASONS.includes(a.reason))
    .map((a, i) => [a, i])
    .sort((x, y) => location(x[0]) - location(y[0]) || x[1] - y[1])
    .map(([a]) => a);
  for (const ann of annotations) {
    const duration = Math.trunc((has(ann, "realtimeDurationMs") ? ann.realtimeDurationMs : has(ann, "durationMs") ? ann.durationMs : 0) || 0);
    if (duration <= 0) continue;
    const wall = has(ann, "realtimeLocation") ? start + Math.trunc(ann.realtimeLocation) : start + Math.trunc(has(ann, "location") ? ann.location : 0) + removed;
    gaps.push({ wallStartMs: wall, durationMs: duration });
    removed += duration;
  }
  return { startEpochMs: start, gaps };
}

function wallSpanToMedia(clock, startMs, endMs) {
  const gaps = clock.gaps.map((g, i) => [g, i]).sort((a, b) => a[0].wallStartMs - b[0].wallStartMs || a[1] - b[1]).map(([g]) => g);
  for (const gap of gaps) if (gap.wallStartMs <= startMs && startMs < gap.wallStartMs + gap.durationMs) startMs = gap.wallStartMs + gap.durationMs;
  for (const gap of [...gaps].reverse()) if (gap.wallStartMs < endMs && endMs <= gap.wallStartMs + gap.durationMs) endMs = gap.wallStartMs;
  if (endMs <= startMs) return null;
  const media = (t) => {
    const removed = gaps.filter((g) => g.wallStartMs + g.durationMs <= t).reduce((s, g) => s + g.durationMs, 0);
    return (t - clock.startEpochMs - removed) / 1000.0;
  };
  return [Math.max(media(startMs), 0.0), media(endMs)];
}

function mediaDuration(recording, clock) {
  if (!recording.endTime) return 0.0;
  const wall = epochMs(recording.endTime) - clock.startEpochMs;
  return Math.max(0.0, (wall - clock.gaps.reduce((s, g) => s + g.durationMs, 0)) / 1000.0);
}

const round3 = (x) => Number(x.toFixed(3));
const str = (v) => (v === null || v === undefined ? "None" : v === true ? "True" : v === false ? "False" : String(v));

/** The kept segments of `recording`, in time order, each with its 1-based ordinal. */
export function planSegments(details, recording, { purposes = [], segmentTypes = [] } = {}) {
  const clock = mediaClock(recording);
  const duration = mediaDuration(recording, clock);
  const wantPurposes = new Set(purposes.map((p) => p.toLowerCase()));
  const wantTypes = new Set(segmentTypes.map((t) => t.toLowerCase()));
  const found = [];
  for (const participant of details.participants || []) {
    const purpose = str(has(participant, "purpose") ? participant.purpose : "").toLowerCase();
    if (wantPurposes.size && !wantPurposes.has(purpose)) continue;
    for (const session of participant.sessions || []) {
      if (str(has(session, "mediaType") ? session.mediaType : "voice").toLowerCase() !== "voice") continue;
      for (const seg of session.segments || []) {
        const segType = str(has(seg, "segmentType") ? seg.segmentType : "").toLowerCase();
        if (wantTypes.size && !wantTypes.has(segType)) continue;
        if (!has(seg, "segmentStart") || !has(seg, "segmentEnd")) continue;
        const wall0 = epochMs(seg.segmentStart);
        const wall1 = epochMs(seg.segmentEnd);
        const span = wallSpanToMedia(clock, wall0, wall1);
        if (span === null) continue;
        const start = Math.max(0.0, span[0]);
        let end = span[1];
        if (duration > 0) end = Math.min(end, duration);
        if (end - start < 0.001) continue;
        found.push({
          participantId: str(has(participant, "participantId") ? participant.participantId : ""),
          participantName: participant.participantName ? str(participant.participantName) : "",
          purpose,
          segmentType: segType,
          mediaStart: round3(start),
          mediaEnd: round3(end),
        });
      }
    }
  }
  found.sort((a, b) => a.mediaStart - b.mediaStart || a.mediaEnd - b.mediaEnd || (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
  return found.map((s, i) => ({ ...s, ordinal: i + 1, title: `${s.participantName || s.purpose} (${s.purpose}) - ${s.segmentType}` }));
}

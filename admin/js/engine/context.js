// The template context: every placeholder's value for one output file, from Genesys Cloud's own JSON:
// port of storage/context.py (build_context and TemplateContext).

import { engineData } from "./data.js";
import { ATTRIBUTE_PREFIX } from "./templates.js";
import { isMoment, Moment, parseTimeZone, parseTimestamp, UTC } from "./time.js";

export const MISSING_TEXT = "unknown";
const CUSTOMER_PURPOSES = ["customer", "external"];
const AGENT_PURPOSES = ["agent", "user"];

/** Python truthiness of a JSON value. */
export function truthy(value) {
  if (value === null || value === undefined || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && !(value instanceof Moment)) return Object.keys(value).length > 0;
  return true;
}

/** Python's `a or b or ...`. */
export function or(...values) {
  for (const value of values.slice(0, -1)) if (truthy(value)) return value;
  return values[values.length - 1];
}

const get = (obj, key) => (obj && typeof obj === "object" && key in obj ? obj[key] : undefined);
/** dict.get(key, default): the default only when the key is absent. */
const getd = (obj, key, fallback) => (obj && typeof obj === "object" && key in obj ? obj[key] : fallback);
const none = (value) => (value === undefined ? null : value);
const lower = (value) => (value === undefined ? "" : pyStr(value).toLowerCase());

/** str() of a JSON value as Python prints it (True/False/None, ints). */
export function pyStr(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

export class TemplateContext {
  constructor({ values, attributes, tz, lazy = {} }) {
    this.values = values;
    this.attributes = attributes;
    this.tz = tz;
    this.lazy = lazy;
    this.drawn = {};
    this.warnings = [];
    this.onWarning = (message) => this.warnings.push(message);
  }
  value(name) {
    if (name.startsWith(ATTRIBUTE_PREFIX)) {
      const key = name.slice(ATTRIBUTE_PREFIX.length);
      if (Object.hasOwn(this.attributes, key)) return this.attributes[key];
      const folded = {};
      for (const [k, v] of Object.entries(this.attributes)) folded[caseFold(k)] = v;
      return none(folded[caseFold(key)]);
    }
    if (Object.hasOwn(this.lazy, name)) {
      if (!Object.hasOwn(this.drawn, name)) this.drawn[name] = this.lazy[name]();
      return this.drawn[name];
    }
    return none(this.values[name]);
  }
  fallback(name) {
    const specs = engineData().placeholders;
    let spec = specs[name];
    const seen = new Set();
    while (spec && spec.type === "time" && spec.fallback && !seen.has(spec.name)) {
      seen.add(spec.name);
      const value = this.value(spec.fallback);
      if (value !== null) return value;
      spec = specs[spec.fallback];
    }
    if (spec && spec.type === "number") return 0;
    return MISSING_TEXT;
  }
  localize(moment) {
    return moment.withZone(this.tz);
  }
  bucketTime() {
    for (const name of ["Recording.StartTime", "Transcript.StartTime", "Conversation.StartTime"]) {
      const value = this.value(name);
      if (isMoment(value)) return this.localize(value);
    }
    return this.localize(new Moment(Date.now(), 0, UTC));
  }
}

/** str.casefold() (full case folding: lower case plus the few special foldings). */
export function caseFold(text) {
  return text.toLowerCase().replaceAll("ß", "ss").replaceAll("ς", "σ").replaceAll("ﬅ", "st").replaceAll("ﬆ", "st");
}

function time(value, warnings) {
  try {
    return parseTimestamp(value);
  } catch {
    if (warnings) warnings.push(`ignoring a timestamp that does not parse: ${String(value)}`);
    return null;
  }
}

function participants(details, purposes) {
  return or(get(details, "participants"), []).filter((p) => purposes.includes(lower(getd(p, "purpose", ""))));
}

function segments(participant) {
  const out = [];
  for (const session of or(get(participant, "sessions"), [])) for (const seg of or(get(session, "segments"), [])) out.push(seg);
  return out;
}

function firstStart(participant, segmentType = null, warnings = null) {
  if (!truthy(participant)) return null;
  let best = null;
  for (const seg of segments(participant)) {
    if (segmentType !== null && get(seg, "segmentType") !== segmentType) continue;
    const t = time(get(seg, "segmentStart"), warnings);
    if (t !== null && (best === null || t.compare(best) < 0)) best = t;
  }
  return best;
}

function voiceSession(participant) {
  if (!truthy(participant)) return {};
  const sessions = or(get(participant, "sessions"), []);
  for (const session of sessions) if (getd(session, "mediaType", "voice") === "voice") return session;
  return sessions.length ? sessions[0] : {};
}

function stripScheme(address) {
  if (!truthy(address)) return null;
  let text = pyStr(address);
  for (const scheme of ["tel:", "sip:", "sips:"]) if (text.toLowerCase().startsWith(scheme)) text = text.slice(scheme.length);
  return text.split(";", 1)[0] || null;
}

function pickAgent(details, recording) {
  const agents = participants(details, AGENT_PURPOSES).filter((p) => truthy(get(p, "userId")));
  if (truthy(recording)) {
    const ids = new Set(
      (or(get(recording, "users"), []) || []).filter((u) => u && typeof u === "object" && !Array.isArray(u)).map((u) => get(u, "id")),
    );
    for (const agent of agents) if (ids.has(get(agent, "userId"))) return agent;
  }
  for (const agent of agents) if (firstStart(agent, "interact") !== null) return agent;
  return agents.length ? agents[0] : null;
}

function queueId(agent, acd) {
  for (const participant of [agent, acd]) {
    for (const seg of segments(or(participant, {}))) if (truthy(get(seg, "queueId"))) return pyStr(seg.queueId);
  }
  return null;
}

function customerAttributes(details, conversation) {
  const attributes = {};
  let sources = participants(details, CUSTOMER_PURPOSES);
  if (truthy(conversation)) sources = sources.concat(participants(conversation, CUSTOMER_PURPOSES));
  for (const participant of sources) {
    for (const [key, value] of Object.entries(or(get(participant, "attributes"), {}))) {
      if (value !== null) attributes[key] = pyStr(value);
    }
  }
  return attributes;
}

/** Every placeholder's value for one file (see storage/placeholders.py for the list). */
export function buildContext({
  details,
  profile,
  recording = null,
  transcript = null,
  conversation = null,
  queueNames = null,
  userNames = null,
  flowNames = null,
  fileExtension = "",
  formatName = "",
  sequence = null,
  now = null,
  machineName = null,
  newGuid = null,
  randomNumber = null,
}) {
  const warnings = [];
  queueNames = or(queueNames, {});
  userNames = or(userNames, {});
  flowNames = or(flowNames, {});
  const customerList = participants(details, ["customer"]);
  const customer = (customerList.length ? customerList : participants(details, CUSTOMER_PURPOSES))[0] ?? null;
  const agent = pickAgent(details, recording);
  const acds = participants(details, ["acd"]);
  let acd = acds.length ? acds[0] : null;
  const ivrs = participants(details, ["ivr"]);
  const ivr = ivrs.length ? ivrs[0] : null;
  const qid = queueId(agent, acd);
  if (qid && acds.length) {
    acd = acds.find((p) => segments(p).some((s) => get(s, "queueId") === qid)) ?? acd;
  }
  let flow = null;
  for (const p of ivrs.length ? ivrs : or(get(details, "participants"), [])) {
    for (const s of or(get(p, "sessions"), [])) {
      if (truthy(get(s, "flow"))) {
        flow = s.flow;
        break;
      }
    }
    if (flow) break;
  }
  flow = or(flow, {});
  const customerSession = voiceSession(customer);
  const direction = or(get(customerSession, "direction"), get(details, "originatingDirection"));
  const other = lower(direction) === "outbound" ? get(customerSession, "dnis") : get(customerSession, "ani");
  const agentId = agent ? none(get(agent, "userId")) : null;
  const agentUser = or(get(userNames, agentId === null ? "" : agentId), {});

  recording = or(recording, {});
  const recUsers = (or(get(recording, "users"), []) || []).filter((u) => u && typeof u === "object" && !Array.isArray(u));
  let recUser = recUsers.length ? { ...recUsers[0] } : {};
  if (get(recUser, "id") !== undefined && Object.hasOwn(userNames, recUser.id)) {
    const own = Object.fromEntries(Object.entries(recUser).filter(([, v]) => truthy(v)));
    recUser = { ...userNames[recUser.id], ...own };
  }
  transcript = or(transcript, {});
  const inner = or((or(get(transcript, "transcripts"), [{}]) || [{}])[0], {});
  const flowId = get(flow, "flowId");

  const v = (x) => (x === undefined ? null : x);
  const values = {
    "Conversation.Id": v(or(get(details, "conversationId"), get(recording, "conversationId"))),
    "Conversation.StartTime": time(get(details, "conversationStart"), warnings),
    "Conversation.EndTime": time(get(details, "conversationEnd"), warnings),
    "Agent.Name": v(or(get(agentUser, "name"), get(or(agent, {}), "participantName"))),
    "Agent.Id": agentId,
    "Agent.Username": v(or(get(agentUser, "username"), get(agentUser, "email"))),
    "Agent.ConnectTime": firstStart(agent, "interact", warnings) ?? firstStart(agent, null, warnings),
    "Customer.Name": v(get(or(customer, {}), "participantName")),
    "Customer.Id": v(get(or(customer, {}), "participantId")),
    "Customer.ConnectTime": firstStart(customer, null, warnings),
    "Acd.Name": v(or(get(queueNames, qid || ""), null)),
    "Acd.Id": qid,
    "Acd.ConnectTime": firstStart(acd, null, warnings),
    "Ivr.Name": v(or(get(flow, "flowName"), get(flowNames, flowId || ""), null)),
    "Ivr.Id": v(flowId),
    "Ivr.ConnectTime": firstStart(ivr, null, warnings),
    "CustomerCall.Direction": truthy(direction) ? lower(direction) : null,
    "CustomerCall.Other.Name": stripScheme(other),
    "Recording.Id": v(get(recording, "id")),
    "Recording.StartTime": time(get(recording, "startTime"), warnings),
    "Recording.EndTime": time(get(recording, "endTime"), warnings),
    "Recording.MediaSubtype": v(get(recording, "mediaSubtype")),
    "Recording.MediaSubject": v(get(recording, "mediaSubject")),
    "Recording.User.Name": v(get(recUser, "name")),
    "Recording.User.Username": v(or(get(recUser, "username"), get(recUser, "email"))),
    "Transcript.Id": v(get(inner, "transcriptId")),
    "Transcript.StartTime": time(or(get(transcript, "startTime"), get(inner, "startTime")), warnings),
    "Transcript.CommunicationId": v(get(transcript, "communicationId")),
    FileExtension: fileExtension.replace(/^\.+/, "") || null,
    FormatName: formatName || null,
    "Profile.Name": profile.Name,
    MachineName: machineName || "this-computer",
  };
  const lazy = {
    Now: () => now ?? new Moment(Date.now(), 0, UTC),
    NewGuid: () => newGuid ?? globalThis.crypto.randomUUID(),
    RandomNumber: () => {
      if (randomNumber !== null) return randomNumber;
      const buf = new Uint32Array(1);
      globalThis.crypto.getRandomValues(buf);
      return buf[0] % 1000000;
    },
  };
  if (sequence !== null) lazy.SequenceNumber = () => sequence.nextValue();
  const context = new TemplateContext({
    values,
    attributes: customerAttributes(details, conversation),
    tz: parseTimeZone(profile.TimeZoneOffset),
    lazy,
  });
  context.warnings.push(...warnings);
  return context;
}

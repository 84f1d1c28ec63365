// Profile validation: the JSON Schema checks (as python-jsonschema reports them), the semantic rules
// and the document loader: port of profiles/schema.py, profiles/rules.py and profiles/loader.py.
// Same document in, same (profile, field, reason) errors out (golden vectors keep them equal).

import { engineData } from "./data.js";
import { caseFold } from "./context.js";
import { parseInterval, IntervalError } from "./intervals.js";
import { PY_SPACE, pyLen, pyStrip, repr } from "./pystr.js";
import { validate as validateTemplate } from "./templates.js";
import { parseTimeZone, TimeZoneError } from "./time.js";

export class ConfigError extends Error {}

export const schema = () => engineData().schema;
export const profileSchema = () => schema().$defs.Profile;

export function profileDefaults() {
  const out = {};
  for (const [key, spec] of Object.entries(profileSchema().properties)) if ("default" in spec) out[key] = structuredClone(spec.default);
  return out;
}

export function topLevelDefaults() {
  const out = {};
  for (const [key, spec] of Object.entries(schema().properties)) if ("default" in spec) out[key] = structuredClone(spec.default);
  return out;
}

// --- a JSON Schema validator for the keywords profiles/schema.json uses, with jsonschema's messages

function isType(value, type) {
  switch (type) {
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    default:
      return false;
  }
}

// Python's re: \d and \s are Unicode-aware for str patterns.
function pythonPattern(pattern) {
  return new RegExp(
    pattern
      .replaceAll("\\d", "\\p{Nd}")
      .replaceAll("\\S", `[^${PY_SPACE}]`)
      .replaceAll("\\s", `[${PY_SPACE}]`),
    "u",
  );
}

function deepEqual(a, b) {
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && typeof a === "object") {
    if (!b || typeof b !== "object" || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}

/** jsonschema's iter_errors for our keywords: [{validator, path, message, instance, value, schema}]. */
export function schemaErrors(instance, sch, path = []) {
  const errors = [];
  const err = (validator, message, value) => errors.push({ validator, path, message, instance, value, schema: sch });
  for (const [keyword, value] of Object.entries(sch)) {
    switch (keyword) {
      case "type": {
        const types = Array.isArray(value) ? value : [value];
        if (!types.some((t) => isType(instance, t))) err("type", `${repr(instance)} is not of type ${types.map((t) => repr(t)).join(", ")}`, value);
        break;
      }
      case "required":
        if (isType(instance, "object")) for (const prop of value) if (!Object.hasOwn(instance, prop)) err("required", `${repr(prop)} is a required property`, value);
        break;
      case "properties":
        if (isType(instance, "object")) {
          for (const [prop, sub] of Object.entries(value)) if (Object.hasOwn(instance, prop)) errors.push(...schemaErrors(instance[prop], sub, [...path, prop]));
        }
        break;
      case "additionalProperties":
        if (isType(instance, "object") && value === false) {
          const extras = Object.keys(instance).filter((k) => !Object.hasOwn(sch.properties || {}, k));
          if (extras.length) err("additionalProperties", "Additional properties are not allowed", value);
        }
        break;
      case "items":
        if (isType(instance, "array")) instance.forEach((item, i) => errors.push(...schemaErrors(item, value, [...path, i])));
        break;
      case "enum":
        if (!value.some((v) => deepEqual(v, instance))) err("enum", `${repr(instance)} is not one of ${repr(value)}`, value);
        break;
      case "minLength":
        if (isType(instance, "string") && pyLen(instance) < value) err("minLength", `${repr(instance)} ${value === 1 ? "should be non-empty" : "is too short"}`, value);
        break;
      case "maxLength":
        if (isType(instance, "string") && pyLen(instance) > value) err("maxLength", `${repr(instance)} ${value === 0 ? "is expected to be empty" : "is too long"}`, value);
        break;
      case "pattern":
        if (isType(instance, "string") && !pythonPattern(value).test(instance)) err("pattern", `${repr(instance)} does not match ${repr(value)}`, value);
        break;
      case "minimum":
        if (isType(instance, "number") && instance < value) err("minimum", `${repr(instance)} is less than the minimum of ${repr(value)}`, value);
        break;
      case "maximum":
        if (isType(instance, "number") && instance > value) err("maximum", `${repr(instance)} is greater than the maximum of ${repr(value)}`, value);
        break;
      case "uniqueItems":
        if (value && isType(instance, "array")) {
          const dup = instance.some((x, i) => instance.some((y, j) => j > i && deepEqual(x, y)));
          if (dup) err("uniqueItems", `${repr(instance)} has non-unique elements`, value);
        }
        break;
      default:
        break; // annotations ($schema, title, description, default, $defs, $ref at the root)
    }
  }
  return errors;
}

// --- profiles/loader.py: _field_of and _reason_of

const FORM_HINTS = {
  Interval: "is not a count and a unit (m, h, d, mo, y), for example '15m', '1h', '1d', '1mo', '1y'",
  Name: "must contain a non-space character",
};

function fieldOf(error) {
  const path = error.path.map(String);
  if (error.validator === "required") return error.message.includes("'") ? error.message.split("'")[1] : "";
  if (error.validator === "additionalProperties") {
    return Object.keys(error.instance || {})
      .filter((k) => !Object.hasOwn(error.schema.properties || {}, k))
      .join(", ");
  }
  return path.slice(0, 1).join(".") + path.slice(1).map((p) => `[${p}]`).join("");
}

function reasonOf(error) {
  if (error.validator === "pattern") {
    const key = error.path.length ? String(error.path[0]) : "";
    return `${repr(error.instance)} ${FORM_HINTS[key] || "does not have the expected form"}`;
  }
  if (error.validator === "additionalProperties") return "unknown key (check the spelling; keys are case-sensitive)";
  if (error.validator === "enum") return `${repr(error.instance)} is not one of ${error.value.map((v) => (typeof v === "string" ? v : repr(v))).join(", ")}`;
  if (error.validator === "required") return "required";
  return error.message;
}

function documentSchema() {
  const root = { ...schema() };
  root.properties = { ...root.properties, Profiles: { type: "array" } };
  return root;
}

function profileValidationSchema() {
  return { ...profileSchema(), $defs: schema().$defs };
}

function comparePaths(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === typeof b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
  }
  return a.length - b.length;
}

/** Structural errors of one raw profile as [field, reason] (sorted as the loader sorts them). */
export function structuralProblems(raw) {
  const errors = schemaErrors(raw, profileValidationSchema());
  return errors
    .map((e, i) => [e, i])
    .sort((x, y) => comparePaths(x[0].path, y[0].path) || x[1] - y[1])
    .map(([e]) => [fieldOf(e), reasonOf(e)]);
}

// --- profiles/rules.py

const CHAPTER_FORMATS = ["MP3", "M4B"];

function chaptersRule(doc) {
  const problems = [];
  if (!doc.ExportChaptersForParticipantSegments) return problems;
  if (doc.TrimSilence) problems.push(["TrimSilence", "silence trimming and ExportChaptersForParticipantSegments are mutually exclusive"]);
  for (const key of ["ParticipantPurposesToExport", "CallSegmentsToExport"]) {
    if (doc[key].length) problems.push([key, "chapter export keeps the whole call: it cannot be combined with segment filtering"]);
  }
  if (!CHAPTER_FORMATS.includes(doc.AudioFormat)) problems.push(["AudioFormat", `chapter export needs MP3 or M4B, not ${doc.AudioFormat}`]);
  return problems;
}

function concatenationRule(doc) {
  if (doc.ConcatenateParticipantSegments && !(doc.ParticipantPurposesToExport.length || doc.CallSegmentsToExport.length)) {
    return [["ConcatenateParticipantSegments", "concatenation needs at least one entry in ParticipantPurposesToExport or CallSegmentsToExport"]];
  }
  return [];
}

function pathTemplateRule(doc) {
  const inMode = doc.DirectoryStructureMode === "PathTemplate";
  const present = pyStrip(String(doc.PathTemplate)) !== "";
  if (inMode && !present) return [["PathTemplate", "required when DirectoryStructureMode is PathTemplate"]];
  if (present && !inMode) {
    return [
      [
        "PathTemplate",
        `only used in PathTemplate mode; DirectoryStructureMode is ${doc.DirectoryStructureMode} (remove PathTemplate or switch the mode)`,
      ],
    ];
  }
  return [];
}

function templatesRule(doc) {
  const problems = [];
  for (const key of ["AudioFileTemplate", "TranscriptionFileTemplate", "PathTemplate"]) {
    const text = doc[key];
    if (key === "PathTemplate" && !text) continue;
    for (const problem of validateTemplate(text)) problems.push([key, problem]);
  }
  return problems;
}

function timeRule(doc) {
  const problems = [];
  try {
    parseInterval(doc.Interval);
  } catch (exc) {
    if (!(exc instanceof IntervalError)) throw exc;
    problems.push(["Interval", exc.message]);
  }
  try {
    parseTimeZone(doc.TimeZoneOffset);
  } catch (exc) {
    if (!(exc instanceof TimeZoneError)) throw exc;
    problems.push(["TimeZoneOffset", exc.message]);
  }
  return problems;
}

function scopeAndOutputRule(doc) {
  const problems = [];
  if (!doc.Queues.length && !doc.RetentionPolicies.length) {
    problems.push(["Queues", "no input scope: name at least one queue in Queues or a policy in RetentionPolicies"]);
  }
  if (!doc.AudioExportEnabled && !doc.TranscriptExportEnabled) {
    problems.push(["AudioExportEnabled", "nothing to export: enable AudioExportEnabled and/or TranscriptExportEnabled"]);
  }
  if (pyStrip(String(doc.DestinationRoot)) === "") problems.push(["DestinationRoot", "must not be empty"]);
  return problems;
}

const RULES = [scopeAndOutputRule, chaptersRule, concatenationRule, pathTemplateRule, timeRule, templatesRule];

export function ruleProblems(merged) {
  return RULES.flatMap((rule) => rule(merged));
}

/** Every problem of one raw profile as [field, reason]: structural first; rules only when it is well formed. */
export function profileProblems(raw) {
  if (!isType(raw, "object")) return [["", `a profile must be a JSON object, not ${pyTypeName(raw)}`]];
  const structural = structuralProblems(raw);
  if (structural.length) return structural;
  return ruleProblems({ ...profileDefaults(), ...raw });
}

function pyTypeName(value) {
  if (value === null) return "NoneType";
  if (Array.isArray(value)) return "list";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "dict";
}

function label(index, raw) {
  const name = isType(raw, "object") ? raw.Name : undefined;
  return typeof name === "string" && pyStrip(name) ? name : `#${index + 1}`;
}

const foldName = (text) => caseFold(pyStrip(text));

/**
 * load_config: the valid and active profiles plus precise errors. Returns
 * {reloadIntervalSeconds, profiles, errors: [{profile, field, reason}], inactive}; throws ConfigError
 * for a document that cannot be used at all.
 */
export function loadConfig(doc) {
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc.replace(/^\ufeff/, ""));
    } catch (exc) {
      throw new ConfigError(`the configuration is not valid JSON: ${exc.message}`);
    }
  }
  if (!isType(doc, "object")) throw new ConfigError(`the configuration must be a JSON object, not ${pyTypeName(doc)}`);
  const errors = [];
  for (const e of schemaErrors(doc, documentSchema())) errors.push({ profile: null, field: fieldOf(e), reason: reasonOf(e) });
  const profilesRaw = Object.hasOwn(doc, "Profiles") ? doc.Profiles : topLevelDefaults().Profiles;
  if (!Array.isArray(profilesRaw)) {
    throw new ConfigError(`'Profiles' must be a JSON array of profile objects, not ${pyTypeName(profilesRaw)}`);
  }
  let reload = Object.hasOwn(doc, "ConfigReloadIntervalSeconds") ? doc.ConfigReloadIntervalSeconds : topLevelDefaults().ConfigReloadIntervalSeconds;
  if (!(typeof reload === "number" && Number.isInteger(reload) && reload >= 10 && reload <= 86400)) {
    reload = topLevelDefaults().ConfigReloadIntervalSeconds;
  }
  const defaults = profileDefaults();
  const candidates = [];
  const inactive = [];
  profilesRaw.forEach((raw, index) => {
    const name = label(index, raw);
    if (!isType(raw, "object")) {
      errors.push({ profile: name, field: "", reason: `a profile must be a JSON object, not ${pyTypeName(raw)}` });
      return;
    }
    const active = Object.hasOwn(raw, "Active") ? raw.Active : defaults.Active;
    if (active === false) {
      inactive.push(name);
      return;
    }
    const structural = structuralProblems(raw);
    if (structural.length) {
      for (const [field, reason] of structural) errors.push({ profile: name, field, reason });
      return;
    }
    const merged = { ...defaults, ...raw };
    const problems = ruleProblems(merged);
    if (problems.length) {
      for (const [field, reason] of problems) errors.push({ profile: name, field, reason });
      return;
    }
    candidates.push([name, merged]);
  });
  const names = [];
  profilesRaw.forEach((raw, i) => {
    if (isType(raw, "object") && raw.Active !== false && typeof raw.Name === "string") names.push(foldName(label(i, raw)));
  });
  const counts = new Map();
  for (const n of names) counts.set(n, (counts.get(n) || 0) + 1);
  const duplicated = new Set([...counts].filter(([, c]) => c > 1).map(([n]) => n));
  profilesRaw.forEach((raw, index) => {
    const name = label(index, raw);
    if (duplicated.has(foldName(name)) && isType(raw, "object") && raw.Active !== false) {
      const count = counts.get(foldName(name));
      errors.push({
        profile: name,
        field: "Name",
        reason: `duplicate profile name (${count} active profiles are named ${repr(name)}, ignoring case and surrounding spaces); all of them are rejected`,
      });
    }
  });
  const valid = candidates.filter(([name]) => !duplicated.has(foldName(name))).map(([, d]) => d);
  return { reloadIntervalSeconds: reload, profiles: valid, errors, inactive };
}

// Runs the golden vectors (tests/golden/engine_vectors.json, made by service/admin_golden.py from the
// Python implementation) through the JavaScript port. Used by the browser test and by Node
// (tests/golden/run_node.mjs). Returns the failures; an empty list means both implementations agree.

import { buildContext } from "./context.js";
import { formatDatetime } from "./dotnet_format.js";
import { parseInterval } from "./intervals.js";
import * as layout from "./layout.js";
import { previewFiles } from "./preview.js";
import { loadConfig, profileDefaults } from "./profiles.js";
import { cleanComponent, cleanLiteral, cleanValue } from "./sanitize.js";
import { render, validate } from "./templates.js";
import { parseTimeZone, parseTimestamp } from "./time.js";

const DST_INSTANTS = [
  "2026-01-15T12:00:00.000Z",
  "2026-03-08T06:59:59.999Z",
  "2026-03-08T07:00:00.000Z",
  "2026-03-29T00:59:59.000Z",
  "2026-03-29T01:00:00.000Z",
  "2026-04-05T15:59:59.000Z",
  "2026-04-05T16:00:00.000Z",
  "2026-07-15T12:00:00.000Z",
  "2026-10-04T01:59:59.000Z",
  "2026-10-04T02:00:00.000Z",
  "2026-10-25T00:59:59.000Z",
  "2026-10-25T01:00:00.000Z",
  "2026-11-01T05:59:59.000Z",
  "2026-11-01T06:00:00.000Z",
  "2026-12-31T23:59:59.999Z",
];

const moment = (iso, zone) => parseTimestamp(iso).withZone(parseTimeZone(zone));

function errorOf(fn) {
  try {
    return fn();
  } catch (exc) {
    if (exc instanceof TypeError || exc instanceof ReferenceError) throw exc;
    return { error: exc.message };
  }
}

function sequence(start) {
  let value = start - 1;
  return {
    nextValue() {
      value += 1;
      return value;
    },
  };
}

function context(spec) {
  const names = spec.names || {};
  return buildContext({
    details: spec.details,
    profile: spec.profile,
    recording: spec.recording ?? null,
    transcript: spec.transcript ?? null,
    conversation: spec.conversation ?? null,
    queueNames: names.queues ?? null,
    userNames: names.users ?? null,
    flowNames: names.flows ?? null,
    fileExtension: spec.fileExtension ?? "",
    formatName: spec.formatName ?? "",
    sequence: "sequenceStart" in spec ? sequence(spec.sequenceStart) : null,
    now: parseTimestamp(spec.now),
    machineName: spec.machineName ?? "EXPORT01",
  });
}

export const COMPUTE = {
  format: (c) => errorOf(() => ({ text: formatDatetime(moment(c.instant, c.zone), c.format) })),
  timezone: (c) =>
    errorOf(() => {
      const zone = parseTimeZone(c.text);
      return {
        offsets: DST_INSTANTS.map((iso) => {
          const m = parseTimestamp(iso).withZone(zone);
          return { offsetSeconds: m.offset, wall: formatDatetime(m, "yyyy-MM-dd HH:mm:ss.fff"), K: formatDatetime(m, "%K") };
        }),
      };
    }),
  interval: (c) =>
    errorOf(() => {
      const interval = parseInterval(c.text);
      const m = moment(c.instant, c.zone);
      return { canonical: interval.toString(), hierarchical: interval.hierarchicalParts(m), flat: interval.flatName(m) };
    }),
  sanitize: (c) => ({ value: cleanValue(c.text), literal: cleanLiteral(c.text), component: cleanComponent(c.text) }),
  validate: (c) => ({ problems: validate(c.template) }),
  render: (c) => errorOf(() => ({ components: render(c.template, context(c.context)) })),
  preview: (c) => {
    const profile = { ...profileDefaults(), ...c.profile };
    const names = c.names || {};
    const files = previewFiles(profile, c.details, c.recordings ?? null, {
      conversation: c.conversation ?? null,
      queueNames: names.queues ?? null,
      userNames: names.users ?? null,
      flowNames: names.flows ?? null,
      now: parseTimestamp(c.now),
      machineName: c.machineName ?? "EXPORT01",
    });
    return { files };
  },
  profiles: (c) =>
    errorOf(() => {
      const result = loadConfig(c.document);
      return {
        reloadIntervalSeconds: result.reloadIntervalSeconds,
        valid: result.profiles.map((p) => p.Name),
        inactive: result.inactive,
        errors: result.errors.map((e) => [e.profile, e.field, e.reason]),
      };
    }),
  layout: (c) =>
    errorOf(() => {
      const stored = layout.split(c.text, c.rowKey, c.generation, c.limit);
      const rows = Object.fromEntries(stored.parts);
      for (const key of c.drop || []) delete rows[key];
      Object.assign(rows, c.replace || {});
      const back = errorOf(() => ({ text: layout.read(c.rowKey, stored.head, rows) }));
      return { head: stored.head, parts: stored.parts, read: back };
    }),
};

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value === undefined ? null : value;
}

const canonical = (value) => JSON.stringify(sortKeys(value));

/** [{section, index, input, expected, actual}] for every case whose result differs. */
export function runVectors(vectors) {
  const failures = [];
  let count = 0;
  for (const [section, compute] of Object.entries(COMPUTE)) {
    for (const [index, { input, expected }] of (vectors[section] || []).entries()) {
      count += 1;
      let actual;
      try {
        actual = compute(resolve(input, vectors.fixtures || {}));
      } catch (exc) {
        actual = { crash: `${exc.name}: ${exc.message}` };
      }
      if (canonical(actual) !== canonical(expected)) failures.push({ section, index, input, expected, actual });
    }
  }
  return { count, failures };
}

/** The case input with every {"$ref": "a.b.c"} replaced by that fixture value (as service/admin_golden.py resolve). */
export function resolve(value, fixtures) {
  if (Array.isArray(value)) return value.map((v) => resolve(v, fixtures));
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$ref") {
      let target = fixtures;
      for (const part of value.$ref.split(".")) target = target[part];
      return structuredClone(target);
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(value[k], fixtures)]));
  }
  return value;
}

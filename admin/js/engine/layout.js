// How the configuration document is stored in the Data Table: port of profiles/table_layout.py
// (one cell when it fits, else parts rows and a manifest in the configuration row).

import { engineData } from "./data.js";
import { pyLen, reprStr, sha256Hex, utf8 } from "./pystr.js";

export const MARK = "$callexportParts";
export const PART_INFIX = ".part.";

export class LayoutError extends Error {}

export const limits = () => engineData().tableLayout;

export function utf16Units(text) {
  return text.length;
}

export const sha256OfText = (text) => sha256Hex(utf8(text));

export function newGeneration() {
  const buf = new Uint16Array(1);
  globalThis.crypto.getRandomValues(buf);
  return Date.now().toString(36) + buf[0].toString(16).padStart(4, "0");
}

export const partKey = (rowKey, generation, index) => `${rowKey}${PART_INFIX}${generation}.${index}`;
export const isPartKey = (rowKey, key) => key.startsWith(`${rowKey}${PART_INFIX}`);

export function chunks(text, limit) {
  const out = [];
  let current = "";
  for (const ch of text) {
    if (current.length + ch.length > limit) {
      out.push(current);
      current = "";
    }
    current += ch;
  }
  if (current || !out.length) out.push(current);
  return out;
}

function manifestText(m) {
  // json.dumps(..., separators=(",", ":"), sort_keys=True)
  return `{"${MARK}":1,"generation":${JSON.stringify(m.generation)},"length":${m.length},"parts":${m.parts},"sha256":"${m.sha256}"}`;
}

/** {head, parts: [[key, value]], manifest} for `text` stored under `rowKey`. */
export function split(text, rowKey, generation, limit = limits().cellLimit) {
  const units = utf16Units(text);
  const maxParts = limits().maxParts;
  if (units <= limit && !text.startsWith(`{"${MARK}`)) return { head: text, parts: [], manifest: null };
  if (units > limit * maxParts) {
    const fmt = (n) => n.toLocaleString("en-US");
    throw new LayoutError(
      `the configuration is ${fmt(units)} characters long; the data table layout stores at most ${fmt(limit * maxParts)} (${maxParts} parts of ${fmt(limit)})`,
    );
  }
  const pieces = chunks(text, limit);
  const manifest = { generation, parts: pieces.length, length: pyLen(text), sha256: sha256OfText(text) };
  const keys = pieces.map((_, i) => partKey(rowKey, generation, i + 1));
  const keyLimit = limits().keyLimit;
  if (Math.max(...keys.map(pyLen)) > keyLimit) {
    throw new LayoutError(`row key ${reprStr(rowKey)} is too long for part rows (keys are limited to ${keyLimit})`);
  }
  return { head: manifestText(manifest), parts: keys.map((k, i) => [k, pieces[i]]), manifest };
}

export function parseManifest(head) {
  if (!head.startsWith(`{"${MARK}`)) return null;
  let m;
  try {
    const doc = JSON.parse(head);
    m = { generation: String(doc.generation), parts: Number(doc.parts), length: Number(doc.length), sha256: String(doc.sha256) };
    if (![m.parts, m.length].every(Number.isInteger) || doc.generation === undefined || doc.sha256 === undefined) throw new Error("missing field");
  } catch (exc) {
    throw new LayoutError(`the configuration row holds a damaged parts manifest: ${exc.message}`);
  }
  const maxParts = limits().maxParts;
  if (m.parts < 1 || m.parts > maxParts) throw new LayoutError(`the parts manifest names ${m.parts} parts (1..${maxParts} allowed)`);
  return m;
}

/** The document from its parts; partValue(key) returns a part's value or null when missing. */
export function join(rowKey, manifest, partValue) {
  const pieces = [];
  const missing = [];
  for (let i = 1; i <= manifest.parts; i += 1) {
    const key = partKey(rowKey, manifest.generation, i);
    const value = partValue(key);
    if (value === null || value === undefined) missing.push(key);
    else pieces.push(value);
  }
  if (missing.length) {
    throw new LayoutError(
      `the configuration is stored in ${manifest.parts} parts (generation ${manifest.generation}) but ${missing.length} part row(s) are missing: ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? " ..." : ""}`,
    );
  }
  const text = pieces.join("");
  if (pyLen(text) !== manifest.length || sha256OfText(text) !== manifest.sha256) {
    throw new LayoutError(
      `the configuration parts of generation ${manifest.generation} do not add up (length ${pyLen(text)} instead of ${manifest.length}, or a different SHA-256): a part was changed`,
    );
  }
  return text;
}

export function read(rowKey, head, rows) {
  const manifest = parseManifest(head);
  if (manifest === null) return head;
  return join(rowKey, manifest, (key) => (Object.hasOwn(rows, key) ? rows[key] : null));
}

export function stalePartKeys(rowKey, keys, keepGeneration) {
  const keep = keepGeneration ? `${rowKey}${PART_INFIX}${keepGeneration}.` : null;
  return keys.filter((k) => isPartKey(rowKey, k) && (keep === null || !k.startsWith(keep)));
}

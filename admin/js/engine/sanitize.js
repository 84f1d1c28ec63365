// Safe file and folder names: port of storage/sanitize.py.

import { chars, pyLen, sha1Hex, stripChars, utf8 } from "./pystr.js";

export const MAX_VALUE_CHARS = 100;
export const MAX_COMPONENT_CHARS = 150;
export const MAX_COMPONENT_BYTES = 240;
export const REPLACEMENT = "_";

const ILLEGAL = /[<>:"/\\|?*\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const RESERVED = /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$/iu;

export function shortHash(text) {
  return sha1Hex(utf8(text)).slice(0, 8);
}

export function cleanValue(value, maxChars = MAX_VALUE_CHARS) {
  let text = value.normalize("NFC").replace(ILLEGAL, REPLACEMENT);
  if (pyLen(text) > maxChars) text = `${chars(text).slice(0, maxChars - 9).join("")}~${shortHash(value)}`;
  return text;
}

export function cleanLiteral(text) {
  return text.normalize("NFC").replace(ILLEGAL, REPLACEMENT);
}

function shorten(component) {
  if (pyLen(component) <= MAX_COMPONENT_CHARS && utf8(component).length <= MAX_COMPONENT_BYTES) return component;
  const cps = chars(component);
  const dotAt = cps.lastIndexOf(".");
  let stem = dotAt >= 0 ? cps.slice(0, dotAt).join("") : "";
  let ext = dotAt >= 0 ? cps.slice(dotAt + 1).join("") : component;
  let dot = dotAt >= 0 ? "." : "";
  if (!dot || !stem || pyLen(ext) > 16) {
    stem = component;
    ext = "";
    dot = "";
  }
  const suffix = `~${shortHash(component)}${dot}${ext}`;
  const budgetChars = MAX_COMPONENT_CHARS - pyLen(suffix);
  const budgetBytes = MAX_COMPONENT_BYTES - utf8(suffix).length;
  let kept = chars(stem).slice(0, budgetChars);
  while (utf8(kept.join("")).length > budgetBytes) kept = kept.slice(0, -1);
  return kept.join("") + suffix;
}

export function cleanComponent(component) {
  let text = component.normalize("NFC").replace(ILLEGAL, REPLACEMENT);
  text = stripChars(text, [" "]);
  text = stripChars(text, [".", " "], { left: false });
  if (text === "" || text === "." || text === "..") return REPLACEMENT;
  const stem = stripChars(text.split(".")[0], [" "], { left: false });
  if (RESERVED.test(stem)) text = REPLACEMENT + text;
  return shorten(text);
}

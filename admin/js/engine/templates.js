// Parse, validate and render naming templates: port of storage/templates.py (and the placeholder
// vocabulary of storage/placeholders.py, shipped in the engine data).

import { engineData } from "./data.js";
import { checkCall, FunctionError, toText } from "./functions.js";
import { cleanComponent, cleanLiteral, cleanValue } from "./sanitize.js";
import { pyStrip, stripChars } from "./pystr.js";
import { isMoment } from "./time.js";

export class TemplateError extends Error {}

export const SEPARATOR = Object.freeze({ separator: true });
const RESULT_TYPE = { format: "text", toupper: "text", tolower: "text", padleft: "text", padright: "text" };
export const ATTRIBUTE_PREFIX = "CustomerCall.Attribute.";

/** The type of a known placeholder ("text", "time", "number"); null when unknown. */
export function placeholderType(name) {
  const spec = engineData().placeholders[name];
  if (spec) return spec.type;
  if (name.startsWith(ATTRIBUTE_PREFIX) && name.length > ATTRIBUTE_PREFIX.length) return "text";
  return null;
}

// Templates are walked as code points (positions in messages are counted as Python counts them).
const cpIndex = (text) => Array.from(text);

function readArgs(t, start) {
  let depth = 1;
  let i = start;
  let quote = null;
  while (i < t.length) {
    const ch = t[i];
    if (ch === "\\" && i + 1 < t.length) {
      i += 2;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "(") depth += 1;
    else if (ch === ")") {
      depth -= 1;
      if (depth === 0) return [t.slice(start, i).join(""), i + 1];
    }
    i += 1;
  }
  throw new TemplateError(`unclosed '(' in function arguments starting at position ${start}`);
}

function parsePlaceholder(t, start) {
  let i = start;
  while (i < t.length && !"|}{".includes(t[i])) i += 1;
  if (i >= t.length || t[i] === "{") throw new TemplateError(`unclosed '{' at position ${start - 1}`);
  const name = pyStrip(t.slice(start, i).join(""));
  if (!name) throw new TemplateError(`empty placeholder name at position ${start - 1}`);
  const calls = [];
  if (t[i] === "|") {
    i += 1;
    for (;;) {
      let j = i;
      while (j < t.length && !"(;}".includes(t[j])) j += 1;
      if (j >= t.length) throw new TemplateError(`unclosed '{' at position ${start - 1}`);
      const fname = pyStrip(t.slice(i, j).join(""));
      if (!fname) throw new TemplateError(`empty function name at position ${i}`);
      let raw = null;
      if (t[j] === "(") {
        [raw, j] = readArgs(t, j + 1);
        while (j < t.length && t[j] === " ") j += 1;
        if (j >= t.length || !";}".includes(t[j])) {
          throw new TemplateError(`expected ';' or '}' after ${fname}(...) at position ${j}`);
        }
      }
      calls.push({ name: fname, rawArgs: raw });
      if (t[j] === "}") {
        i = j;
        break;
      }
      i = j + 1;
    }
  }
  return [{ name, calls, position: start - 1 }, i + 1];
}

const parseCache = new Map();

/** The template's nodes: literal strings, placeholders ({name, calls, position}) and SEPARATOR. */
export function parse(text) {
  if (parseCache.has(text)) {
    const cached = parseCache.get(text);
    if (cached instanceof TemplateError) throw cached;
    return cached;
  }
  let result;
  try {
    result = parseUncached(text);
  } catch (exc) {
    if (exc instanceof TemplateError) {
      parseCache.set(text, exc);
    }
    throw exc;
  }
  if (parseCache.size > 512) parseCache.clear();
  parseCache.set(text, result);
  return result;
}

function parseUncached(text) {
  const t = cpIndex(text);
  const nodes = [];
  let literal = [];
  const flush = () => {
    if (literal.length) {
      nodes.push(literal.join(""));
      literal = [];
    }
  };
  let i = 0;
  while (i < t.length) {
    const ch = t[i];
    if (ch === "{") {
      if (t[i + 1] === "{") {
        literal.push("{");
        i += 2;
        continue;
      }
      flush();
      const [placeholder, next] = parsePlaceholder(t, i + 1);
      nodes.push(placeholder);
      i = next;
      continue;
    }
    if (ch === "}") {
      if (t[i + 1] === "}") {
        literal.push("}");
        i += 2;
        continue;
      }
      throw new TemplateError(`unexpected '}' at position ${i} (write '}}' for a literal brace)`);
    }
    if (ch === "/" || ch === "\\") {
      flush();
      nodes.push(SEPARATOR);
    } else literal.push(ch);
    i += 1;
  }
  flush();
  return nodes;
}

function isPlaceholder(node) {
  return typeof node === "object" && node !== SEPARATOR;
}

/** Every problem of a template as a readable sentence (empty list: valid). */
export function validate(text) {
  let nodes;
  try {
    nodes = parse(text);
  } catch (exc) {
    if (exc instanceof TemplateError) return [exc.message];
    throw exc;
  }
  const problems = [];
  for (const node of nodes) {
    if (!isPlaceholder(node)) continue;
    let valueType = placeholderType(node.name);
    if (valueType === null) {
      problems.push(`unknown placeholder {${node.name}} at position ${node.position}`);
      continue;
    }
    for (const call of node.calls) {
      let fn;
      try {
        [fn] = checkCall(call.name, call.rawArgs, valueType);
      } catch (exc) {
        if (exc instanceof FunctionError) {
          problems.push(`{${node.name}}: ${exc.message}`);
          break;
        }
        throw exc;
      }
      const key = fn.name.toLowerCase();
      valueType = key === "random" ? "number" : RESULT_TYPE[key] || valueType;
    }
  }
  return problems;
}

export function placeholdersUsed(text) {
  return new Set(parse(text).filter(isPlaceholder).map((n) => n.name));
}

function renderPlaceholder(node, source) {
  let value = source.value(node.name);
  const calls = node.calls.map((call) => checkCall(call.name, call.rawArgs, null));
  if (value === null || value === undefined || value === "") {
    const found = calls.find(([fn]) => fn.name === "Default");
    value = found ? found[1][0] : source.fallback(node.name);
  }
  if (isMoment(value)) value = source.localize(value);
  for (const [fn, args] of calls) value = fn.apply(value, args, source.onWarning);
  return cleanValue(toText(value));
}

/** Render a template into safe path components (empty components are dropped). */
export function render(text, source) {
  const components = [];
  let current = [];
  for (const node of parse(text)) {
    if (node === SEPARATOR) {
      components.push(current.join(""));
      current = [];
    } else if (isPlaceholder(node)) current.push(renderPlaceholder(node, source));
    else current.push(cleanLiteral(node));
  }
  components.push(current.join(""));
  return components.filter((part) => stripChars(part, [" "]) !== "").map((part) => cleanComponent(part));
}

// The profile form: one fieldset per group of settings (grouped as the product groups them), every
// field built from profiles/schema.json (title, help text, enum, default, bounds). Each input's name is
// the profile key it edits.

import { engineData } from "./engine/data.js";
import { profileDefaults, profileSchema } from "./engine/profiles.js";

export const GROUPS = [
  { id: "general", title: "Profile", keys: ["Name", "Active"] },
  { id: "scope", title: "Input scope", keys: ["Queues", "RetentionPolicies", "RequireAgentParticipant"] },
  {
    id: "audio",
    title: "Audio",
    keys: [
      "AudioExportEnabled",
      "AudioFormat",
      "TrimSilence",
      "ReduceNoise",
      "NormalizeLoudness",
      "ParticipantPurposesToExport",
      "CallSegmentsToExport",
      "ConcatenateParticipantSegments",
      "ExportChaptersForParticipantSegments",
      "AudioMetadataAttributes",
    ],
  },
  {
    id: "transcripts",
    title: "Transcripts",
    keys: ["TranscriptExportEnabled", "TranscriptFormat", "TranscriptMetadataAttributes"],
    note: "Low-confidence speech is filtered out by the service before a transcript is written.",
  },
  { id: "destination", title: "Destination", keys: ["DestinationRoot", "DirectoryStructureMode", "Interval", "TimeZoneOffset", "PathTemplate"] },
  { id: "names", title: "File names", keys: ["AudioFileTemplate", "TranscriptionFileTemplate"] },
  { id: "reliability", title: "Reliability", keys: ["ConflictStrategy", "ProcessingDelaySeconds", "RetryCount"] },
];

const TEMPLATE_KEYS = ["AudioFileTemplate", "TranscriptionFileTemplate", "PathTemplate"];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Help text from the schema: `code` spans become <code>. */
export function helpText(text) {
  const p = el("p", { class: "help" });
  text.split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length > 1) p.append(el("code", { text: part.slice(1, -1) }));
    else p.append(part);
  });
  return p;
}

export function valueOf(profile, key) {
  return Object.hasOwn(profile, key) ? profile[key] : profileDefaults()[key];
}

function fieldId(key, suffix = "") {
  return `f-${key}${suffix}`;
}

function errorSlot(key) {
  return el("p", { class: "field-error", "data-for": key, id: fieldId(key, "-error"), role: "alert", hidden: true });
}

/**
 * Render the form for `profile` into `container`. `hooks`: {change(key, value), pickers: {Queues,
 * RetentionPolicies}} where a picker builds its own widget.
 */
export function renderForm(container, profile, hooks) {
  container.replaceChildren();
  const props = profileSchema().properties;
  for (const group of GROUPS) {
    const fieldset = el("fieldset", { id: `group-${group.id}` }, el("legend", { text: group.title }));
    if (group.note) fieldset.append(el("p", { class: "help" }, group.note));
    for (const key of group.keys) fieldset.append(renderField(key, props[key], profile, hooks));
    container.append(fieldset);
  }
}

function renderField(key, spec, profile, hooks) {
  const value = valueOf(profile, key);
  const label = el("label", { for: fieldId(key), text: spec.title || key });
  const help = spec.description ? helpText(spec.description) : null;
  const describedBy = `${fieldId(key, "-help")} ${fieldId(key, "-error")}`;
  if (help) help.id = fieldId(key, "-help");

  if (hooks.pickers && hooks.pickers[key]) {
    const wrap = el("div", { class: "field", "data-key": key });
    wrap.append(label, hooks.pickers[key](fieldId(key), value, describedBy), help, errorSlot(key));
    return wrap;
  }
  if (spec.type === "boolean") {
    const input = el("input", { type: "checkbox", id: fieldId(key), name: key, "aria-describedby": describedBy });
    input.checked = Boolean(value);
    input.addEventListener("change", () => hooks.change(key, input.checked));
    return el("div", { class: "field check", "data-key": key }, input, label, help, errorSlot(key));
  }
  if (spec.type === "array" && spec.items && spec.items.enum) {
    const chosen = new Set(Array.isArray(value) ? value : []);
    const box = el("div", { class: "checks", role: "group", "aria-labelledby": fieldId(key, "-label") });
    for (const option of spec.items.enum) {
      const input = el("input", { type: "checkbox", name: key, value: option });
      input.checked = chosen.has(option);
      input.addEventListener("change", () => {
        const now = [...box.querySelectorAll("input:checked")].map((i) => i.value);
        hooks.change(key, spec.items.enum.filter((o) => now.includes(o)));
      });
      box.append(el("label", {}, input, option));
    }
    for (const extra of [...chosen].filter((v) => !spec.items.enum.includes(v))) {
      const input = el("input", { type: "checkbox", name: key, value: extra, checked: true });
      input.addEventListener("change", () => {
        const now = [...box.querySelectorAll("input:checked")].map((i) => i.value);
        hooks.change(key, now);
      });
      box.append(el("label", { class: "invalid" }, input, `${extra} (not valid)`));
    }
    const title = el("span", { class: "label", id: fieldId(key, "-label"), text: spec.title || key });
    return el("div", { class: "field", "data-key": key }, title, box, help, errorSlot(key));
  }
  if (spec.type === "string" && spec.enum) {
    const select = el("select", { id: fieldId(key), name: key, "aria-describedby": describedBy });
    const options = [...spec.enum];
    if (!options.includes(value)) options.push(value);
    for (const option of options) {
      const valid = spec.enum.includes(option);
      select.append(el("option", { value: String(option), text: valid ? String(option) : `${option} (not valid)` }));
    }
    select.value = String(value);
    select.addEventListener("change", () => hooks.change(key, select.value));
    return el("div", { class: "field", "data-key": key }, label, select, help, errorSlot(key));
  }
  if (spec.type === "integer") {
    const input = el("input", {
      type: "number",
      id: fieldId(key),
      name: key,
      min: spec.minimum,
      max: spec.maximum,
      step: 1,
      inputmode: "numeric",
      "aria-describedby": describedBy,
    });
    input.value = value === undefined || value === null ? "" : String(value);
    input.addEventListener("input", () => hooks.change(key, parseInteger(input.value)));
    return el("div", { class: "field", "data-key": key }, label, input, help, errorSlot(key));
  }
  const isTemplate = TEMPLATE_KEYS.includes(key);
  const input = el("input", {
    type: "text",
    id: fieldId(key),
    name: key,
    class: isTemplate ? "mono" : null,
    spellcheck: "false",
    autocomplete: "off",
    maxlength: spec.maxLength,
    "aria-describedby": describedBy,
  });
  input.value = typeof value === "string" ? value : JSON.stringify(value);
  input.addEventListener("input", () => hooks.change(key, input.value));
  const wrap = el("div", { class: "field", "data-key": key }, label, input);
  if (isTemplate) wrap.append(placeholderMenu(input, key, hooks));
  wrap.append(help, errorSlot(key));
  return wrap;
}

function placeholderMenu(input, key, hooks) {
  const select = el("select", { class: "insert", "aria-label": `Insert a placeholder into ${key}` });
  select.append(el("option", { value: "", text: "Insert a placeholder…" }));
  for (const spec of Object.values(engineData().placeholders)) {
    select.append(el("option", { value: spec.name, text: `${spec.name} — ${spec.description.replaceAll("`", "")}` }));
  }
  select.append(el("option", { value: "CustomerCall.Attribute.", text: "CustomerCall.Attribute.<key> — a customer participant attribute" }));
  select.addEventListener("change", () => {
    if (!select.value) return;
    const at = input.selectionStart ?? input.value.length;
    const insert = `{${select.value}}`;
    input.value = input.value.slice(0, at) + insert + input.value.slice(input.selectionEnd ?? at);
    select.value = "";
    hooks.change(key, input.value);
    input.focus();
  });
  return select;
}

export function parseInteger(text) {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^-?\d+$/.test(t)) return Number(t);
  return t;
}

/** Show `problems` ([key, reason]) next to their fields; the rest in `general`. Returns the first field. */
export function showErrors(container, generalBox, problems) {
  for (const slot of container.querySelectorAll(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const input of container.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  generalBox.replaceChildren();
  let first = null;
  for (const [field, reason] of problems) {
    const key = String(field).split(/[.[]/)[0];
    const slot = key && !field.includes(", ") ? container.querySelector(`.field-error[data-for="${CSS.escape(key)}"]`) : null;
    if (!slot) {
      generalBox.append(el("p", {}, field ? `${field}: ${reason}` : reason));
      continue;
    }
    slot.hidden = false;
    slot.textContent = slot.textContent ? `${slot.textContent} ${reason}` : reason;
    const input = container.querySelector(`[name="${CSS.escape(key)}"]`);
    if (input) input.setAttribute("aria-invalid", "true");
    first = first || input || slot;
  }
  return first;
}

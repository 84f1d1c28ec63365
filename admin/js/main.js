// callexport admin: edit the export profiles stored in the Genesys Cloud Architect Data Table.
// Sign-in (auth.js), API and storage (api.js), form (form.js); the template engine, the profile rules
// and the storage layout are ports of the Python implementation (engine/, kept equal by golden vectors).

import { Api, ApiError, ConfigStore, ConflictError } from "./api.js";
import { AuthError, currentToken, finishSignIn, forgetToken, handOverToOpener, isFramed, resolveEnvironment, startSignIn } from "./auth.js";
import { caseFold } from "./engine/context.js";
import { engineData, setEngineData } from "./engine/data.js";
import { LayoutError } from "./engine/layout.js";
import { previewFiles } from "./engine/preview.js";
import { ConfigError, loadConfig, profileDefaults, profileProblems, ruleProblems, schema, structuralProblems } from "./engine/profiles.js";
import { pyStrip } from "./engine/pystr.js";
import { Moment, UTC } from "./engine/time.js";
import { el, helpText, parseInteger, renderForm, showErrors, valueOf } from "./form.js";

const DRAFT_KEY = "callexport.draft";
const $ = (selector) => document.querySelector(selector);

const state = {
  config: null,
  env: null,
  api: null,
  store: null,
  user: null,
  canEdit: true,
  doc: null, // working copy: {ConfigReloadIntervalSeconds?, Profiles: [raw profile objects]}
  baselineHead: undefined, // the configuration row's value when loaded (null: no row yet)
  selected: -1,
  dirty: false,
  samples: [],
  policies: null,
};

// --------------------------------------------------------------------------------- status & views

function setStatus(text, kind = "") {
  const node = $("#status");
  node.textContent = text;
  node.className = `status ${kind}`;
}

function showBanner(content, kind = "") {
  const banner = $("#banner");
  banner.replaceChildren(...(Array.isArray(content) ? content : [content]));
  banner.className = `banner ${kind}`;
  banner.hidden = false;
}

function hideBanner() {
  $("#banner").hidden = true;
}

function showView(id) {
  for (const view of ["#loading", "#signed-out", "#fatal", "#repair-view", "#workspace"]) $(view).hidden = view !== id;
  $("#app").setAttribute("aria-busy", id === "#loading" ? "true" : "false");
}

function fatal(title, text) {
  $("#fatal-title").textContent = title;
  $("#fatal-text").textContent = text;
  showView("#fatal");
  $("#save").disabled = true;
}

// --------------------------------------------------------------------------------- start-up

async function loadJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function start() {
  if (handOverToOpener()) {
    showView("#signed-out");
    $("#signed-out-reason").textContent = "Signed in. You can close this window.";
    return;
  }
  try {
    setEngineData(await loadJson("data/engine.json"));
    state.samples = [builtInSample()];
    renderSampleChoices();
    const defaults = {
      grant: "pkce",
      dataTable: "CallExport Configuration",
      dataTableRow: "config",
      dataTableColumn: "Configuration",
      systemQueue: "CallExport System",
    };
    state.config = { ...defaults, ...(await loadJson("config.json")) };
    state.env = resolveEnvironment(state.config);
    document.documentElement.lang = (state.env.langTag || "en").split("-")[0];
  } catch (exc) {
    fatal("The admin app cannot start", exc.message);
    return;
  }
  let token;
  try {
    token = (await finishSignIn(state.config, state.env)) || currentToken();
  } catch (exc) {
    signedOut(exc instanceof AuthError ? exc.message : `sign-in failed: ${exc.message}`);
    return;
  }
  if (!token) {
    if (isFramed()) signedOut("Inside Genesys Cloud the sign-in opens in a small window."); // a click may open it
    else signIn();
    return;
  }
  await signedIn(token);
}

async function signedIn(token) {
  hideBanner();
  state.api = new Api(state.env.apiBase, token, sessionExpired);
  state.store = new ConfigStore(state.api, state.config);
  await openConfiguration();
}

function signIn() {
  state.leaving = true; // the draft is kept; no "leave this page?" prompt on the way to the login page
  keepDraft();
  try {
    startSignIn(state.config, state.env, {
      onAnswer: async (search, hash) => {
        state.leaving = false;
        try {
          const token = await finishSignIn(state.config, state.env, search, hash);
          if (token) await signedIn(token);
        } catch (exc) {
          signedOut(exc instanceof AuthError ? exc.message : `sign-in failed: ${exc.message}`);
        }
      },
    });
  } catch (exc) {
    signedOut(exc.message);
  }
}

function signedOut(reason) {
  $("#signed-out-reason").textContent = reason || "";
  showView("#signed-out");
}

function sessionExpired() {
  forgetToken();
  keepDraft();
  const button = el("button", { type: "button", class: "primary small", id: "sign-in-again", onclick: signIn }, "Sign in again");
  showBanner(["Your Genesys Cloud session expired. Your unsaved changes are kept: sign in again to continue.", button], "error");
  setStatus("Session expired", "error");
}

function keepDraft() {
  if (state.doc && state.dirty) {
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify({ doc: state.doc, baselineHead: state.baselineHead, selected: state.selected }));
  }
}

function takeDraft() {
  const raw = sessionStorage.getItem(DRAFT_KEY);
  sessionStorage.removeItem(DRAFT_KEY);
  try {
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function hasPermission(permissions, wanted) {
  const [d, e, a] = wanted.split(":");
  return permissions.some((p) => {
    const [pd, pe, pa] = p.split(":");
    const match = (x, y) => x === "*" || y === "*" || x === y;
    return match(pd, d) && match(pe, e) && match(pa, a);
  });
}

async function openConfiguration() {
  showView("#loading");
  try {
    state.user = await state.api.me();
    $("#user").textContent = state.user.name || state.user.username || "";
    const permissions = (state.user.authorization && state.user.authorization.permissions) || [];
    const needView = ["architect:datatable:view", "architect:datatableRow:view"].filter((p) => !hasPermission(permissions, p));
    if (needView.length) {
      fatal("You have no access to the export configuration", `Your Genesys Cloud role lacks ${needView.join(", ")}. Ask an administrator to grant it.`);
      return;
    }
    const needEdit = ["architect:datatableRow:add", "architect:datatableRow:edit", "architect:datatableRow:delete", "conversation:callback:create"].filter(
      (p) => !hasPermission(permissions, p),
    );
    state.canEdit = needEdit.length === 0;
    if (!state.canEdit) showBanner(`Read-only: your role lacks ${needEdit.join(", ")}, so you can look but not save.`);
    await state.store.open();
    let stored;
    try {
      stored = await state.store.read();
    } catch (exc) {
      if (exc instanceof LayoutError) {
        const head = await state.store.currentHead();
        openRepair(head, [exc.message], head);
        return;
      }
      throw exc;
    }
    const draft = takeDraft();
    if (draft) {
      state.baselineHead = draft.baselineHead;
      openDocument(draft.doc, draft.selected, true);
      setStatus("Your unsaved changes were restored", "ok");
      return;
    }
    state.baselineHead = stored.head;
    if (stored.text === null) {
      openDocument({ Profiles: [] }, -1, false);
      setStatus("No configuration stored yet: create the first profile");
      return;
    }
    openStoredText(stored.text, stored.head);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) return;
    if (exc instanceof ApiError && exc.status === 403) {
      fatal("Genesys Cloud refused access", `${exc.message}. Ask an administrator for the permission named.`);
      return;
    }
    fatal("The configuration could not be loaded", exc.message);
  }
}

/** Problems that keep a document out of the form (it opens in the repair view instead). */
function repairProblems(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (exc) {
    return { problems: [`the stored text is not valid JSON: ${exc.message}`] };
  }
  try {
    const result = loadConfig(doc);
    const documentLevel = result.errors.filter((e) => e.profile === null).map((e) => `${e.field}: ${e.reason}`);
    const notObjects = (doc.Profiles || []).flatMap((p, i) =>
      p === null || typeof p !== "object" || Array.isArray(p) ? [`profile #${i + 1} is not a JSON object`] : [],
    );
    return { doc, problems: [...documentLevel, ...notObjects] };
  } catch (exc) {
    if (exc instanceof ConfigError) return { problems: [exc.message] };
    throw exc;
  }
}

function openStoredText(text, head) {
  const { doc, problems } = repairProblems(text);
  if (problems.length) {
    openRepair(text, problems, head);
    return;
  }
  openDocument(doc, doc.Profiles.length ? 0 : -1, false);
  setStatus("Loaded");
}

function openRepair(text, problems, head) {
  state.baselineHead = head;
  $("#repair-text").value = text ?? "";
  $("#repair-errors").replaceChildren(...problems.map((p) => el("li", { text: p })));
  showView("#repair-view");
  $("#save").disabled = true;
  setStatus("Repair needed", "error");
}

function repairCheck() {
  const { problems } = repairProblems($("#repair-text").value);
  $("#repair-errors").replaceChildren(...(problems.length ? problems : ["No problems left: open it in the editor."]).map((p) => el("li", { text: p })));
  return problems;
}

function repairOpen() {
  const { doc, problems } = repairProblems($("#repair-text").value);
  if (problems.length) {
    repairCheck();
    return;
  }
  openDocument(doc, doc.Profiles.length ? 0 : -1, true);
  setStatus("Opened the repaired text: save to store it");
}

async function repairEmpty() {
  const yes = await confirmDialog(
    "Start from an empty configuration?",
    "The stored text is replaced by an empty configuration when you save. Copy anything you want to keep first.",
    "Start empty",
  );
  if (yes) {
    openDocument({ Profiles: [] }, -1, true);
    setStatus("Empty configuration: save to store it");
  }
}

function openDocument(doc, selected, dirty) {
  state.doc = doc;
  if (!Array.isArray(state.doc.Profiles)) state.doc.Profiles = [];
  state.selected = selected;
  state.dirty = dirty;
  showView("#workspace");
  renderGlobal();
  renderAll();
}

// --------------------------------------------------------------------------------- validation

function profileLabel(profile, index) {
  return typeof profile.Name === "string" && pyStrip(profile.Name) ? profile.Name : `#${index + 1}`;
}

/** Every problem of profile `index` as [field, reason], including name clashes with the others. */
function problemsOf(index) {
  const profile = state.doc.Profiles[index];
  const problems = profileProblems(profile);
  if (problems.length && profile && typeof profile === "object" && !Array.isArray(profile)) {
    // The service stops at structural errors; the editor also shows the rules' findings for the
    // settings that are well formed (badly formed ones are taken at their default for this check).
    const bad = new Set(problems.map(([field]) => String(field).split(/[.[]/)[0]));
    const repaired = { ...profileDefaults(), Name: "profile" };
    for (const [key, value] of Object.entries(profile)) if (!bad.has(key) && Object.hasOwn(repaired, key) && key !== "Name") repaired[key] = value;
    if (structuralProblems(repaired).length === 0) {
      for (const problem of ruleProblems(repaired)) if (!bad.has(problem[0])) problems.push(problem);
    }
  }
  if (typeof profile.Name === "string" && pyStrip(profile.Name)) {
    const folded = caseFold(pyStrip(profile.Name));
    const clash = state.doc.Profiles.findIndex(
      (other, i) => i !== index && typeof other.Name === "string" && caseFold(pyStrip(other.Name)) === folded,
    );
    if (clash >= 0) {
      problems.unshift(["Name", `another profile (#${clash + 1}, "${state.doc.Profiles[clash].Name}") has this name; names must be unique, ignoring case`]);
    }
  }
  return problems;
}

function globalProblems() {
  const result = loadConfig({ ConfigReloadIntervalSeconds: state.doc.ConfigReloadIntervalSeconds ?? schema().properties.ConfigReloadIntervalSeconds.default, Profiles: [] });
  return result.errors.filter((e) => e.profile === null).map((e) => [e.field, e.reason]);
}

function allProblems() {
  const out = [];
  state.doc.Profiles.forEach((_, i) => {
    for (const p of problemsOf(i)) out.push({ index: i, field: p[0], reason: p[1] });
  });
  for (const [field, reason] of globalProblems()) out.push({ index: -1, field, reason });
  return out;
}

// --------------------------------------------------------------------------------- rendering

function renderAll() {
  renderList();
  renderEditor();
  renderPreview();
  updateSave();
}

function scopeSummary(profile) {
  const queues = valueOf(profile, "Queues") || [];
  const policies = valueOf(profile, "RetentionPolicies") || [];
  const parts = [];
  if (queues.length) parts.push(`Queues: ${queues.join(", ")}`);
  if (policies.length) parts.push(`Policies: ${policies.join(", ")}`);
  return parts.join(" · ") || "No input scope";
}

function renderList() {
  const list = $("#profile-list");
  list.replaceChildren();
  state.doc.Profiles.forEach((profile, index) => {
    const active = valueOf(profile, "Active") !== false;
    const invalid = problemsOf(index).length > 0;
    const name = profileLabel(profile, index);
    const handle = el("button", {
      type: "button",
      class: "drag-handle",
      "aria-label": `Move ${name} (position ${index + 1} of ${state.doc.Profiles.length}); use the arrow keys`,
      title: "Drag, or press ↑ / ↓",
      text: "⠿",
    });
    handle.addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        event.preventDefault();
        const to = index + (event.key === "ArrowUp" ? -1 : 1);
        if (to >= 0 && to < state.doc.Profiles.length) {
          moveProfile(index, to);
          $(`#profile-list li[data-index="${to}"] .drag-handle`).focus();
          setStatus(`${name} moved to position ${to + 1}`);
        }
      }
    });
    const toggle = el("button", {
      type: "button",
      class: "toggle-active small",
      "aria-label": `${active ? "Disable" : "Enable"} ${name}`,
      text: active ? "Disable" : "Enable",
    });
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      if (!active) delete profile.Active;
      else profile.Active = false;
      changed();
    });
    const badge = el("span", {
      class: `badge ${invalid ? "invalid" : active ? "" : "off"}`,
      text: invalid ? "Invalid" : active ? "Active" : "Off",
    });
    const item = el(
      "li",
      {
        class: `profile-item${index === state.selected ? " selected" : ""}${active ? "" : " inactive"}`,
        "data-index": String(index),
        draggable: "true",
        "aria-current": index === state.selected ? "true" : null,
      },
      handle,
      el("span", { class: "profile-name", text: name, title: name }),
      badge,
      el("span", { class: "profile-scope", text: scopeSummary(profile), title: scopeSummary(profile) }),
      toggle,
    );
    item.addEventListener("click", () => select(index));
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", String(index));
      event.dataTransfer.effectAllowed = "move";
    });
    const inLowerHalf = (event) => {
      const box = item.getBoundingClientRect();
      return event.clientY > box.top + box.height / 2;
    };
    item.addEventListener("dragover", (event) => {
      event.preventDefault();
      const after = inLowerHalf(event);
      item.classList.toggle("drop-before", !after);
      item.classList.toggle("drop-after", after);
    });
    item.addEventListener("dragleave", () => item.classList.remove("drop-before", "drop-after"));
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      item.classList.remove("drop-before", "drop-after");
      const from = Number(event.dataTransfer.getData("text/plain"));
      const after = inLowerHalf(event);
      let to = index + (after ? 1 : 0);
      if (from < to) to -= 1;
      if (Number.isInteger(from) && from !== to) {
        moveProfile(from, to);
        setStatus(`${profileLabel(state.doc.Profiles[to], to)} moved to position ${to + 1}`);
      }
    });
    list.append(item);
  });
  $("#profile-list-empty").hidden = state.doc.Profiles.length > 0;
}

function renderGlobal() {
  const spec = schema().properties.ConfigReloadIntervalSeconds;
  const input = el("input", {
    type: "number",
    id: "f-ConfigReloadIntervalSeconds",
    name: "ConfigReloadIntervalSeconds",
    min: spec.minimum,
    max: spec.maximum,
    step: 1,
    "aria-describedby": "f-ConfigReloadIntervalSeconds-help f-ConfigReloadIntervalSeconds-error",
  });
  input.value = String(state.doc.ConfigReloadIntervalSeconds ?? spec.default);
  input.addEventListener("input", () => {
    const value = parseInteger(input.value);
    if (value === undefined) delete state.doc.ConfigReloadIntervalSeconds;
    else state.doc.ConfigReloadIntervalSeconds = value;
    changed({ keepForm: true });
  });
  const help = helpText(spec.description);
  help.id = "f-ConfigReloadIntervalSeconds-help";
  $("#global-form").replaceChildren(
    el(
      "div",
      { class: "field" },
      el("label", { for: "f-ConfigReloadIntervalSeconds", text: spec.title }),
      input,
      help,
      el("p", { class: "field-error", "data-for": "ConfigReloadIntervalSeconds", id: "f-ConfigReloadIntervalSeconds-error", role: "alert", hidden: true }),
    ),
  );
}

function renderGlobalErrors() {
  const slot = $('#global-form .field-error[data-for="ConfigReloadIntervalSeconds"]');
  const problems = globalProblems();
  slot.hidden = problems.length === 0;
  slot.textContent = problems.map((p) => p[1]).join(" ");
  $("#f-ConfigReloadIntervalSeconds").toggleAttribute("aria-invalid", problems.length > 0);
}

function renderEditor() {
  const form = $("#editor");
  if (state.selected < 0 || state.selected >= state.doc.Profiles.length) {
    form.hidden = true;
    $("#editor-empty").hidden = false;
    return;
  }
  form.hidden = false;
  $("#editor-empty").hidden = true;
  const profile = state.doc.Profiles[state.selected];
  $("#editor-title").textContent = profileLabel(profile, state.selected);
  renderForm($("#groups"), profile, {
    change: (key, value) => setValue(key, value),
    pickers: { Queues: queuePicker, RetentionPolicies: policyPicker },
  });
  for (const control of form.querySelectorAll("input, select, button")) {
    if (!state.canEdit && control.closest("#groups")) control.disabled = true;
  }
  renderErrors();
}

function renderErrors() {
  if (state.selected >= 0) {
    const problems = problemsOf(state.selected);
    const unknown = Object.keys(state.doc.Profiles[state.selected]).filter((k) => !Object.hasOwn(profileDefaults(), k) && k !== "Name");
    showErrors($("#groups"), $("#profile-errors"), problems);
    if (unknown.length) {
      const button = el("button", { type: "button", class: "small", id: "remove-unknown" }, "Remove unknown keys");
      button.addEventListener("click", () => {
        for (const key of unknown) delete state.doc.Profiles[state.selected][key];
        changed();
      });
      $("#profile-errors").append(button);
    }
  }
  renderGlobalErrors();
}

function setValue(key, value, { rerender = false } = {}) {
  const profile = state.doc.Profiles[state.selected];
  if (value === undefined) delete profile[key];
  else profile[key] = value;
  if (key === "Name") $("#editor-title").textContent = profileLabel(profile, state.selected);
  changed({ keepForm: !rerender });
  if (rerender) {
    const input = $(`#groups [name="${CSS.escape(key)}"]`);
    if (input) input.focus();
  }
}

function changed({ keepForm = false } = {}) {
  state.dirty = true;
  renderList();
  if (keepForm) renderErrors();
  else renderEditor();
  renderPreview();
  updateSave();
  setStatus("Unsaved changes");
}

function updateSave() {
  const save = $("#save");
  save.disabled = !state.canEdit || !state.dirty;
  save.textContent = state.dirty ? "Save" : "Saved";
}

function select(index) {
  state.selected = index;
  renderList();
  renderEditor();
  renderPreview();
}

function moveProfile(from, to) {
  const [moved] = state.doc.Profiles.splice(from, 1);
  state.doc.Profiles.splice(to, 0, moved);
  if (state.selected === from) state.selected = to;
  else if (from < state.selected && to >= state.selected) state.selected -= 1;
  else if (from > state.selected && to <= state.selected) state.selected += 1;
  changed();
}

function uniqueName(base) {
  const taken = new Set(state.doc.Profiles.map((p) => (typeof p.Name === "string" ? caseFold(pyStrip(p.Name)) : "")));
  if (!taken.has(caseFold(base))) return base;
  for (let n = 2; ; n += 1) if (!taken.has(caseFold(`${base} ${n}`))) return `${base} ${n}`;
}

function newProfile() {
  state.doc.Profiles.push({ Name: uniqueName("New profile"), Active: true, Queues: [], DestinationRoot: profileDefaults().DestinationRoot });
  state.selected = state.doc.Profiles.length - 1;
  changed();
  $('#editor input[name="Name"]').select();
}

function duplicateProfile() {
  const source = state.doc.Profiles[state.selected];
  const copy = structuredClone(source);
  copy.Name = uniqueName(`${profileLabel(source, state.selected)} (copy)`);
  state.doc.Profiles.splice(state.selected + 1, 0, copy);
  state.selected += 1;
  changed();
  $('#editor input[name="Name"]').select();
}

async function deleteProfile() {
  const name = profileLabel(state.doc.Profiles[state.selected], state.selected);
  const yes = await confirmDialog(`Delete profile "${name}"?`, "Its settings are removed from the configuration when you save.", "Delete");
  if (!yes) return;
  state.doc.Profiles.splice(state.selected, 1);
  state.selected = Math.min(state.selected, state.doc.Profiles.length - 1);
  changed();
}

function confirmDialog(title, text, yesLabel) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  dialog.querySelector(".confirm-yes").textContent = yesLabel;
  dialog.returnValue = "";
  dialog.showModal();
  dialog.querySelector(".confirm-no").focus();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true }));
}

// --------------------------------------------------------------------------------- pickers

function chipList(values, onRemove) {
  return el(
    "div",
    { class: "chips" },
    values.map((value) =>
      el("span", { class: "chip" }, value, el("button", { type: "button", "aria-label": `Remove ${value}`, onclick: () => onRemove(value) }, "×")),
    ),
  );
}

function pickerWidget({ id, key, values, describedBy, placeholder, search }) {
  const wrap = el("div", { class: "picker" });
  const input = el("input", {
    type: "text",
    id,
    name: key,
    placeholder,
    autocomplete: "off",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": `${id}-list`,
    "aria-describedby": describedBy,
  });
  const list = el("ul", { class: "suggestions", id: `${id}-list`, role: "listbox", hidden: true });
  const set = (next) => setValue(key, next, { rerender: true });
  const add = (name) => {
    if (!values.some((v) => v.toLowerCase() === name.toLowerCase())) set([...values, name]);
  };
  let timer = null;
  let active = -1;
  const show = (items, text) => {
    list.replaceChildren();
    active = -1;
    if (!items.length) list.append(el("li", { class: "none", text: `No match for "${text}"` }));
    for (const name of items) {
      const li = el("li", { role: "option", "data-value": name, text: name });
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        add(name);
      });
      list.append(li);
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) {
      list.hidden = true;
      return;
    }
    timer = setTimeout(async () => {
      try {
        show(await search(text), text);
      } catch (exc) {
        list.replaceChildren(el("li", { class: "none", text: exc.message }));
        list.hidden = false;
      }
    }, 200);
  });
  input.addEventListener("keydown", (event) => {
    const options = [...list.querySelectorAll("[role=option]")];
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!options.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
      options.forEach((o, i) => o.setAttribute("aria-selected", String(i === active)));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const pick = options[active] || options[0];
      if (pick) add(pick.dataset.value);
    } else if (event.key === "Escape") list.hidden = true;
  });
  input.addEventListener("blur", () => setTimeout(() => (list.hidden = true), 150));
  wrap.append(chipList(values, (value) => set(values.filter((v) => v !== value))), input, list);
  return wrap;
}

function queuePicker(id, value, describedBy) {
  return pickerWidget({
    id,
    key: "Queues",
    values: Array.isArray(value) ? value : [],
    describedBy,
    placeholder: "Search the organization's queues…",
    search: async (text) => (await state.api.searchQueues(text)).map((q) => q.name),
  });
}

function policyPicker(id, value, describedBy) {
  return pickerWidget({
    id,
    key: "RetentionPolicies",
    values: Array.isArray(value) ? value : [],
    describedBy,
    placeholder: "Search the recording retention policies…",
    search: async (text) => {
      if (state.policies === null) state.policies = await state.api.policies();
      const needle = text.toLowerCase();
      return state.policies.map((p) => p.name).filter((n) => n.toLowerCase().includes(needle));
    },
  });
}

// --------------------------------------------------------------------------------- preview

function builtInSample() {
  const sample = engineData().sampleCall;
  return { label: "Built-in sample: consult transfer, queue Support", details: sample.details, recordings: sample.recordings, conversation: sample.conversation, names: sample.names };
}

function renderSampleChoices() {
  const selectBox = $("#preview-sample");
  const current = selectBox.value;
  selectBox.replaceChildren(...state.samples.map((s, i) => el("option", { value: String(i), text: s.label })));
  if (current && Number(current) < state.samples.length) selectBox.value = current;
}

function renderPreview() {
  const list = $("#preview-list");
  const message = $("#preview-message");
  list.replaceChildren();
  message.textContent = "";
  if (state.selected < 0 || !state.doc || state.selected >= state.doc.Profiles.length) {
    message.textContent = "Select a profile to see the files it writes.";
    return;
  }
  const raw = state.doc.Profiles[state.selected];
  const sample = state.samples[Number($("#preview-sample").value || 0)] || state.samples[0];
  $("#preview-about").textContent = `Files this profile writes for: ${sample.label}. Nothing is written.`;
  if (structuralProblems(raw).length) {
    message.textContent = "Fix the highlighted settings to see the preview.";
    return;
  }
  const profile = { ...profileDefaults(), ...raw };
  let files;
  try {
    files = previewFiles(profile, sample.details, sample.recordings, {
      conversation: sample.conversation,
      queueNames: sample.names.queues,
      userNames: sample.names.users,
      flowNames: sample.names.flows,
      now: new Moment(Date.now(), 0, UTC),
      machineName: "EXPORT-SERVER",
    });
  } catch (exc) {
    message.textContent = `No preview while a setting is invalid: ${exc.message}`;
    return;
  }
  if (!files.length) message.textContent = "This profile writes no file for this call (nothing matches its filters).";
  for (const file of files) {
    list.append(
      el(
        "li",
        { class: `file ${file.kind}` },
        el("span", { class: "kind", text: file.kind }),
        el("span", { class: "path", text: file.path }),
        el("span", { class: "source", text: `from ${file.source}` }),
      ),
    );
  }
}

async function pickConversation() {
  const dialog = $("#pick-dialog");
  const list = $("#pick-list");
  list.replaceChildren(el("li", { class: "hint", text: "Loading…" }));
  dialog.showModal();
  try {
    const conversations = await state.api.recentConversations(24);
    list.replaceChildren();
    if (!conversations.length) list.append(el("li", { class: "hint", text: "No conversations in the last 24 hours." }));
    for (const c of conversations) {
      const customer = (c.participants || []).find((p) => p.purpose === "customer" || p.purpose === "external");
      const when = new Date(c.conversationStart).toLocaleString();
      const label = `${when} · ${customer && customer.participantName ? customer.participantName : "unknown caller"} · ${c.conversationId}`;
      list.append(el("li", {}, el("button", { type: "button", "data-conversation": c.conversationId, onclick: () => usePicked(c, label) }, label)));
    }
  } catch (exc) {
    list.replaceChildren(el("li", { class: "field-error", text: `Cannot list conversations: ${exc.message}` }));
  }
}

async function usePicked(details, label) {
  $("#pick-dialog").close();
  setStatus("Loading the call's recordings…");
  let recordings = null;
  let conversation = null;
  const queueNames = {};
  try {
    recordings = await state.api.recordings(details.conversationId);
  } catch {
    recordings = null;
  }
  try {
    conversation = await state.api.conversation(details.conversationId);
  } catch {
    conversation = null;
  }
  const queueIds = new Set();
  for (const p of details.participants || []) for (const s of p.sessions || []) for (const seg of s.segments || []) if (seg.queueId) queueIds.add(seg.queueId);
  for (const id of queueIds) {
    try {
      const q = await state.api.call("GET", `/api/v2/routing/queues/${encodeURIComponent(id)}`);
      queueNames[id] = q.name;
    } catch {
      /* the name stays unknown */
    }
  }
  state.samples.push({ label: `Call ${label}`, details, recordings, conversation, names: { queues: queueNames, users: {}, flows: {} } });
  renderSampleChoices();
  $("#preview-sample").value = String(state.samples.length - 1);
  renderPreview();
  setStatus("Preview uses the picked call", "ok");
}

// --------------------------------------------------------------------------------- save

function compactDocument() {
  const out = {};
  if (state.doc.ConfigReloadIntervalSeconds !== undefined) out.ConfigReloadIntervalSeconds = state.doc.ConfigReloadIntervalSeconds;
  for (const [key, value] of Object.entries(state.doc)) if (key !== "ConfigReloadIntervalSeconds" && key !== "Profiles") out[key] = value;
  out.Profiles = state.doc.Profiles;
  return out;
}

async function save({ force = false } = {}) {
  const problems = allProblems();
  if (problems.length) {
    const first = problems[0];
    if (first.index >= 0 && first.index !== state.selected) select(first.index);
    renderErrors();
    setStatus(`Not saved: fix ${problems.length} problem(s) first`, "error");
    const field = first.index >= 0 ? $(`#groups [name="${CSS.escape(String(first.field).split(/[.[]/)[0])}"]`) : $("#f-ConfigReloadIntervalSeconds");
    if (field) field.focus();
    return;
  }
  const doc = compactDocument();
  const text = JSON.stringify(doc);
  $("#save").disabled = true;
  setStatus("Saving…");
  try {
    state.baselineHead = await state.store.write(text, state.baselineHead, { force });
  } catch (exc) {
    updateSave();
    if (exc instanceof ConflictError) {
      showConflict(exc);
      setStatus("Not saved: the configuration changed meanwhile", "error");
      return;
    }
    if (exc instanceof ApiError && exc.status === 401) return;
    setStatus(`Not saved: ${exc.message}`, "error");
    return;
  }
  state.dirty = false;
  updateSave();
  let signal;
  try {
    signal = await state.store.signal();
  } catch (exc) {
    signal = { ok: false, message: `the reload signal failed (${exc.message}); the service applies the change at its next reload` };
  }
  setStatus(signal.ok ? "Saved: the service was notified and reloads now" : `Saved; ${signal.message}`, signal.ok ? "ok" : "error");
}

function describe(value) {
  return value === undefined ? "(not set)" : JSON.stringify(value);
}

/** Rows of [profile, setting, theirs, mine] for what differs (profiles matched by name). */
export function differences(theirs, mine) {
  const rows = [];
  const keyOf = (p, i) => (typeof p.Name === "string" ? caseFold(pyStrip(p.Name)) : `#${i}`);
  const theirMap = new Map((theirs.Profiles || []).map((p, i) => [keyOf(p, i), p]));
  const mineMap = new Map((mine.Profiles || []).map((p, i) => [keyOf(p, i), p]));
  if ((theirs.ConfigReloadIntervalSeconds ?? 300) !== (mine.ConfigReloadIntervalSeconds ?? 300)) {
    rows.push(["(global)", "ConfigReloadIntervalSeconds", describe(theirs.ConfigReloadIntervalSeconds), describe(mine.ConfigReloadIntervalSeconds)]);
  }
  for (const [key, p] of mineMap) {
    const other = theirMap.get(key);
    if (!other) {
      rows.push([p.Name, "(whole profile)", "(absent)", "added"]);
      continue;
    }
    for (const k of new Set([...Object.keys(other), ...Object.keys(p)])) {
      if (JSON.stringify(other[k]) !== JSON.stringify(p[k])) rows.push([p.Name, k, describe(other[k]), describe(p[k])]);
    }
  }
  for (const [key, p] of theirMap) if (!mineMap.has(key)) rows.push([p.Name, "(whole profile)", "present", "(absent)"]);
  const order = (d) => (d.Profiles || []).map((p) => p.Name).join(" | ");
  if (order(theirs) !== order(mine) && rows.every((r) => r[1] !== "(whole profile)")) rows.push(["(all)", "order", order(theirs), order(mine)]);
  return rows;
}

function showConflict(conflict) {
  let theirs = null;
  try {
    theirs = JSON.parse(conflict.currentText);
  } catch {
    theirs = null;
  }
  const view = $("#conflict-view");
  if (theirs === null || typeof theirs !== "object") {
    view.replaceChildren(el("p", { text: "The stored configuration now holds text that is not a valid document." }));
  } else {
    const rows = differences(theirs, compactDocument());
    const table = el(
      "table",
      { class: "diff" },
      el("thead", {}, el("tr", {}, el("th", { text: "Profile" }), el("th", { text: "Setting" }), el("th", { text: "Saved by someone else" }), el("th", { text: "Yours" }))),
      el(
        "tbody",
        {},
        rows.map((r) => el("tr", {}, el("td", { text: r[0] }), el("td", { text: r[1] }), el("td", { class: "value", text: r[2] }), el("td", { class: "value", text: r[3] }))),
      ),
    );
    view.replaceChildren(rows.length ? table : el("p", { text: "No setting differs (only the storage changed)." }));
  }
  const dialog = $("#conflict-dialog");
  dialog.showModal();
  $("#conflict-cancel").onclick = () => dialog.close();
  $("#conflict-theirs").onclick = () => {
    dialog.close();
    state.baselineHead = conflict.currentHead;
    if (conflict.currentText === null) openDocument({ Profiles: [] }, -1, false);
    else openStoredText(conflict.currentText, conflict.currentHead);
    setStatus("Loaded the saved configuration; your changes were discarded");
  };
  $("#conflict-mine").onclick = () => {
    dialog.close();
    state.baselineHead = conflict.currentHead;
    save();
  };
}

// --------------------------------------------------------------------------------- wiring

function wire() {
  $("#sign-in").addEventListener("click", signIn);
  $("#fatal-retry").addEventListener("click", () => window.location.reload());
  $("#save").addEventListener("click", () => save());
  $("#new-profile").addEventListener("click", newProfile);
  $("#duplicate-profile").addEventListener("click", duplicateProfile);
  $("#delete-profile").addEventListener("click", deleteProfile);
  $("#repair-check").addEventListener("click", repairCheck);
  $("#repair-open").addEventListener("click", repairOpen);
  $("#repair-empty").addEventListener("click", repairEmpty);
  $("#pick-conversation").addEventListener("click", pickConversation);
  $("#pick-close").addEventListener("click", () => $("#pick-dialog").close());
  $("#preview-sample").addEventListener("change", renderPreview);
  $("#editor").addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("beforeunload", (event) => {
    if (state.dirty && !state.leaving) {
      keepDraft();
      event.preventDefault();
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      if (!$("#save").disabled) save();
    }
  });
}

wire();
start();

// for the browser tests and the console
window.callexportAdmin = { state, differences };

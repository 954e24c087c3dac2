// The modeling-request wizard of the DLOM paper (§6, Figs. 7-8): six steps, then the results.
// Every step's panel stays in the page (hidden when not current), so going back and forth never loses
// an answer. Empty answers mean "Any". Client-side checks catch the obvious mistakes; everything else
// is checked by POST /api/recommend, whose field-level errors are shown next to the field they name.
import { api, clear, debounce, errorsOf, h, num, OBJECTIVES, title } from "./dom.js";
import { REQUIREMENTS } from "./requirement-table.js";
import { renderResults } from "./results.js";

const DEVICE_TYPES = ["Raspberry Pi", "Android", "iPhone", "Cortex-M", "Cortex-A", "RISC-V", "STM32", "NUCLEO", "TPU", "FPGA"];

/* Which fields each step asks, of what kind, with which bounds and units, and which may "rank only,
 * don't exclude" (the request's `preferred` list) come from the requirement table the server generates
 * (decision/requirement_table.py → /ui/js/requirement-table.js). FIELD_UI adds only what a person reads:
 * label, hint, suggested options, and where a field is shown differently (accuracy as a percentage,
 * money in cents, µJ); null: the step renders the field itself (this machine). */
const FIELD_UI = {
  "project.business_focus": { label: "Business focus", options: ["Medical", "Industrial", "Academic", "Real estate", "General"], optionsKey: "application_areas",
    hint: "The application area. MLPerf Tiny results do not record one, so keep unknowns (below) to see them." },
  "project.purpose": { label: "Purpose (task)", optionsKey: "purposes", hint: "What the model does." },
  "project.total_budget_usd": { label: "Total budget", step: 0.01, hint: "Dollars and cents; the most the whole deployment may cost." },
  "project.number_of_devices": { label: "Number of IoT devices", hint: "A whole number; used to project the total cost." },
  "project.device_types": { label: "Types of IoT devices", options: DEVICE_TYPES, hint: "A model matches when its device's name, board, processor or accelerator contains one of these." },
  "network.network": { label: "Network", optionsKey: "networks", searchable: true,
    hint: "Type to search the networks the graph records and pick one: the name must match in full (case, '-', '_' and spaces are ignored)." },
  "network.training_dataset": { label: "Training dataset", optionsKey: "training_datasets" },
  "network.min_layers": { label: "Number of layers, at least" },
  "cloud.server_hardware": { label: "Server hardware", optionsKey: "server_hardware", options: ["Google TPU", "NVIDIA GPU", "x86 CPU"], searchable: true,
    hint: "Type to search; a server matches when its hardware contains what you type." },
  "cloud.shielded_execution": { label: "Shielded execution", hint: "Run the model in a secure enclave." },
  "cloud.max_monthly_cost_usd": { label: "Monthly cloud cost, at most", step: 0.01 },
  "device.min_memory_kb": { label: "Device memory, at least" },
  "device.min_clock_mhz": { label: "Processor clock, at least" },
  "device.framework": { label: "Inference framework", optionsKey: "frameworks", searchable: true,
    hint: "Type to search; a device matches when the name or family of one of its frameworks contains what you type (TensorFlow Lite for Microcontrollers finds every spelling of it)." },
  "device.form_factor": { label: "Form factor", optionsKey: "form_factors", hint: "As the source files the device: IoT, Phone, Auto, XR, Compute." },
  "device.this_machine": null,
  "performance.min_accuracy": { label: "Accuracy, at least", kind: "percent", unit: "%", hint: "Between 0 and 100 %." },
  "performance.max_accuracy_loss_points": { label: "Accuracy lost to quantization, at most", unit: "points",
    hint: "Percentage points of top-1 (or another % metric) lost against the float network on the same samples, measured on the device." },
  "performance.max_latency_ms": { label: "Inference latency, at most" },
  "performance.max_energy_uj": { label: "Energy per inference, at most", unit: "µJ" },
  "performance.min_throughput_ips": { label: "Throughput, at least" },
  "performance.max_memory_mb": { label: "Runtime memory, at most" },
};
const KINDS = { text: "text", number: "number", integer: "number", flag: "bool", texts: "multi" };

/** A step's fields from the table rows of its section. Field kinds: text (select of known values +
 * "Other"), number, percent, bool (Any/Yes/No), multi. */
function fieldsOf(section) {
  return REQUIREMENTS.filter((r) => r.section === section && FIELD_UI[r.field] !== null).map((r) => {
    const ui = FIELD_UI[r.field] || {};
    const field = { name: r.name, label: ui.label || r.description, kind: ui.kind || KINDS[r.type], unit: ui.unit ?? (r.unit || undefined),
      soft: r.preferrable, hint: ui.hint, options: ui.options, optionsKey: ui.optionsKey, searchable: ui.searchable,
      exact: r.comparison === "equals-name" || r.comparison === "equals-text" };
    if (field.kind === "number") {
      field.step = ui.step ?? (r.type === "integer" ? 1 : "any");
      if (r.exclusive_minimum !== undefined) Object.assign(field, { min: r.exclusive_minimum, exclusiveMin: true });
      else if (r.minimum !== undefined) field.min = r.minimum;
    }
    return field;
  });
}

const STEPS = [
  { id: "project", title: "Your project", heading: "Tell me more about your project",
    intro: "Defining this section helps choose the best model for your business.", fields: fieldsOf("project") },
  { id: "network", title: "Main DLN", heading: "Tell me more about the deep-learning network",
    intro: "This section searches for your network preferences.", fields: fieldsOf("network") },
  { id: "cloud", title: "Cloud server", heading: "Do you need a cloud server?",
    intro: "Server-side settings for the main DLN. Leave Any if the model runs on the devices alone.", fields: fieldsOf("cloud") },
  { id: "device", title: "End devices", heading: "What do your end devices offer?",
    intro: "The specifications of the IoT end devices the model must run on.", fields: fieldsOf("device") },
  { id: "performance", title: "Performance", heading: "What is the minimum accepted performance?",
    intro: "Measured figures only: a model whose figure is only predicted does not count as meeting these.", fields: fieldsOf("performance") },
  { id: "preferences", title: "Preferences", heading: "Preference elicitation",
    intro: "Compare the objectives two at a time: pick how much more important the one on that side is. The first five comparisons are enough to weigh all six objectives; the others refine the weights. Leave a row empty to skip it — missing comparisons are completed from the others." },
  { id: "results", title: "Results", heading: "These are the best suggested models" },
];

// Fig. 8a's pairs first (the paper's example), then the remaining pairs of the six objectives.
const PAPER_PAIRS = [["performance", "cost"], ["latency", "security"], ["security", "complexity"], ["complexity", "performance"],
  ["cost", "reliability"], ["reliability", "latency"], ["cost", "latency"]];
function allPairs() {
  const seen = new Set(PAPER_PAIRS.map((p) => [...p].sort().join("|")));
  const pairs = [...PAPER_PAIRS];
  for (let i = 0; i < OBJECTIVES.length; i++) for (let j = i + 1; j < OBJECTIVES.length; j++) {
    const key = [OBJECTIVES[i], OBJECTIVES[j]].sort().join("|");
    if (!seen.has(key)) { seen.add(key); pairs.push([OBJECTIVES[i], OBJECTIVES[j]]); }
  }
  return pairs;
}
const GUIDED_COUNT = 5; // PAPER_PAIRS' first five connect all six objectives (decision.elicitation.GUIDED_COMPARISONS)
const LEVELS = ["absolute", "stronger", "weak"];
const LEVEL_TEXT = { equal: "Equal importance", weak: "Weak importance", stronger: "Stronger importance", absolute: "Absolute importance" };

export function mountWizard(root) {
  const state = { step: 0, options: {}, optionsLoaded: false, lastRequest: null, lastResponse: null };
  const optionsLoaded = []; // callbacks run once /api/wizard-options has filled the lists
  const stepButtons = [];
  const panels = [];
  const nav = h("ol", { class: "steps", "aria-label": "Steps" });
  STEPS.forEach((step, i) => {
    const b = h("button", { type: "button", onclick: () => go(i) }, `${i + 1}.`, h("span", { class: "step-title" }, ` ${step.title}`));
    stepButtons.push(b);
    nav.append(h("li", {}, b));
  });
  const summary = h("div", { class: "error-summary", role: "alert", id: "wizard-errors" });
  const container = h("div", { class: "card" });
  const back = h("button", { type: "button", onclick: () => go(state.step - 1) }, "Back");
  const next = h("button", { type: "button", class: "primary", onclick: onNext }, "Next");
  const reset = h("button", { type: "button", class: "link", onclick: resetAll }, "Start over");
  const navBar = h("div", { class: "wizard-nav" }, back, h("span", { class: "spacer" }), reset, next);
  root.append(nav, summary, container);

  STEPS.forEach((step, i) => {
    const panel = h("section", { class: "step-panel", id: `step-${step.id}`, "aria-labelledby": `step-${step.id}-title`, hidden: true },
      h("h2", { id: `step-${step.id}-title`, tabindex: "-1" }, step.heading), step.intro ? h("p", { class: "muted" }, step.intro) : null);
    if (step.fields) {
      for (const field of step.fields) panel.append(renderField(step.id, field));
      if (step.id === "project") {
        panel.append(h("div", { class: "field" },
          h("div", { class: "label-col" }, h("span", { class: "label" }, "Unknown values")),
          h("div", { class: "control" }, h("label", { class: "soft" },
            h("input", { type: "checkbox", id: "allow-unknown", checked: true }),
            "Keep models that don't record a value you constrain (they are marked ", h("em", {}, "unknown"), ")"))));
      }
    }
    if (step.id === "device") {
      panel.append(h("div", { class: "field", dataset: { field: "device.this_machine" } },
        h("div", { class: "label-col" }, h("span", { class: "label" }, "This machine")),
        h("div", { class: "control" }, h("label", { class: "soft" },
          h("input", { type: "checkbox", id: "this-machine" }),
          "Deploy on this machine: only models measured on a benchmark host (a machine DLOM measured on, not an IoT device)"))));
    }
    // at the step where a requirement is entered: can the data check it? (POST /api/requirements/coverage)
    if (step.fields) panel.addEventListener("change", () => checkCoverage());
    if (step.id === "preferences") panel.append(renderPreferences());
    if (step.id === "results") panel.append(h("div", { id: "results" }));
    panels.push(panel);
    container.append(panel);
  });
  container.append(navBar);

  api("/api/wizard-options").then((res) => {
    if (!res.ok || !res.data) return;
    state.options = res.data;
    for (const list of root.querySelectorAll("select[data-options-key], datalist[data-options-key]")) fillOptions(list, res.data[list.dataset.optionsKey] || []);
    state.optionsLoaded = true;
    for (const offer of optionsLoaded) offer();
  });

  go(0, false);

  function go(i, focus = true) {
    if (i < 0 || i >= STEPS.length) return;
    if (i > state.step && i !== STEPS.length - 1 && !validateStep(state.step)) return;
    state.step = i;
    panels.forEach((p, k) => { p.hidden = k !== i; });
    stepButtons.forEach((b, k) => { if (k === i) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current"); });
    back.disabled = i === 0;
    next.hidden = i === STEPS.length - 1;
    next.textContent = i === STEPS.length - 2 ? "Get my recommendations" : "Next";
    if (STEPS[i].id === "results") submit();
    if (STEPS[i].id === "preferences") updatePreferences();
    if (focus) panels[i].querySelector("h2").focus();
  }

  function onNext() { go(state.step + 1); }

  function resetAll() {
    for (const el of root.querySelectorAll("input, select")) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = el.defaultChecked;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else el.value = "";
      el.dispatchEvent(new Event("change"));
    }
    clearErrors();
    go(0);
  }

  // -- fields -------------------------------------------------------------------------------------

  function renderField(section, f) {
    const path = `${section}.${f.name}`;
    const id = `f-${section}-${f.name}`;
    const errId = `err-${section}-${f.name}`;
    const hintId = `hint-${section}-${f.name}`;
    const describedBy = [f.hint ? hintId : null, errId].filter(Boolean).join(" ");
    let control;
    let labelEl;
    if (f.kind === "text" && f.searchable) {
      // a long list: a text box searching the values the graph records (a datalist), so nothing overflows
      // and no one scrolls through hundreds of names; a value that must match in full is checked below
      const list = h("datalist", { id: `${id}-values`, dataset: { optionsKey: f.optionsKey || "" } }, (f.options || []).map((o) => h("option", { value: o })));
      const input = h("input", { type: "text", id, list: list.id, maxlength: 200, autocomplete: "off", placeholder: "Any — type to search",
        "aria-describedby": `${describedBy} ${id}-suggest`, dataset: { path, kind: "text" } });
      const suggest = h("div", { class: "field-suggest small", id: `${id}-suggest`, "aria-live": "polite" });
      if (f.exact) {
        const offer = () => { if (state.optionsLoaded) offerFullNames(input, list, suggest); };
        input.addEventListener("change", offer);
        input.addEventListener("input", debounce(offer, 300));
        optionsLoaded.push(offer); // what was typed before the recorded values arrived is checked then
      }
      control = [input, list, suggest];
      labelEl = h("label", { for: id }, f.label);
    } else if (f.kind === "text") {
      const select = h("select", { id, "aria-describedby": describedBy, dataset: { path, kind: "text", optionsKey: f.optionsKey || "" } },
        h("option", { value: "" }, "Any"), (f.options || []).map((o) => h("option", { value: o }, o)), h("option", { value: "__other__" }, "Other…"));
      const other = h("input", { type: "text", id: `${id}-other`, "aria-label": `${f.label}: other value`, maxlength: 200, hidden: true, placeholder: "type a value" });
      select.addEventListener("change", () => { other.hidden = select.value !== "__other__"; if (!other.hidden) other.focus(); });
      control = [select, other];
      labelEl = h("label", { for: id }, f.label);
    } else if (f.kind === "number" || f.kind === "percent") {
      const input = h("input", { type: "number", id, inputmode: "decimal", placeholder: "Any", "aria-describedby": describedBy,
        min: f.kind === "percent" ? 0 : f.min, max: f.kind === "percent" ? 100 : null, step: f.kind === "percent" ? "any" : f.step,
        dataset: { path, kind: f.kind } });
      control = [input, f.unit ? h("span", { class: "muted", "aria-hidden": "true" }, f.unit) : null];
      labelEl = h("label", { for: id }, f.label, f.unit ? h("span", { class: "visually-hidden" }, ` (${f.unit})`) : null);
    } else if (f.kind === "bool") {
      const select = h("select", { id, "aria-describedby": describedBy, dataset: { path, kind: "bool" } },
        h("option", { value: "" }, "Any"), h("option", { value: "true" }, "Yes, required"), h("option", { value: "false" }, "No"));
      control = [select];
      labelEl = h("label", { for: id }, f.label);
    } else if (f.kind === "multi") {
      const any = h("input", { type: "checkbox", id: `${id}-any`, checked: true, dataset: { anyFor: path } });
      const boxes = f.options.map((o, k) => h("label", {}, h("input", { type: "checkbox", value: o, id: `${id}-${k}`, dataset: { multi: path } }), ` ${o}`));
      const other = h("input", { type: "text", id: `${id}-other`, placeholder: "other types, comma-separated", maxlength: 200,
        "aria-label": `${f.label}: other types, comma-separated`, dataset: { multiOther: path } });
      const set = h("fieldset", { class: "choice-set", id, "aria-describedby": describedBy },
        h("legend", { class: "visually-hidden" }, f.label), h("label", {}, any, " Any"), boxes, other);
      const sync = (e) => {
        const chosen = set.querySelectorAll(`input[data-multi]:checked`).length > 0 || other.value.trim() !== "";
        if (e && e.target === any && any.checked) { for (const b of set.querySelectorAll("input[data-multi]")) b.checked = false; other.value = ""; }
        else any.checked = !chosen;
      };
      set.addEventListener("change", sync);
      other.addEventListener("input", sync);
      control = [set];
      labelEl = h("span", { class: "label", id: `${id}-label` }, f.label);
      set.setAttribute("aria-labelledby", `${id}-label`);
    }
    const soft = f.soft ? h("label", { class: "soft" }, h("input", { type: "checkbox", dataset: { soft: path }, "aria-label": `${f.label}: rank only, don't exclude` }), "rank only, don't exclude") : null;
    return h("div", { class: "field", dataset: { field: path } },
      h("div", { class: "label-col" }, labelEl, f.hint ? h("span", { class: "hint", id: hintId }, f.hint) : null),
      h("div", { class: "control" }, control, soft),
      h("p", { class: "field-error", id: errId, "aria-live": "polite" }),
      h("p", { class: "field-note small", id: `note-${section}-${f.name}`, "aria-live": "polite", hidden: true }));
  }

  // The answer of the latest coverage check wins; an invalid or half-typed answer shows nothing new.
  let coverageSeq = 0;
  async function checkCoverage() {
    const seq = ++coverageSeq;
    const { preferences, ...body } = collect();
    const res = await api("/api/requirements/coverage", { method: "POST", body });
    if (seq !== coverageSeq || !res.ok || !res.data) return;
    for (const note of root.querySelectorAll(".field-note")) { note.textContent = ""; note.hidden = true; }
    for (const a of res.data.requirements || []) {
      const note = root.querySelector(`[data-field="${a.field}"] .field-note`);
      if (!note || a.status !== "not_applied") continue;
      note.textContent = a.reason.charAt(0).toUpperCase() + a.reason.slice(1);
      note.hidden = false;
    }
  }

  /** For a field that must match a recorded value in full (a network's name): when what is typed is not
   * one, the recorded values containing it, as buttons that fill it in (the same name rule as the server's). */
  function offerFullNames(input, list, out) {
    const name = (t) => t.toLowerCase().replace(/[-_\s]/g, "");
    const typed = name(input.value);
    // the same answer again (the change event when a suggestion is pressed): keep the buttons, so the press lands
    if (out.dataset.for === typed) return;
    out.dataset.for = typed;
    clear(out);
    if (!typed) return;
    const values = [...list.options].map((o) => o.value);
    if (values.some((v) => name(v) === typed)) return;
    const matches = values.filter((v) => name(v).includes(typed));
    if (!matches.length) { out.append(h("p", { class: "field-note" }, "No network the graph records has this name: no recorded model will match it.")); return; }
    out.append(h("p", { class: "muted" }, `Not a full name the graph records; ${matches.length} contain it — pick one:`),
      h("ul", { class: "suggestions" }, matches.slice(0, 8).map((v) => h("li", {}, h("button", { type: "button", class: "link",
        onclick: () => { input.value = v; out.dataset.for = name(v); clear(out); input.dispatchEvent(new Event("change", { bubbles: true })); input.focus(); } }, v)))),
      matches.length > 8 ? h("p", { class: "muted" }, `… and ${matches.length - 8} more: type more of the name.`) : null);
  }

  function fillOptions(select, values) {
    if (select.tagName === "DATALIST") {
      const known = new Set([...select.options].map((o) => o.value));
      for (const v of values) if (!known.has(v)) select.append(h("option", { value: v }));
      return;
    }
    const existing = new Set([...select.options].map((o) => o.value));
    const otherOpt = select.querySelector('option[value="__other__"]');
    for (const v of values) if (!existing.has(v)) select.insertBefore(h("option", { value: v }, v), otherOpt);
  }

  /** The answers as the Requirements body of POST /api/recommend (empty = Any = omitted). */
  function collect() {
    const req = { project: {}, network: {}, cloud: {}, device: {}, performance: {} };
    for (const el of root.querySelectorAll("[data-path]")) {
      const [section, name] = el.dataset.path.split(".");
      const kind = el.dataset.kind;
      if (kind === "text") {
        const value = el.value === "__other__" ? root.querySelector(`#${el.id}-other`).value.trim() : el.value;
        if (value) req[section][name] = value;
      } else if (kind === "number" || kind === "percent") {
        if (el.value.trim() === "" && !el.validity.badInput) continue;
        const n = Number(el.value);
        req[section][name] = kind === "percent" ? n / 100 : n;
      } else if (kind === "bool") {
        if (el.value) req[section][name] = el.value === "true";
      }
    }
    for (const fs of root.querySelectorAll("fieldset.choice-set")) {
      const path = fs.querySelector("[data-any-for]").dataset.anyFor;
      const [section, name] = path.split(".");
      const values = [...fs.querySelectorAll("input[data-multi]:checked")].map((b) => b.value);
      const other = fs.querySelector("[data-multi-other]").value.split(",").map((s) => s.trim()).filter(Boolean);
      if (values.length || other.length) req[section][name] = [...values, ...other];
    }
    const preferred = [...root.querySelectorAll("input[data-soft]:checked")].map((b) => b.dataset.soft)
      .filter((p) => { const [s, n] = p.split("."); return req[s][n] !== undefined; });
    if (root.querySelector("#this-machine").checked) req.device.this_machine = true;
    return { ...req, preferences: { comparisons: usableComparisons().comparisons }, preferred, allow_unknown: root.querySelector("#allow-unknown").checked };
  }

  // -- validation ----------------------------------------------------------------------------------

  function clearErrors() {
    for (const p of root.querySelectorAll(".field-error")) p.textContent = "";
    for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const b of stepButtons) b.classList.remove("has-error");
    clear(summary);
  }

  /** Client-side checks of one step's obvious mistakes; true when it may be left. */
  function validateStep(i) {
    const step = STEPS[i];
    if (!step.fields) return true;
    const problems = [];
    for (const f of step.fields) {
      if (f.kind !== "number" && f.kind !== "percent") continue;
      const el = root.querySelector(`#f-${step.id}-${f.name}`);
      const raw = el.value.trim();
      let message = "";
      if (el.validity.badInput) message = "must be a number";
      else if (raw !== "") {
        const n = Number(raw);
        if (!Number.isFinite(n)) message = "must be a number";
        else if (f.kind === "percent" && (n < 0 || n > 100)) message = "must be between 0 and 100 %";
        else if (f.exclusiveMin && n <= f.min) message = `must be greater than ${f.min}`;
        else if (f.min !== undefined && n < f.min) message = `must be at least ${f.min}`;
      }
      setFieldError(`${step.id}.${f.name}`, message);
      if (message) problems.push({ field: `${step.id}.${f.name}`, message, label: f.label });
    }
    stepButtons[i].classList.toggle("has-error", problems.length > 0);
    clear(summary);
    if (problems.length) {
      summary.append(h("strong", {}, "Please check your answers: "),
        h("ul", {}, problems.map((p) => h("li", {}, h("a", { href: `#f-${p.field.replace(".", "-")}`, onclick: (e) => { e.preventDefault(); root.querySelector(`#f-${p.field.replace(".", "-")}`).focus(); } }, `${p.label}: ${p.message}`)))));
      root.querySelector(`#f-${problems[0].field.replace(".", "-")}`).focus();
      return false;
    }
    return true;
  }

  function setFieldError(path, message) {
    const [section, name] = path.split(".");
    const p = root.querySelector(`#err-${section}-${name}`);
    const input = root.querySelector(`#f-${section}-${name}`);
    if (!p) return false;
    p.textContent = message || "";
    if (input) { if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid"); }
    return true;
  }

  /** "project.number_of_devices" → "Number of IoT devices (Your project)"; unknown paths stay as they are. */
  function labelOf(path) {
    const [section, name] = path.replace(/^body\./, "").split(".");
    const step = STEPS.find((s) => s.id === section);
    const field = step && step.fields && step.fields.find((f) => f.name === name);
    if (field) return `${field.label} (${step.title})`;
    if (section === "preferences") return "Preferences";
    return path;
  }

  /** Show the API's field-level errors next to their fields and go to the first step with one. */
  function showServerErrors(errors) {
    clearErrors();
    let firstStep = null;
    const general = [];
    for (const e of errors) {
      const field = (e.field || "").replace(/^body\./, "");
      const section = field.split(".")[0];
      const stepIndex = STEPS.findIndex((s) => s.id === section);
      const shown = stepIndex >= 0 && field.split(".").length >= 2 && setFieldError(field.split(".").slice(0, 2).join("."), e.message);
      if (stepIndex >= 0) { stepButtons[stepIndex].classList.add("has-error"); if (firstStep === null) firstStep = stepIndex; }
      if (!shown) general.push(e);
    }
    summary.append(h("strong", {}, "The server could not use some answers: "),
      h("ul", {}, errors.map((e) => h("li", {}, e.field ? `${labelOf(e.field)}: ${e.message}` : e.message))));
    if (firstStep !== null && firstStep !== state.step) {
      state.step = firstStep;
      panels.forEach((p, k) => { p.hidden = k !== firstStep; });
      stepButtons.forEach((b, k) => { if (k === firstStep) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current"); });
      back.disabled = firstStep === 0;
      next.hidden = false;
      next.textContent = firstStep === STEPS.length - 2 ? "Get my recommendations" : "Next";
    }
    const firstInput = root.querySelector("[aria-invalid='true']");
    if (firstInput) firstInput.focus();
    return general;
  }

  // -- preferences (Fig. 8a) -------------------------------------------------------------------------

  function renderPreferences() {
    const pairs = allPairs();
    const short = { absolute: "Absolute", stronger: "Stronger", weak: "Weak" };
    const sides = h("tr", { class: "sides" }, h("td", {}), h("th", { colspan: 3, scope: "colgroup" }, "← criterion 1 more important"),
      h("td", {}), h("th", { colspan: 3, scope: "colgroup" }, "criterion 2 more important →"), h("td", {}), h("td", {}));
    const head = [sides, h("tr", {}, h("th", { class: "crit", scope: "col" }, "Criterion 1"),
      LEVELS.map((l) => h("th", { scope: "col", title: LEVEL_TEXT[l] }, short[l])), h("th", { scope: "col", title: LEVEL_TEXT.equal }, "Equal"),
      [...LEVELS].reverse().map((l) => h("th", { scope: "col", title: LEVEL_TEXT[l] }, short[l])),
      h("th", { class: "crit", scope: "col", style: "text-align:right" }, "Criterion 2"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Clear / note")))];
    // The first GUIDED_COUNT pairs are a spanning set: answering just these determines weights.
    const groupRow = (id, text) => h("tr", { class: "pair-group", id }, h("th", { colspan: 10, scope: "colgroup" }, text));
    const body = h("tbody", {}, groupRow("pairs-guided", `Start here: these ${GUIDED_COUNT} comparisons connect all six objectives`));
    pairs.forEach(([a, b], k) => {
      if (k === GUIDED_COUNT) body.append(groupRow("pairs-optional", "Optional refinements: each one more makes the weights more reliable"));
      const name = `pair-${a}-${b}`;
      const cell = (value, text, level) => h("td", { "data-level": level }, h("label", { class: "pair-choice" },
        h("input", { type: "radio", name, value, "aria-label": text, dataset: { a, b } }), h("span", { class: "stack-only", "aria-hidden": "true" }, level)));
      const row = h("tr", { class: k < GUIDED_COUNT ? "guided" : "optional", dataset: { pair: [a, b].sort().join("|") } },
        h("td", { class: "crit" }, h("span", { class: "stack-only", "aria-hidden": "true" }, `${k + 1}. `), title(a), h("span", { class: "stack-only", "aria-hidden": "true" }, ` vs ${title(b)}`)),
        LEVELS.map((l) => cell(`${a}:${l}`, `${title(a)} has ${l} importance over ${b}`, `${title(a)}: ${short[l]}`)),
        cell("equal", `${title(a)} and ${b} are equally important`, "Equal"),
        [...LEVELS].reverse().map((l) => cell(`${b}:${l}`, `${title(b)} has ${l} importance over ${a}`, `${title(b)}: ${short[l]}`)),
        h("td", { class: "crit right" }, title(b)),
        h("td", { class: "note" }, h("div", { class: "why" }), h("button", { type: "button", class: "link small", "aria-label": `Clear ${a} versus ${b}`,
          onclick: () => { for (const r of row.querySelectorAll("input")) r.checked = false; refreshPreferences(); } }, "clear")));
      body.append(row);
    });
    const table = h("table", { class: "pairwise", id: "pairwise" }, h("caption", { class: "visually-hidden" }, "Pairwise comparisons of the six objectives"), h("thead", {}, head), body);
    const legend = h("p", { class: "small muted" }, "Weak, Stronger and Absolute importance correspond to Saaty's 3, 5 and 9; Equal to 1.");
    table.addEventListener("change", () => refreshPreferences());
    const side = h("aside", { class: "card", "aria-labelledby": "weights-title" },
      h("h3", { id: "weights-title" }, "Your weights"), h("div", { id: "pref-status", "aria-live": "polite" }), h("div", { id: "weights", "aria-live": "polite" }),
      h("div", { id: "consistency", "aria-live": "polite" }));
    const preset = h("div", { class: "row small" }, h("span", { class: "muted" }, "Shortcut:"),
      h("button", { type: "button", class: "link", onclick: () => applyPaperExample() }, "fill in the paper's example (Fig. 8a)"),
      h("button", { type: "button", class: "link", onclick: () => { for (const r of table.querySelectorAll("input")) r.checked = false; refreshPreferences(); } }, "clear all"));
    return h("div", { class: "pref-layout" }, h("div", { class: "pref-table" }, preset, h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Pairwise comparisons" }, table), legend), side);
  }

  function applyPaperExample() {
    // §6: performance has a preference over cost and complexity; latency has weaker importance than security and cost.
    const pick = (a, b, value) => {
      const input = root.querySelector(`input[name="pair-${a}-${b}"][value="${value}"]`) || root.querySelector(`input[name="pair-${b}-${a}"][value="${value}"]`);
      if (input) input.checked = true;
    };
    pick("performance", "cost", "performance:stronger");
    pick("complexity", "performance", "performance:stronger");
    pick("latency", "security", "security:weak");
    pick("cost", "latency", "cost:weak");
    pick("security", "complexity", "equal");
    pick("cost", "reliability", "equal");
    pick("reliability", "latency", "reliability:weak");
    refreshPreferences();
  }

  function comparisons() {
    const out = [];
    for (const input of root.querySelectorAll("#pairwise input[type=radio]:checked")) {
      const { a, b } = input.dataset;
      if (input.value === "equal") out.push({ more: a, less: b, level: "equal" });
      else {
        const [more, level] = input.value.split(":");
        out.push({ more, less: more === a ? b : a, level });
      }
    }
    return out;
  }

  const refreshPreferences = debounce(updatePreferences, 150);
  let preferenceRequests = 0;

  /** Ask the server what the current answers determine. A half-finished table is *incomplete* (200): the
   * last valid weights stay on screen, and the comparisons still needed are named and marked. */
  async function updatePreferences() {
    const weightsEl = root.querySelector("#weights");
    const crEl = root.querySelector("#consistency");
    const statusEl = root.querySelector("#pref-status");
    const asked = comparisons();
    const seq = ++preferenceRequests;
    const res = await api("/api/preferences", { method: "POST", body: { comparisons: asked } });
    if (seq !== preferenceRequests) return; // a later answer's request supersedes this one
    for (const row of root.querySelectorAll("#pairwise tr.revisit, #pairwise tr.needed")) { row.classList.remove("revisit", "needed"); row.querySelector(".why").textContent = ""; }
    clear(statusEl);
    if (!res.ok) {
      statusEl.append(h("p", { class: "notice bad" }, errorsOf(res).map((e) => e.message).join("; ")));
      return;
    }
    state.preferenceStatus = res.data;
    if (res.data.status === "incomplete") {
      const needed = res.data.needed_comparisons;
      for (const n of needed) {
        const row = root.querySelector(`#pairwise tr[data-pair="${[n.a, n.b].sort().join("|")}"]`);
        if (row) { row.classList.add("needed"); row.querySelector(".why").textContent = "needed"; }
      }
      const kept = state.lastValid ? `The weights below are from your last complete set of ${state.lastValid.comparisons.length || "no"} comparison(s) and are used until these are answered.`
        : "Until then all objectives weigh the same.";
      statusEl.append(h("div", { class: "notice warn", id: "pref-incomplete" },
        h("strong", {}, `Not all objectives are compared yet — ${needed.length} more comparison(s) needed: `),
        h("ul", { class: "small" }, needed.map((n) => h("li", {}, `${title(n.a)} vs ${n.b}`))),
        h("p", { class: "small" }, `Groups not yet compared with each other: ${res.data.unconnected_groups.map((g) => g.join(" + ")).join(" | ")}. ${kept}`)));
      if (!state.lastValid) showWeights({ weights: Object.fromEntries(OBJECTIVES.map((o) => [o, 1 / OBJECTIVES.length])), consistency: null }, 0);
      return;
    }
    state.lastValid = { comparisons: asked, data: res.data };
    state.lastPreferences = res.data;
    showWeights(res.data, asked.length);
  }

  function showWeights({ weights, consistency }, answered) {
    const weightsEl = root.querySelector("#weights");
    const crEl = root.querySelector("#consistency");
    clear(weightsEl); clear(crEl);
    weightsEl.append(h("div", { class: "weights" }, OBJECTIVES.map((o) => [
      h("span", {}, title(o)),
      h("div", { class: "bar", role: "img", "aria-label": `${o} weight ${(weights[o] * 100).toFixed(1)} percent` }, h("span", { style: `width:${(weights[o] * 100).toFixed(1)}%` })),
      h("span", { class: "small" }, `${(weights[o] * 100).toFixed(1)} %`),
    ])));
    if (!consistency) return;
    crEl.append(h("p", {}, "Consistency ratio: ",
      h("span", { class: `cr ${consistency.consistent ? "ok" : "bad"}`, id: "cr-value" }, consistency.consistency_ratio.toFixed(3)),
      consistency.consistent ? " — consistent (≤ 0.10)" : " — inconsistent (> 0.10)"),
      h("p", { class: "small muted" }, answered === 0 ? "No comparisons yet: all objectives weigh the same." : consistency.note));
    if (!consistency.consistent && consistency.most_inconsistent.length) {
      const list = h("ul", { class: "small" });
      for (const d of consistency.most_inconsistent) {
        const row = root.querySelector(`#pairwise tr[data-pair="${[d.more, d.less].sort().join("|")}"]`);
        const text = `You said ${d.more} is ${num(d.given, 2)}× as important as ${d.less}; your other answers imply ${num(d.implied, 2)}×.`;
        if (row) { row.classList.add("revisit"); row.querySelector(".why").textContent = "revisit"; }
        list.append(h("li", {}, text));
      }
      crEl.append(h("div", { class: "notice warn", id: "revisit" }, h("strong", {}, "Comparisons to revisit:"), list));
    }
  }

  /** The comparisons a recommendation uses: the current ones when they determine weights, else the last
   * complete set (none: equal weights) — a half-finished table never blocks the results. */
  function usableComparisons() {
    const current = comparisons();
    if (!state.preferenceStatus || state.preferenceStatus.status !== "incomplete") return { comparisons: current, incomplete: false };
    return { comparisons: state.lastValid ? state.lastValid.comparisons : [], incomplete: true };
  }

  // -- submit ----------------------------------------------------------------------------------------

  async function submit() {
    const out = root.querySelector("#results");
    for (let i = 0; i < STEPS.length - 1; i++) if (!validateStep(i)) { go(i); return; }
    clearErrors();
    await updatePreferences(); // the status of the answers as they are now, not of a pending debounce
    const incomplete = usableComparisons().incomplete;
    const request = collect();
    clear(out).append(h("p", { class: "notice info", role: "status" }, "Searching the knowledge graph…"));
    const res = await api("/api/recommend?top_k=5", { method: "POST", body: request });
    state.lastRequest = request;
    if (!res.ok) {
      const errors = errorsOf(res);
      const general = showServerErrors(errors);
      clear(out).append(h("p", { class: "notice bad" }, "No recommendations: some answers need fixing (see above)."));
      if (general.length && state.step === STEPS.length - 1) {
        clear(out).append(h("div", { class: "notice bad", role: "alert" }, general.map((e) => h("p", {}, e.field ? `${e.field}: ${e.message}` : e.message))));
      }
      return;
    }
    state.lastResponse = res.data;
    clear(out);
    if (incomplete) out.append(h("p", { class: "notice warn", id: "results-preferences-incomplete" },
      "Your comparisons do not yet connect all objectives, so these results use your last complete set of comparisons",
      state.lastValid && state.lastValid.comparisons.length ? "" : " (none: equal weights)", ". ",
      h("button", { type: "button", class: "link", onclick: () => go(STEPS.length - 2) }, "Finish the comparisons")));
    renderResults(out, res.data, request);
  }

  return { show() {} };
}

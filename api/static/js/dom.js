// Small DOM and HTTP helpers shared by the UI's views (no framework).

/** Create an element: h("a", {href: "/x", class: "c"}, "text", childNode, [more]). Attributes starting
 * with "on" become listeners; `null`/`false` attributes are skipped; children may be nested arrays. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

const RETRIES_429 = 5; // how often a request refused by the per-client concurrency limit is asked again

/** A JSON request. Resolves to {ok, status, data, text, contentType, headers}; never throws for HTTP errors (network failures
 * resolve with status 0 and a message), so every caller can show an honest state. */
export async function api(path, { method = "GET", body, headers = {}, accept = "application/json" } = {}) {
  const init = { method, headers: { Accept: accept, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" || body instanceof URLSearchParams ? body : JSON.stringify(body);
    if (!(body instanceof URLSearchParams) && typeof body !== "string") init.headers["Content-Type"] = "application/json";
  }
  let response;
  for (let attempt = 0; ; attempt++) {
    try {
      response = await fetch(path, init);
    } catch (err) {
      return { ok: false, status: 0, data: null, text: `the server could not be reached (${err.message})` };
    }
    // A 429 was refused before anything ran (this browser had too many requests at once): ask again
    // after the server's Retry-After when that is short. A long one (the time budget) is shown.
    const wait = Number(response.headers.get("Retry-After"));
    if (response.status !== 429 || attempt >= RETRIES_429 || !(wait >= 0 && wait <= 2)) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0.25) * 1000));
  }
  const text = await response.text();
  let data = null;
  if ((response.headers.get("content-type") || "").includes("json")) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  return { ok: response.ok, status: response.status, data, text, contentType: response.headers.get("content-type") || "", headers: response.headers };
}

/** The field-level errors of an API answer as [{field, message}] (DLOM's {"errors": [...]} shape,
 * FastAPI's {"detail": ...}, or the status line). */
export function errorsOf(res) {
  const d = res.data;
  if (d && Array.isArray(d.errors)) return d.errors;
  if (d && Array.isArray(d.detail)) return d.detail.map((e) => ({ field: (e.loc || []).filter((p) => p !== "body" && p !== "query").join("."), message: e.msg }));
  if (d && typeof d.detail === "string") return [{ field: "", message: d.detail }];
  if (res.status === 0) return [{ field: "", message: res.text }];
  return [{ field: "", message: `the server answered ${res.status}${res.text ? ": " + res.text.slice(0, 300) : ""}` }];
}

/** Load a classic (UMD) script once; resolves true when it loaded, false when it is missing. */
const loadedScripts = new Map();
export function loadScript(src) {
  if (!loadedScripts.has(src)) {
    loadedScripts.set(src, new Promise((resolve) => {
      const s = h("script", { src });
      s.onload = () => resolve(true);
      s.onerror = () => resolve(false);
      document.head.append(s);
    }));
  }
  return loadedScripts.get(src);
}

export function loadStyle(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** A number for display: up to `digits` significant digits, thousands separated. */
export function num(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

export function unknown() { return h("span", { class: "unknown" }, "unknown"); }

/** Link to an entity's Linked-Data page (HTML for people; content-negotiated for machines). */
export function entityHref(iri) { return `/api/entity?iri=${encodeURIComponent(iri)}`; }

export const OBJECTIVES = ["performance", "reliability", "security", "cost", "latency", "complexity"];
export { OBJECTIVE_COLOURS } from "./palette.js"; // the one palette (palette.js)
export function title(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

/** How a performance figure named by its ontology property (dlom:inferenceLatencyMs, …) is shown: a
 * readable name with its unit, and its value in that unit (accuracy is stored as a fraction, shown in %:
 * ``scale`` turns a stored value into the unit of the label).
 * The one table for every view that shows metrics by property name (Build new, the charts). */
export const METRICS = {
  accuracy: { label: "Accuracy (%)", scale: 100, format: (v) => `${num(v * 100, 5)} %` },
  inferenceLatencyMs: { label: "Inference latency (ms)", format: (v) => `${num(v)} ms` },
  systemLatencyMs: { label: "System latency (ms)", format: (v) => `${num(v)} ms` },
  energyPerInferenceUj: { label: "Energy per inference (µJ)", format: (v) => `${num(v)} µJ` },
  throughputIps: { label: "Throughput (inferences/s)", format: (v) => `${num(v)} /s` },
  memoryMb: { label: "Runtime memory (MB)", format: (v) => `${num(v)} MB` },
  averagePowerMw: { label: "Average power (mW)", format: (v) => `${num(v)} mW` },
  modelSizeKB: { label: "Model size (KB)", format: (v) => `${num(v)} KB` },
  stability: { label: "Stability (1-5)", format: (v) => num(v) },
};
/** The readable name of a metric property; an unknown one is split at its capitals ("fooBarMs" → "Foo bar ms"). */
export function metricLabel(key) {
  return METRICS[key] ? METRICS[key].label : title(key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase());
}
/** A metric's value with its unit (an unknown metric: the number alone). */
export function metricValue(key, value) { return METRICS[key] ? METRICS[key].format(value) : num(value); }

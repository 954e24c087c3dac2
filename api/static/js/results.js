// The results step (Fig. 8b): the best models with the paper's fields, each explained (Eq. 1
// contributions, requirement checks, evidence), a Pareto chart of the candidates, "Choose" (records
// the choice, and ratings when the server allows) and "Build new" (proposals from the prediction
// model; a proposal can be sent to be measured as a background job). Predicted figures are always
// marked as predicted; measured ones as measured.
import { api, clear, entityHref, errorsOf, h, loadScript, metricLabel, metricValue, num, OBJECTIVE_COLOURS, OBJECTIVES, title, unknown } from "./dom.js";
import { PALETTE, POINT_STYLES } from "./palette.js";

const PERCENT = (v) => `${num(v * 100, 5)} %`;

/** A table that a phone shows stacked, one block per row (CSS `table.stack`): each cell is labelled with
 * its column's name, and the table keeps its roles explicitly (a table drawn as blocks may lose them). */
function stacked(table) {
  table.classList.add("stack");
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  table.setAttribute("role", "table");
  for (const g of table.querySelectorAll("thead, tbody")) g.setAttribute("role", "rowgroup");
  for (const tr of table.querySelectorAll("tr")) {
    tr.setAttribute("role", "row");
    [...tr.children].forEach((cell, i) => {
      cell.setAttribute("role", cell.tagName === "TH" ? "columnheader" : "cell");
      if (cell.tagName === "TD" && names[i]) cell.dataset.label = names[i];
    });
  }
  return table;
}

export function renderResults(out, data, request) {
  const okStatus = data.status === "ok";
  out.append(h("p", { class: `notice ${okStatus ? "ok" : "warn"}`, role: "status", id: "results-status" }, data.message));
  const notApplied = (data.requirements_applied || []).filter((a) => a.status === "not_applied");
  if (notApplied.length) {
    out.append(h("div", { class: "notice warn", id: "requirements-not-applied", role: "status" },
      h("strong", {}, "Not applied — the data cannot check these requirements for the candidates:"),
      h("ul", {}, notApplied.map((a) => h("li", { dataset: { field: a.field } }, h("strong", {}, a.field), ": ", a.reason)))));
  }
  if (data.consistency) {
    out.append(h("p", { class: "small muted" }, "Weights used: ",
      OBJECTIVES.map((o, i) => `${i ? " · " : ""}${o} ${(data.weights[o] * 100).toFixed(1)} %`),
      ` — consistency ratio ${data.consistency.consistency_ratio.toFixed(3)}${data.consistency.consistent ? "" : " (inconsistent: revisit your comparisons)"}.`));
  }
  if (data.recommendations.length) {
    // the models first, then the chart that places them (on a phone the chart would push them a screen down)
    const list = h("div", { id: "recommendations" });
    out.append(list);
    for (const rec of data.recommendations) list.append(renderRecommendation(rec, request));
    out.append(renderPareto(data));
    if (data.sensitivity && data.sensitivity.length) out.append(renderSensitivity(data));
  }
  if (data.predictions && data.predictions.length) {
    out.append(h("h3", {}, "Predicted configurations"), h("p", { class: "small muted" }, "These come from the prediction model: predicted, not measured."));
    for (const p of data.predictions) out.append(renderProposal(p));
  }
  out.append(renderBuildNew(request, okStatus));
}

// -- one recommendation ----------------------------------------------------------------------------

function renderRecommendation(rec, request) {
  const card = h("article", { class: `card result${rec.predicted ? " predicted" : ""}`, "aria-labelledby": `rec-${rec.rank}` },
    h("div", { class: "row" },
      h("h3", { id: `rec-${rec.rank}`, class: "grow" }, `#${rec.rank} ${rec.label}`,
        rec.on_pareto_front ? h("span", { class: "badge front", title: "no other candidate is at least as good on every objective and better on one" }, "Pareto front") : null,
        h("span", { class: `badge ${rec.predicted ? "predicted" : "measured"}` }, rec.predicted ? "predicted" : "measured")),
      h("span", { class: "score" }, `Score ${rec.score.toFixed(2)} / 5`)),
    rec.similar_count ? h("details", { class: "similar small" },
      h("summary", {}, `${rec.similar_count} more like this`, h("span", { class: "muted" }, " (near-identical variants: same DLN family, hardware and technique families)")),
      h("ul", {}, rec.similar.map((s) => h("li", {}, h("a", { href: entityHref(s.model), target: "_blank", rel: "noopener" }, `#${s.rank} ${s.label}`), ` — score ${s.score.toFixed(2)}`)),
        rec.similar_count > rec.similar.length ? h("li", { class: "muted" }, `… and ${rec.similar_count - rec.similar.length} more`) : null)) : null);
  const fig = h("dl", { class: "fig8b", "aria-label": "Model details" }, h("dt", {}, "Details"), h("dd", { class: "muted" }, "loading…"));
  card.append(fig);
  fillModelCard(fig, rec);
  card.append(renderExplanation(rec));
  const chooseBox = h("div", {});
  card.append(h("div", { class: "actions" },
    h("button", { type: "button", class: "primary", onclick: () => openChoose(chooseBox, rec, request) }, "Choose"),
    h("button", { type: "button", onclick: () => { const b = document.getElementById("build-new"); b.scrollIntoView({ behavior: "smooth" }); b.querySelector("button").focus(); } }, "Build new"),
    h("a", { class: "button", href: `#/explore?iri=${encodeURIComponent(rec.model)}` }, "Explore in graph"),
    h("a", { class: "button", href: entityHref(rec.model), target: "_blank", rel: "noopener" }, "Linked-data page")), chooseBox);
  return card;
}

async function fillModelCard(dl, rec) {
  const res = await api(`/api/model-card?iri=${encodeURIComponent(rec.model)}`);
  clear(dl);
  if (!res.ok) { dl.append(h("dt", {}, "Details"), h("dd", {}, errorsOf(res).map((e) => e.message).join("; "))); return; }
  const c = res.data;
  const attrs = rec.attributes || {};
  const money = (v) => (v === null || v === undefined ? null : `$${num(v, 8)}`);
  const perf = (fig, fmt = (v) => num(v)) => fig ? [fmt(fig.value), h("span", { class: `badge ${fig.kind}` }, fig.kind),
    fig.kind === "predicted" && fig.confidence !== null ? h("span", { class: "small muted" }, ` confidence ${num(fig.confidence, 2)}`) : null] : null;
  const link = (x) => h("a", { href: entityHref(x.iri), target: "_blank", rel: "noopener" }, x.label);
  // a benchmark host is a machine DLOM measured on (asked for as "this machine"), never shown as the IoT device
  const hosts = new Set(attrs.benchmark_hosts || []);
  const deviceSpecs = (d) => [hosts.has(d.label) ? h("span", { class: "badge host" }, "benchmark host (not an IoT device)") : null, link(d), h("span", { class: "small muted" }, " — ", [
    d.processor ? `CPU ${d.processor}` : null, d.clock ? `${num(d.clock)} MHz` : null, d.memory ? `${num(d.memory)} KB ${hosts.has(d.label) ? "host " : ""}memory` : null,
    d.accelerator ? `accelerator ${d.accelerator}` : null, d.price ? `$${num(d.price)}` : null,
  ].filter(Boolean).join(", ") || "no specs recorded")];
  const rows = {
    total_cost_usd: money(c.total_cost_usd ?? attrs.total_cost_usd) ?? (attrs.projected_cost_usd !== undefined ? `${money(attrs.projected_cost_usd)} (projected)` : null),
    purpose: c.purpose,
    rating: c.rating !== null ? `${num(c.rating, 2)} (${c.ratings_count} rating${c.ratings_count === 1 ? "" : "s"})` : null,
    year_created: c.year_created,
    field: c.field ?? c.application_area,
    number_of_devices: c.number_of_devices,
    cost_per_device_usd: money(c.cost_per_device_usd),
    devices: c.devices.length ? c.devices.map((d, i) => [i ? h("br") : null, deviceSpecs(d)]) : null,
    dln: c.dln ? link(c.dln) : null,
    cloud: c.cloud ? [link(c.cloud), h("span", { class: "small muted" }, " — ", [c.cloud.hardware, c.cloud.shielded !== undefined ? `shielded execution ${c.cloud.shielded ? "yes" : "no"}` : null, c.cloud.monthly ? `$${num(c.cloud.monthly)}/month` : null].filter(Boolean).join(", "))] : null,
    accuracy: perf(c.accuracy, PERCENT),
    system_latency_ms: perf(c.system_latency_ms, (v) => `${num(v)} ms`),
    inference_latency_ms: perf(c.inference_latency_ms, (v) => `${num(v)} ms`),
    stability: perf(c.stability),
    memory_mb: perf(c.memory_mb, (v) => `${num(v)} MB`),
    techniques: c.techniques.length ? c.techniques.map((t, i) => [i ? ", " : null, link(t)]) : null,
  };
  for (const f of c.fields) {
    const value = rows[f.key];
    dl.append(h("dt", {}, f.label), h("dd", { dataset: { field: f.key } }, value === null || value === undefined || (Array.isArray(value) && !value.length) ? unknown() : value));
  }
  if (c.energy_per_inference_uj) dl.append(h("dt", {}, "Energy per inference"), h("dd", {}, perf(c.energy_per_inference_uj, (v) => `${num(v)} µJ`)));
}

function renderExplanation(rec) {
  const total = rec.objectives.reduce((s, o) => s + o.contribution, 0) || 1;
  const bar = h("div", { class: "contrib", role: "img", "aria-label": `Score contributions: ${rec.objectives.map((o) => `${o.objective} ${o.contribution.toFixed(2)}`).join(", ")}` },
    rec.objectives.map((o) => h("span", { style: `width:${(o.contribution / total * 100).toFixed(2)}%;background:${OBJECTIVE_COLOURS[o.objective]}`, title: `${o.objective}: ${o.contribution.toFixed(2)}` })));
  const legend = h("div", { class: "legend", "aria-hidden": "true" }, rec.objectives.map((o) => h("span", {}, h("i", { style: `background:${OBJECTIVE_COLOURS[o.objective]}` }), `${o.objective} ${o.contribution.toFixed(2)}`)));
  const objectives = stacked(h("table", { class: "plain" }, h("caption", { class: "visually-hidden" }, "Objective values and their weights"),
    h("thead", {}, h("tr", {}, ["Objective", "Value (1-5)", "Source", "Basis", "Weight", "Weight × value"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rec.objectives.map((o) => h("tr", {},
      h("td", {}, title(o.objective)), h("td", {}, o.value.toFixed(2)),
      h("td", {}, o.source === "missing" && !o.ratings ? h("span", { class: "badge unknown" }, "no data") : (o.source_label || o.source)),
      h("td", { class: "small" }, o.basis), h("td", {}, `${(o.weight * 100).toFixed(1)} %`), h("td", {}, o.contribution.toFixed(3)))))));
  const reqs = rec.requirements.length
    ? stacked(h("table", { class: "plain" }, h("caption", { class: "visually-hidden" }, "Your requirements"),
      h("thead", {}, h("tr", {}, ["Requirement", "Status", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rec.requirements.map((r) => h("tr", {},
        h("td", {}, r.field, r.mandatory ? "" : h("span", { class: "small muted" }, " (rank only)")),
        h("td", { class: `status-${r.status}` }, r.status), h("td", { class: "small" }, r.text))))))
    : h("p", { class: "small muted" }, "You stated no constraints: every model qualified (all 'Any').");
  const evidence = h("ul", { class: "small" }, rec.evidence.map((e) => h("li", {},
    h("span", { class: `badge ${e.kind === "predicted" ? "predicted" : "measured"}` }, e.kind || "record"), " ",
    e.activity ? h("a", { href: entityHref(e.activity), target: "_blank", rel: "noopener" }, e.activity_label || e.activity) : h("a", { href: entityHref(e.record) }, e.record),
    e.submitters && e.submitters.length ? ` — submitted by ${e.submitters.join(", ")}` : "",
    e.prediction_confidence !== null && e.prediction_confidence !== undefined ? ` — confidence ${num(e.prediction_confidence, 2)} (${e.predictor_version})` : "",
    e.source_files && e.source_files.length ? h("details", {}, h("summary", {}, `${e.source_files.length} source file(s)`), h("ul", {}, e.source_files.map((f) => h("li", {}, h("code", {}, f))))) : null)));
  return h("details", { class: "explanation", open: rec.rank === 1 },
    h("summary", {}, "Why this model? (explanation and evidence)"),
    h("p", { class: "small" }, `Eq. 1 score ${rec.score.toFixed(3)} = Σ weight × value over the six objectives (1 worst, 5 best):`),
    bar, legend, objectives, h("h4", {}, "Your requirements"), reqs, h("h4", {}, "Evidence"), evidence);
}

// -- Pareto chart ------------------------------------------------------------------------------------

/** The Pareto chart's axes: measures in their real units (from the endpoint's pareto_front[].measures and
 * the recommendations' attributes, which name them alike); ratios of orders of magnitude on a log axis. */
const PARETO_AXES = [
  { key: "inference_latency_ms", label: "Inference latency (ms)", unit: "ms", scale: 1, log: true, better: "lower" },
  { key: "accuracy", label: "Accuracy (%)", unit: "%", scale: 100, log: false, better: "higher" },
  { key: "energy_per_inference_uj", label: "Energy per inference (µJ)", unit: "µJ", scale: 1, log: true, better: "lower" },
];

function renderPareto(data) {
  const box = h("section", { class: "card", "aria-labelledby": "pareto-title" });
  const axisSelect = (id, selected) => h("select", { id }, PARETO_AXES.map((a) => h("option", { value: a.key, selected: a.key === selected }, a.label)));
  const xSel = axisSelect("pareto-x", "inference_latency_ms");
  const ySel = axisSelect("pareto-y", "accuracy");
  const canvas = h("canvas", { id: "pareto-chart", role: "img", "aria-label": "Pareto chart of the candidate models, in measured units" });
  const note = h("p", { class: "small muted", id: "pareto-note" });
  box.append(h("h3", { id: "pareto-title" }, "Pareto chart of the candidates"),
    h("p", { class: "small muted" }, `Filled points are on the Pareto front (${data.pareto_front.length} of ${data.candidates_considered} candidates): no other candidate is at least as good on all six objectives and better on one (so a front point can look beaten on the two axes shown). Hollow points are top-ranked models not on the front. Both axes are measured figures in their units.`),
    h("div", { class: "row small" }, h("label", { for: "pareto-x" }, "Horizontal axis"), xSel, h("label", { for: "pareto-y" }, "Vertical axis"), ySel),
    h("div", { class: "chart-box small" }, canvas), note);
  let chart = null;
  const draw = async () => {
    if (!(await loadScript("/ui/vendor/chart.umd.min.js")) || !window.Chart) {
      note.textContent = "The chart library is not installed (run scripts/setup_ui.sh); the front is listed below.";
      clear(canvas.parentElement).append(h("ol", {}, data.pareto_front.map((p) => h("li", {}, `${p.label} — score ${p.score.toFixed(2)}`))));
      return;
    }
    const x = PARETO_AXES.find((a) => a.key === xSel.value); const y = PARETO_AXES.find((a) => a.key === ySel.value);
    const point = (measures, label) => (measures[x.key] === undefined || measures[y.key] === undefined ? null
      : { x: measures[x.key] * x.scale, y: measures[y.key] * y.scale, label });
    const frontIris = new Set(data.pareto_front.map((p) => p.model));
    const frontAll = data.pareto_front.map((p) => point(p.measures || {}, `#${p.rank} ${p.label}`));
    const othersAll = data.recommendations.filter((r) => !frontIris.has(r.model)).map((r) => point(r.attributes || {}, `#${r.rank} ${r.label}`));
    const front = frontAll.filter(Boolean); const others = othersAll.filter(Boolean);
    const left = frontAll.length + othersAll.length - front.length - others.length;
    const name = (a) => a.label.replace(/ \(.*/, "").toLowerCase();
    note.textContent = `${front.length + others.length} of ${frontAll.length + othersAll.length} point(s) plotted${left ? ` (${left} record no ${name(x)} or no ${name(y)})` : ""}; ${name(x)}: ${x.better} is better, ${name(y)}: ${y.better} is better.`;
    const axis = (a) => ({ type: a.log ? "logarithmic" : "linear", title: { display: true, text: `${a.label}${a.log ? ", log scale" : ""}` } });
    const cfg = {
      type: "scatter",
      data: { datasets: [
        { label: "Pareto front", data: front, backgroundColor: PALETTE[0], borderColor: PALETTE[0], pointRadius: 6, pointStyle: POINT_STYLES[0] },
        { label: "Top-ranked, not on the front", data: others, backgroundColor: "rgba(0,0,0,0)", borderColor: PALETTE[3], pointRadius: 6, borderWidth: 2, pointStyle: POINT_STYLES[1] },
      ] },
      options: { maintainAspectRatio: false, animation: false,
        scales: { x: axis(x), y: axis(y) },
        plugins: { legend: { labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.raw.label}: ${num(ctx.raw.x)} ${x.unit}, ${num(ctx.raw.y)} ${y.unit}` } } } },
    };
    if (chart) chart.destroy();
    chart = new window.Chart(canvas, cfg);
  };
  xSel.addEventListener("change", draw); ySel.addEventListener("change", draw);
  setTimeout(draw, 0);
  return box;
}

function renderSensitivity(data) {
  return h("details", { class: "card" }, h("summary", {}, "How robust is the top choice? (weight sensitivity)"),
    h("table", { class: "plain" }, h("thead", {}, h("tr", {}, ["Objective", "Your weight", "Top choice stays first for weights in", "Overtaken by"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.sensitivity.map((s) => h("tr", {}, h("td", {}, title(s.objective)), h("td", {}, `${(s.weight * 100).toFixed(1)} %`),
        h("td", {}, `${(s.lowest_weight * 100).toFixed(1)} % – ${(s.highest_weight * 100).toFixed(1)} %`),
        h("td", { class: "small" }, [s.overtaken_below_by ? `below: ${s.overtaken_below_by}` : null, s.overtaken_above_by ? `above: ${s.overtaken_above_by}` : null].filter(Boolean).join("; ") || "never"))))));
}

// -- Choose ------------------------------------------------------------------------------------------

function openChoose(box, rec, request) {
  clear(box);
  const record = { chosen_model: rec.model, label: rec.label, score: rec.score, requirements: request, chosen_at: new Date().toISOString() };
  const blob = URL.createObjectURL(new Blob([JSON.stringify(record, null, 2)], { type: "application/json" }));
  const rater = h("input", { type: "text", id: `rater-${rec.rank}`, maxlength: 200, placeholder: "your name" });
  const token = h("input", { type: "password", id: `token-${rec.rank}`, autocomplete: "off", value: sessionStorage.getItem("dlom-token") || "" });
  const selects = OBJECTIVES.map((o) => h("label", { class: "soft" }, `${title(o)} `, h("select", { dataset: { objective: o }, "aria-label": `Your rating of ${o}, 1 worst to 5 best` },
    h("option", { value: "" }, "—"), [1, 2, 3, 4, 5].map((v) => h("option", { value: v }, String(v))))));
  const outcome = h("div", { "aria-live": "polite" });
  const send = async () => {
    const ratings = Object.fromEntries(selects.map((l) => l.querySelector("select")).filter((s) => s.value).map((s) => [s.dataset.objective, Number(s.value)]));
    if (!Object.keys(ratings).length) { clear(outcome).append(h("p", { class: "notice bad", role: "alert" }, "Rate at least one objective (1-5) to record it.")); return; }
    if (token.value) sessionStorage.setItem("dlom-token", token.value);
    const res = await api("/api/ratings", { method: "POST", body: { model: rec.model, rater: rater.value.trim() || "anonymous", ratings },
      headers: token.value ? { Authorization: `Bearer ${token.value}` } : {} });
    clear(outcome).append(res.ok
      ? h("p", { class: "notice ok" }, `Recorded ${res.data.stored.length} rating(s) for this model. Future recommendations use them.`)
      : h("p", { class: "notice bad", role: "alert" }, `Not recorded (${res.status}): `, errorsOf(res).map((e) => e.message).join("; ")));
  };
  box.append(h("div", { class: "notice info", id: `chosen-${rec.rank}` },
    h("p", {}, h("strong", {}, "You chose: "), rec.label, ". ",
      h("a", { href: blob, download: "dlom-decision.json" }, "Download the decision record"), " (your answers, the weights and this choice)."),
    h("p", { class: "small" }, "Rate it to help future users — ratings are stored in the knowledge graph and change how models rank. Storing needs the server's update token."),
    h("div", { class: "row small" }, selects),
    h("div", { class: "row small", style: "margin-top:.4rem" }, h("label", { for: rater.id }, "Your name"), rater, h("label", { for: token.id }, "Update token"), token,
      h("button", { type: "button", class: "primary", onclick: send }, "Record my ratings")), outcome));
  box.querySelector("select").focus();
}

// -- Build new ---------------------------------------------------------------------------------------

// The update token for measurements, kept only in this page's memory (never stored): measuring writes
// to the knowledge graph, which the server allows only with its DLOM_UPDATE_TOKEN.
let measurementToken = "";

function renderBuildNew(request, hadMatches) {
  const out = h("div", { "aria-live": "polite", id: "build-new-output" });
  const button = h("button", { type: "button", class: hadMatches ? "" : "primary", id: "build-new-button" }, "Build new: ask the prediction model");
  button.addEventListener("click", async () => {
    button.disabled = true;
    // no value: an indeterminate bar (the server scores every unseen configuration at once, with no phases
    // to report), with the seconds waited so far so a slow first answer does not look frozen
    const waited = h("span", { id: "build-new-waited" }, "");
    clear(out).append(h("div", { class: "notice info", id: "build-new-waiting" },
      h("progress", { class: "progress", "aria-label": "Waiting for the prediction model" }),
      h("p", { role: "status" }, "Asking the prediction model for proposals: it scores every unseen configuration that meets your requirements… ", waited)));
    const started = Date.now();
    const timer = setInterval(() => { waited.textContent = `${Math.round((Date.now() - started) / 1000)} s`; }, 1000);
    const res = await api(`/api/proposals?limit=5${measurableOnly.checked ? "&measurable_only=true" : ""}`, { method: "POST", body: request });
    clearInterval(timer);
    button.disabled = false;
    clear(out);
    if (!res.ok) { out.append(unavailable("The prediction model", "POST /api/proposals", res)); return; }
    const proposals = res.data.proposals || [];
    if (!proposals.length) { out.append(h("p", { class: "notice warn" }, res.data.message || "The prediction model proposed no configuration for these requirements.")); return; }
    out.append(h("p", { class: "small muted" }, res.data.message || `${proposals.length} proposal(s) from ${res.data.predictor_version || "the prediction model"} — predicted, not measured.`));
    for (const p of proposals) out.append(renderProposal(p));
  });
  const token = h("input", { type: "password", id: "build-new-token", autocomplete: "off", value: measurementToken,
    oninput: (e) => { measurementToken = e.target.value; } });
  const measurableOnly = h("input", { type: "checkbox", id: "build-new-measurable-only" });
  return h("section", { class: "card", id: "build-new", "aria-labelledby": "build-new-title" },
    h("h3", { id: "build-new-title" }, "Not satisfied? Build a new model"),
    h("p", { class: "small muted" }, "The prediction model (a graph neural network trained on the knowledge graph) proposes new configurations for your requirements. Its figures are predictions until a proposal is measured on real hardware."),
    h("div", { class: "row small" }, h("label", { for: token.id }, "Update token (needed to store and measure a proposal; kept only in this page)"), token),
    h("div", { class: "row small" }, measurableOnly, h("label", { for: measurableOnly.id }, "Only configurations this server can measure")),
    button, out);
}

function unavailable(what, endpoint, res) {
  const messages = errorsOf(res).map((e) => e.message).join("; ");
  const missing = res.status === 404 || res.status === 405 || res.status === 501;
  return h("div", { class: "notice warn", role: "status", dataset: { unavailable: endpoint } },
    h("strong", {}, `${what} is not available on this server. `),
    missing ? `(${endpoint} is not served here: HTTP ${res.status}.)` : `(${endpoint} answered ${res.status}: ${messages})`);
}

/** A metric table's rows: the readable name, the value in its unit, and whether it is predicted or measured. */
function metricRows(metrics, kind) {
  return Object.entries(metrics || {}).map(([k, v]) => h("tr", { dataset: { metric: k } }, h("td", {}, metricLabel(k)),
    h("td", {}, metricValue(k, v), " ", h("span", { class: `badge ${kind}` }, kind))));
}

/** An entity named by its label, linked to its Linked-Data page (the IRI is the link, not the text). */
function entityLink(iri, label) {
  return h("a", { href: entityHref(iri), title: iri }, label || iri);
}

function renderProposal(p) {
  const measureOut = h("div", { "aria-live": "polite" });
  const devices = p.devices || [];
  const labels = p.device_labels || [];
  const similar = p.similar || [];
  const card = h("article", { class: "card result predicted proposal" },
    h("h4", {}, p.label, h("span", { class: "badge predicted" }, "predicted"), h("span", { class: "small muted" }, ` confidence ${num(p.confidence, 2)} · ${p.predictor_version}`)),
    h("dl", { class: "fig8b proposal-facts" },
      h("dt", {}, "DLN"), h("dd", { class: "proposal-dln" }, entityLink(p.dln, p.dln_label)),
      h("dt", {}, devices.length > 1 ? "Devices" : "Device"), h("dd", { class: "proposal-devices" }, devices.map((d, i) => [i ? ", " : "", entityLink(d, labels[i])])),
      h("dt", {}, "Techniques"), h("dd", {}, p.techniques && p.techniques.length
        ? p.techniques.map((t, i) => [i ? ", " : "", entityLink(t, (p.technique_labels || [])[i])]) : "none (the network as it is)")),
    stacked(h("table", { class: "plain" }, h("caption", { class: "visually-hidden" }, "Predicted figures"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Metric"), h("th", { scope: "col" }, "Value"))), h("tbody", { class: "predicted-metrics" }, metricRows(p.metrics, "predicted")))),
    similar.length ? h("details", { class: "similar small" },
      h("summary", {}, `${p.similar_count || similar.length} more like this`, h("span", { class: "muted" }, " (near-identical variants: same DLN family, hardware and technique families)")),
      h("ul", {}, similar.map((s) => h("li", {}, s.label, " — ", Object.entries(s.metrics || {}).map(([k, v], i) => `${i ? ", " : ""}${metricLabel(k).replace(/ \(.*/, "")} ${metricValue(k, v)}`).join(""))))) : null,
    h("div", { class: "actions" }, p.measurable_here === false
      ? [h("button", { type: "button", disabled: true, "aria-describedby": `why-${proposalKey(p)}` }, "Measure this proposal"),
         h("span", { class: "small muted", id: `why-${proposalKey(p)}` }, ` Not measurable here: ${p.not_measurable_because}.`),
         // the same network and techniques, re-targeted to a device of the machine this server runs on
         p.on_this_machine ? h("button", { type: "button", class: "measure-on-this-machine", title: p.on_this_machine.label,
           onclick: () => measure(p, measureOut, true) }, "Measure on this machine instead") : null]
      : h("button", { type: "button", onclick: () => measure(p, measureOut) }, "Measure this proposal")), measureOut);
  return card;
}

function proposalKey(p) {
  return [p.dln, ...(p.devices || []), ...(p.techniques || [])].join(" ").replace(/[^A-Za-z0-9]+/g, "-").slice(-80);
}

async function measure(proposal, out, onThisMachine = false) {
  clear(out).append(h("p", { class: "notice info", role: "status" }, "Submitting a measurement job…"));
  const res = await api("/api/measurements", { method: "POST", body: { proposal, on_this_machine: onThisMachine },
    headers: measurementToken ? { Authorization: `Bearer ${measurementToken}` } : {} });
  clear(out);
  if (res.status === 401 || res.status === 403) {
    out.append(h("p", { class: "notice bad", role: "alert" }, `Not sent (${res.status}): `, errorsOf(res).map((e) => e.message).join("; "),
      res.status === 401 ? " — enter the server's update token above." : ""));
    return;
  }
  if (!res.ok) { out.append(unavailable("Measuring on hardware", "POST /api/measurements", res)); return; }
  // the server re-predicts the configuration itself; its stored prediction is what gets compared
  const predicted = (res.data.predicted && res.data.predicted.metrics) || proposal.metrics || {};
  const jobUrl = res.data.status_url || `/api/jobs/${encodeURIComponent(res.data.job)}`;
  const bar = h("progress", { class: "progress", max: 1, value: 0, "aria-label": "Measurement progress" });
  const text = h("p", { class: "small", role: "status" }, "Queued…");
  if (onThisMachine && proposal.on_this_machine) out.append(h("p", { class: "small" }, "Measuring the same network and techniques on this machine: ",
    h("a", { href: entityHref(proposal.on_this_machine.device) }, proposal.on_this_machine.label), ". The prediction below is for this machine."));
  out.append(bar, text);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500)); // often enough for the bar to follow the job's phases
    const job = await api(jobUrl);
    if (!job.ok) { out.append(unavailable("The measurement job", `GET ${jobUrl}`, job)); return; }
    const j = job.data;
    bar.value = j.progress ?? 0;
    // a failure's message is shown once, in the alert below
    text.textContent = j.status === "failed" ? "failed" : `${j.status}${j.message ? ": " + j.message : ""} (${Math.round((j.progress ?? 0) * 100)} %)`;
    if (j.status === "succeeded" || j.status === "done") {
      const metrics = (j.result && j.result.metrics) || {};
      out.append(stacked(h("table", { class: "plain measured-vs-predicted" }, h("caption", { class: "visually-hidden" }, "Predicted against measured figures"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Metric"), h("th", { scope: "col" }, "Predicted"), h("th", { scope: "col" }, "Measured"))),
        h("tbody", {}, Object.keys({ ...predicted, ...metrics }).map((k) => h("tr", { dataset: { metric: k } }, h("td", {}, metricLabel(k)),
          h("td", {}, predicted[k] !== undefined ? [metricValue(k, predicted[k]), " ", h("span", { class: "badge predicted" }, "predicted")] : unknown()),
          h("td", {}, metrics[k] !== undefined ? [metricValue(k, metrics[k]), " ", h("span", { class: "badge measured" }, "measured")] : unknown())))))),
        j.result && j.result.model ? h("p", { class: "small" }, "Stored as ", h("a", { href: entityHref(j.result.model), class: "iri" }, j.result.model)) : null);
      return;
    }
    if (j.status === "failed") { out.append(h("p", { class: "notice bad", role: "alert" }, j.message || "The measurement failed.")); return; }
  }
}

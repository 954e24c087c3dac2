// Effects of quantization, measured: for each precision against float on the same network, component,
// device, runtime and release, the distribution of the latency ratio, the memory ratio and the accuracy
// change — the paper's Table 1 backed by paired measurements. Everything shown comes from
// GET /api/effects (decision.measured_effects); the filter choices from GET /api/effects/filters. This
// view computes no figure itself: it draws the endpoint's quartiles and lists them.
import { api, clear, errorsOf, h, loadScript, num } from "./dom.js";
import { PALETTE, REFERENCE_GREY } from "./palette.js";

/** The three figures of each precision: the endpoint's field, how it reads, its unit and its reference
 * value (no change), and whether a log axis suits it (ratios span orders of magnitude). */
const FIGURES = [
  { key: "latency_ratio", label: "Latency ratio", unit: "×", axis: "quantized / float inference latency (log scale; < 1 is faster)", reference: 1, log: true },
  { key: "memory_ratio", label: "Memory ratio", unit: "×", axis: "quantized / float peak memory, upper end (log scale; < 1 is smaller)", reference: 1, log: true },
  { key: "accuracy_change", label: "Accuracy change", unit: "pp", axis: "quantized − float on-device accuracy (percentage points; < 0 is a loss)", reference: 0, log: false },
];
const FILTERS = [["runtime", "Runtime"], ["form_factor", "Device form factor"], ["precision", "Precision"]];

const fmt = (value, unit) => (value === null || value === undefined ? "—" : `${num(value, 3)}${unit === "×" ? "×" : ` ${unit}`}`);

export async function mountEffects(root) {
  const selects = Object.fromEntries(FILTERS.map(([key]) => [key, h("select", { id: `effects-${key}`, name: key }, h("option", { value: "" }, "Any"))]));
  const figure = h("select", { id: "effects-figure" }, FIGURES.map((f) => h("option", { value: f.key }, f.label)));
  const status = h("p", { class: "small muted", id: "effects-status", role: "status" });
  const chartBox = h("div", { class: "chart-box" });
  const output = h("div", { id: "effects-output" });
  const form = h("form", { class: "row", id: "effects-filters", "aria-label": "Filters",
    onsubmit: (e) => { e.preventDefault(); apply(); } },
  FILTERS.map(([key, text]) => h("span", { class: "row" }, h("label", { for: `effects-${key}` }, text), selects[key])));
  root.append(
    h("p", { class: "lead" }, "How much does each quantization scheme change latency, memory and accuracy against float? Each pair is a quantized and a float measurement of the same network on the same device, runtime and toolchain release; copied numbers (a device reported by analogy with another) are not counted. These are the paper's Table 1 arrows as measured distributions."),
    h("section", { class: "card", "aria-labelledby": "effects-filter-title" }, h("h2", { id: "effects-filter-title" }, "Which pairs"), form, status),
    h("section", { class: "card", "aria-labelledby": "effects-chart-title" }, h("h2", { id: "effects-chart-title" }, "Distribution per precision"),
      h("div", { class: "row small" }, h("label", { for: "effects-figure" }, "Figure"), figure),
      h("p", { class: "small muted" }, "Thin bar: min to max; box: first to third quartile; bar across: median. The dashed line is no change (1× for a ratio, 0 points for accuracy)."),
      chartBox),
    output);

  const [choices, hasChart] = await Promise.all([api("/api/effects/filters"), loadScript("/ui/vendor/chart.umd.min.js")]);
  if (choices.ok) {
    for (const [key] of FILTERS) for (const value of choices.data[key]) selects[key].append(h("option", { value }, value));
  }
  let data = null;
  let chart = null;
  let shown = null; // the parameters of the answer on screen
  for (const s of Object.values(selects)) s.addEventListener("change", () => apply());
  figure.addEventListener("change", () => draw());

  function params() {
    const p = new URLSearchParams();
    for (const [key] of FILTERS) if (selects[key].value) p.set(key, selects[key].value);
    return p;
  }

  /** Ask the endpoint for the chosen filters (and keep them in the URL, so a view can be linked). */
  async function apply() {
    const p = params();
    const hash = `#/effects${p.toString() ? `?${p}` : ""}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    if (shown === p.toString() && data) return;
    shown = p.toString();
    status.textContent = "Loading…";
    const res = await api(`/api/effects${shown ? `?${shown}` : ""}`);
    if (shown !== p.toString()) return; // a newer choice is on its way
    clear(output);
    if (!res.ok) {
      data = null;
      status.textContent = "";
      drawNothing();
      output.append(h("div", { class: "notice bad", role: "alert", id: "effects-error" }, h("strong", {}, `The effects could not be computed (${res.status}): `),
        errorsOf(res).map((e) => `${e.field ? `${e.field}: ` : ""}${e.message}`).join("; ")));
      return;
    }
    data = res.data;
    const pairs = data.effects.reduce((sum, e) => sum + e.latency_ratio.n, 0);
    status.textContent = `${data.effects.length} precision(s), ${pairs.toLocaleString("en-US")} latency pair(s) against ${data.baseline}; pairs share ${data.pairing.join(", ")}.`;
    if (!data.effects.length) {
      drawNothing();
      output.append(h("div", { class: "notice info", id: "effects-empty" }, h("strong", {}, "No paired measurements for this choice. "),
        choices.ok && !choices.data.runtime.length
          ? "The graph holds no measurement of a model in float and in a quantized precision on the same device and runtime. Import on-device results, e.g. Qualcomm AI Hub Models (dlom import qai-hub-models), to see them here."
          : "No quantized measurement here has a float measurement of the same network, device, runtime and release. Choose Any for a filter to widen the pairs."));
      return;
    }
    output.append(renderTable(data), renderByMetric(data));
    draw();
  }

  function drawNothing() {
    if (chart) { chart.destroy(); chart = null; }
    clear(chartBox);
  }

  function draw() {
    if (!data || !data.effects.length) return;
    const f = FIGURES.find((x) => x.key === figure.value);
    const rows = data.effects.filter((e) => e[f.key].n > 0);
    if (!hasChart || !window.Chart) {
      clear(chartBox).append(h("p", { class: "notice warn" }, "The chart library is not installed (run scripts/setup_ui.sh); the table below has every figure."));
      return;
    }
    if (chart) chart.destroy();
    clear(chartBox);
    if (!rows.length) {
      chartBox.append(h("p", { class: "notice info", id: "effects-chart-empty" }, `No pair here records the ${f.label.toLowerCase()}.`));
      chart = null;
      return;
    }
    const canvas = h("canvas", { id: "effects-chart", role: "img", "aria-label": `${f.label} per precision: median, quartiles and extremes (the table below lists them)` });
    chartBox.append(canvas);
    const labels = rows.map((e) => `${e.precision} (n=${e[f.key].n})`);
    const value = (e, k) => e[f.key][k];
    // the reference (no change) as a dashed line across the plot, drawn by a small inline plugin
    const reference = { id: "effects-reference", afterDatasetsDraw(c) {
      const y = c.scales.y.getPixelForValue(f.reference);
      if (y < c.chartArea.top || y > c.chartArea.bottom) return;
      const g = c.ctx; g.save(); g.strokeStyle = REFERENCE_GREY; g.setLineDash([6, 4]); g.lineWidth = 1.5;
      g.beginPath(); g.moveTo(c.chartArea.left, y); g.lineTo(c.chartArea.right, y); g.stroke(); g.restore();
    } };
    const tick = (v) => (f.log && ![1, 2, 5].includes(Math.round(Number(Number(v).toPrecision(1)) / 10 ** Math.floor(Math.log10(v)))) ? "" : `${num(v, 3)}${f.unit === "×" ? "×" : ""}`);
    chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels, datasets: [
        { label: "min – max", data: rows.map((e) => [value(e, "min"), value(e, "max")]), backgroundColor: PALETTE[4], grouped: false, maxBarThickness: 6, order: 3 },
        { label: "first – third quartile", data: rows.map((e) => [value(e, "q1"), value(e, "q3")]), backgroundColor: PALETTE[0], grouped: false, maxBarThickness: 44, order: 2 },
        { label: "median", type: "line", data: rows.map((e) => value(e, "median")), showLine: false, pointStyle: "line", pointRadius: 26, pointHoverRadius: 26,
          borderColor: PALETTE[1], backgroundColor: PALETTE[1], borderWidth: 4, order: 1 },
      ] },
      plugins: [reference],
      options: { maintainAspectRatio: false, animation: false,
        scales: { y: { type: f.log ? "logarithmic" : "linear", ticks: { callback: tick }, title: { display: true, text: f.axis } },
          x: { title: { display: true, text: "precision (n = pairs)" } } },
        plugins: { legend: { labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: (ctx) => {
            const d = rows[ctx.dataIndex][f.key];
            return `median ${fmt(d.median, f.unit)}, quartiles ${fmt(d.q1, f.unit)} – ${fmt(d.q3, f.unit)}, range ${fmt(d.min, f.unit)} – ${fmt(d.max, f.unit)} (n=${d.n})`;
          } } } } },
    });
    canvas.chart = chart; // the instance, for the browser tests
  }

  return {
    /** "#/effects?runtime=tflite&form_factor=IoT": the filters from the URL. */
    show(query) {
      for (const [key] of FILTERS) {
        const value = query.get(key) || "";
        const select = selects[key];
        if (value && ![...select.options].some((o) => o.value === value)) select.append(h("option", { value }, value));
        select.value = value;
      }
      apply();
    },
  };
}

function renderTable(data) {
  const head = ["Precision", "Figure", "Pairs (n)", "Median", "Q1", "Q3", "Min", "Max"];
  return h("section", { class: "card", "aria-labelledby": "effects-table-title" }, h("h2", { id: "effects-table-title" }, "The figures"),
    h("p", { class: "small muted" }, "n counts the pairs behind each figure: the memory ratio leaves out pairs where either side records 0 MB, the accuracy change covers the metrics published in % (top-1 and the like) on devices where both precisions were evaluated."),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Effects table (scrolls sideways on a narrow screen)" },
      h("table", { class: "plain effects-table", id: "effects-table" },
        h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, data.effects.map((e) => FIGURES.map((f, i) => {
          const d = e[f.key];
          return h("tr", { dataset: { precision: e.precision, figure: f.key } },
            i === 0 ? h("th", { scope: "rowgroup", rowspan: FIGURES.length }, e.precision) : null,
            h("td", {}, f.label), h("td", { class: "n" }, String(d.n)),
            [d.median, d.q1, d.q3, d.min, d.max].map((v) => h("td", {}, fmt(v, f.unit))));
        }))))));
}

function renderByMetric(data) {
  const rows = data.effects.flatMap((e) => Object.entries(e.accuracy_change_by_metric || {}).map(([metric, d]) => ({ precision: e.precision, metric, d })));
  const box = h("details", { class: "card", id: "effects-by-metric" }, h("summary", {}, `Accuracy change by metric (${rows.length} precision–metric pair(s))`));
  if (!rows.length) {
    box.append(h("p", { class: "muted" }, "No pair here records an on-device accuracy in both precisions."));
    return box;
  }
  box.append(h("p", { class: "small muted" }, "Each metric in its own unit and direction as published (for an error metric such as NME a rise is a loss)."),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Accuracy change by metric" },
      h("table", { class: "plain" }, h("thead", {}, h("tr", {}, ["Precision", "Metric", "Pairs (n)", "Median change", "Q1", "Q3"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.map(({ precision, metric, d }) => h("tr", {}, h("td", {}, precision), h("td", {}, metric), h("td", {}, String(d.n)),
          [d.median, d.q1, d.q3].map((v) => h("td", {}, v === null ? "—" : num(v, 3)))))))));
  return box;
}

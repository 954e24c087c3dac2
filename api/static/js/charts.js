// Charts over the knowledge graph: inference latency against accuracy, coloured by device family (or
// benchmark); and predicted against measured figures, with an honest empty state until predictions
// have been measured.
import { api, clear, h, loadScript, METRICS, metricLabel, num } from "./dom.js";
import { LEGIBLE_SERIES, OTHER_GREY, PALETTE, REFERENCE_GREY, seriesStyle } from "./palette.js";

export async function mountCharts(root) {
  const colourBy = h("select", { id: "colour-by" }, h("option", { value: "family" }, "device family"), h("option", { value: "benchmark" }, "benchmark"), h("option", { value: "kind" }, "measured / predicted"));
  const latCanvas = h("canvas", { id: "latency-accuracy-chart", role: "img", "aria-label": "Scatter chart of inference latency against accuracy" });
  const latNote = h("p", { class: "small muted", id: "latency-accuracy-note" });
  const pvmBox = h("div", { id: "predicted-vs-measured" });
  root.append(
    h("section", { class: "card", "aria-labelledby": "lat-title" }, h("h2", { id: "lat-title" }, "Inference latency against accuracy"),
      h("div", { class: "row small" }, h("label", { for: "colour-by" }, "Colour by"), colourBy),
      h("div", { class: "chart-box" }, latCanvas), latNote),
    h("section", { class: "card", "aria-labelledby": "pvm-title" }, h("h2", { id: "pvm-title" }, "Predicted against measured"), pvmBox));

  const hasChart = await loadScript("/ui/vendor/chart.umd.min.js") && window.Chart;
  const [lat, pvm] = await Promise.all([api("/api/charts/latency-accuracy"), api("/api/charts/predicted-vs-measured")]);
  if (!hasChart) {
    latNote.textContent = "The chart library is not installed (run scripts/setup_ui.sh).";
  }
  let chart = null;
  const drawLatency = () => {
    if (!lat.ok || !hasChart) { if (!lat.ok) latNote.textContent = "Chart data unavailable."; return; }
    const key = colourBy.value;
    const groups = new Map();
    for (const p of lat.data.points) {
      const g = p[key];
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push({ x: p.inference_latency_ms, y: p.accuracy * 100, label: p.label, device: p.device, kind: p.kind });
    }
    const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
    // one distinct (colour, shape) pair per series, from the one palette (colour-blind safe); the
    // smallest groups beyond what a legend can keep apart share one grey "other" series
    const kept = ordered.length > LEGIBLE_SERIES ? ordered.slice(0, LEGIBLE_SERIES - 1) : ordered;
    const rest = ordered.slice(kept.length);
    const datasets = kept.map(([name, data], i) => {
      const style = seriesStyle(i);
      return { label: `${name} (${data.length})`, data, backgroundColor: style.colour, borderColor: style.colour, pointRadius: 4, pointStyle: style.pointStyle };
    });
    if (rest.length) {
      const data = rest.flatMap(([, points]) => points);
      datasets.push({ label: `${rest.length} other ${key === "family" ? "families" : "groups"} (${data.length})`, data, backgroundColor: OTHER_GREY,
        borderColor: OTHER_GREY, pointRadius: 3, pointStyle: "circle", other: true });
    }
    if (chart) chart.destroy();
    chart = new window.Chart(latCanvas, { type: "scatter", data: { datasets },
      options: { maintainAspectRatio: false, animation: false,
        scales: { x: { type: "logarithmic", title: { display: true, text: "Inference latency (ms, log scale)" } },
          y: { title: { display: true, text: "Accuracy (%)" } } },
        plugins: { legend: { position: "right", labels: { boxWidth: 10, usePointStyle: true, font: { size: 11 } } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.raw.label} [${ctx.raw.kind}]: ${num(ctx.raw.x)} ms, ${num(ctx.raw.y)} %` } } } } });
    latNote.textContent = `${lat.data.models_plotted} of ${lat.data.models} models record both accuracy and inference latency; the others are left out. Each point is one model on one device.`;
  };
  colourBy.addEventListener("change", drawLatency);
  drawLatency();

  clear(pvmBox);
  if (!pvm.ok) { pvmBox.append(h("p", { class: "notice warn" }, "Chart data unavailable.")); return; }
  if (!pvm.data.pairs.length) {
    pvmBox.append(h("p", { class: "notice info", id: "pvm-empty" }, h("strong", {}, "Nothing to compare yet. "),
      pvm.data.predicted_values
        ? `The graph holds ${pvm.data.predicted_values} predicted figure(s) for ${pvm.data.predicted_models} model(s), but none of those configurations has been measured yet. Measure a proposal (Recommend → Build new) to see how close the predictions are.`
        : "The graph holds no predictions yet. Proposals from the prediction model (Recommend → Build new), once measured, appear here as predicted-against-measured points."));
    return;
  }
  for (const metric of pvm.data.metrics) {
    const pairs = pvm.data.pairs.filter((p) => p.metric === metric);
    if (!pairs.length) continue;
    const canvas = h("canvas", { role: "img", "aria-label": `${metricLabel(metric)}: predicted against measured` });
    pvmBox.append(h("h3", {}, metricLabel(metric)), h("div", { class: "chart-box small" }, canvas));
    if (!hasChart) continue;
    const scale = (METRICS[metric] && METRICS[metric].scale) || 1; // in the unit its label names
    const values = pairs.flatMap((p) => [p.predicted * scale, p.measured * scale]);
    const lo = Math.min(...values); const hi = Math.max(...values);
    new window.Chart(canvas, { type: "scatter", data: { datasets: [
      { label: "configurations", data: pairs.map((p) => ({ x: p.measured * scale, y: p.predicted * scale, label: p.label })), backgroundColor: PALETTE[0], pointRadius: 5 },
      { label: "perfect prediction", type: "line", data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: REFERENCE_GREY, borderDash: [5, 4], pointRadius: 0 },
    ] }, options: { maintainAspectRatio: false, animation: false,
      scales: { x: { title: { display: true, text: "measured" } }, y: { title: { display: true, text: "predicted" } } },
      plugins: { tooltip: { callbacks: { label: (ctx) => ctx.raw.label ? `${ctx.raw.label}: measured ${num(ctx.raw.x)}, predicted ${num(ctx.raw.y)}` : "" } } } } });
  }
  return { show() {} };
}

// Graph explorer: search an entity by name, see its neighbourhood (Cytoscape.js), click a node to
// expand it, filter by class, open an entity's Linked-Data page. The side panel lists the selected
// entity's links as buttons, so everything is reachable by keyboard too.
import { api, clear, entityHref, errorsOf, h } from "./dom.js";
import { GRAPH_SHAPES, seriesStyle } from "./palette.js";

export function mountExplorer(root) {
  const classColour = new Map();
  const styleOf = (cls) => { if (!classColour.has(cls)) classColour.set(cls, seriesStyle(classColour.size)); return classColour.get(cls); };
  const colourOf = (cls) => styleOf(cls).colour;
  const shapeOf = (cls) => GRAPH_SHAPES[styleOf(cls).pointStyle];
  const hidden = new Set();
  const expanded = new Set();
  let cy = null;
  let selected = null;

  const q = h("input", { type: "search", id: "explore-q", placeholder: "e.g. NUCLEO, ResNet, keyword", autocomplete: "off", "aria-describedby": "explore-q-error" });
  const cls = h("select", { id: "explore-class" }, h("option", { value: "" }, "Any class"));
  const err = h("p", { class: "field-error", id: "explore-q-error", role: "alert", style: "grid-column:1" });
  const results = h("ul", { class: "search-results", id: "explore-results", "aria-label": "Search results" });
  const form = h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); search(); } },
    h("label", { for: "explore-q" }, "Find an entity by name"), h("div", { class: "row" }, q, h("button", { type: "submit", class: "primary" }, "Search")),
    h("label", { for: "explore-class", class: "small" }, "Only"), cls, err);
  const filter = h("div", { class: "class-filter", id: "class-filter" });
  const graph = h("div", { id: "cy", role: "application", "aria-label": "Neighbourhood graph. Click a node to expand it; use the side panel to navigate by keyboard." });
  const panel = h("div", { class: "entity-panel", id: "entity-panel", "aria-live": "polite" }, h("p", { class: "muted" }, "Search for an entity, then pick it to see its neighbourhood."));
  const status = h("p", { class: "small muted", id: "graph-status" });
  root.append(h("div", { class: "explorer-layout" },
    h("div", { class: "card" }, form, results, h("h2", { class: "panel-title" }, "Show classes"), filter),
    h("div", {}, graph, status, h("p", { class: "small muted" }, "Click a node to expand its neighbours; drag to rearrange; scroll to zoom.")),
    h("div", { class: "card" }, panel)));

  api("/api/classes").then((res) => {
    if (!res.ok) return;
    for (const c of res.data.classes) cls.append(h("option", { value: c.iri }, `${c.label} (${c.count})`));
  });

  const ready = import("/ui/vendor/cytoscape.esm.min.mjs").then((m) => {
    cy = m.default({ container: graph, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", shape: "data(shape)", label: "data(short)", "font-size": 9, color: "#1b2430",
          "text-wrap": "ellipsis", "text-max-width": 120, "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
        { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1b2430" } },
        { selector: "node:selected", style: { "border-width": 4, "border-color": "#f0a30a", width: 24, height: 24 } },
        { selector: "edge", style: { width: 1.2, "line-color": "#9aa7b5", "target-arrow-color": "#9aa7b5", "target-arrow-shape": "triangle",
          "curve-style": "bezier", label: "data(label)", "font-size": 7, color: "#4a5565", "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
        { selector: ".filtered", style: { display: "none" } },
      ] });
    graph.cy = cy; // the instance, for debugging and the browser tests
    cy.on("tap", "node", (evt) => { const id = evt.target.id(); select(id); expand(id); });
    return cy;
  }).catch(() => {
    clear(graph).append(h("p", { class: "notice warn", style: "margin:1rem" }, "The graph library is not installed (run scripts/setup_ui.sh). The side panel still lists each entity's links."));
    return null;
  });

  async function search() {
    err.textContent = "";
    q.removeAttribute("aria-invalid");
    const params = new URLSearchParams({ q: q.value, limit: "25" });
    if (cls.value) params.set("class", cls.value);
    const res = await api(`/api/search?${params}`);
    clear(results);
    if (!res.ok) { err.textContent = errorsOf(res).map((e) => e.message).join("; "); q.setAttribute("aria-invalid", "true"); return; }
    if (!res.data.results.length) { results.append(h("li", { class: "muted small" }, "Nothing matches.")); return; }
    for (const r of res.data.results) {
      results.append(h("li", {}, h("button", { type: "button", onclick: () => openEntity(r.iri) }, r.label, h("small", {}, r.classes.join(", ") || "no class"))));
    }
  }

  async function openEntity(iri) {
    await ready;
    if (cy) { cy.elements().remove(); expanded.clear(); }
    await expand(iri);
    select(iri);
  }

  function short(label) { return label.length > 40 ? label.slice(0, 38) + "…" : label; }

  function addNode(n) {
    if (!cy || cy.getElementById(n.iri).length) return;
    const main = n.classes[0] || "(no class)";
    cy.add({ group: "nodes", data: { id: n.iri, label: n.label, short: short(n.label), classes: n.classes, colour: colourOf(main), shape: shapeOf(main), main } });
  }

  async function expand(iri) {
    const res = await api(`/api/neighbourhood?iri=${encodeURIComponent(iri)}&limit=60`);
    if (!res.ok) { status.textContent = errorsOf(res).map((e) => e.message).join("; "); return null; }
    const n = res.data;
    cache.set(iri, n);
    if (cy) {
      const centre = cy.getElementById(iri);
      const at = centre.length ? centre.position() : { x: 0, y: 0 };
      addNode(n.center);
      const fresh = [];
      for (const node of n.nodes) if (!cy.getElementById(node.iri).length) { addNode(node); fresh.push(node.iri); }
      for (const e of n.edges) {
        const id = `${e.source}|${e.predicate}|${e.target}`;
        if (!cy.getElementById(id).length) cy.add({ group: "edges", data: { id, source: e.source, target: e.target, label: e.label } });
      }
      cy.getElementById(iri).addClass("expanded");
      expanded.add(iri);
      const freshNodes = cy.collection(fresh.map((id) => cy.getElementById(id)));
      freshNodes.positions(() => ({ x: at.x + (Math.random() - 0.5) * 50, y: at.y + (Math.random() - 0.5) * 50 }));
      const layout = cy.elements().layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 20000, idealEdgeLength: () => 110, nodeOverlap: 20, fit: true, padding: 20 });
      layout.run();
      applyFilter();
      status.textContent = `${cy.nodes().length} entities, ${cy.edges().length} links shown${n.truncated ? " (this entity has more links than shown)" : ""}.`;
    }
    renderFilter();
    return n;
  }

  const cache = new Map();

  async function select(iri) {
    selected = iri;
    if (cy) { cy.nodes().unselect(); cy.getElementById(iri).select(); }
    let n = cache.get(iri);
    if (!n) {
      const res = await api(`/api/neighbourhood?iri=${encodeURIComponent(iri)}&limit=60`);
      if (!res.ok) return;
      n = res.data; cache.set(iri, n);
    }
    if (selected !== iri) return;
    clear(panel).append(
      h("h2", { style: "margin-top:0;font-size:1.1rem" }, n.center.label),
      h("p", { class: "small muted" }, n.center.classes.join(", ") || "no class"),
      h("p", {}, h("a", { class: "button", href: entityHref(iri), target: "_blank", rel: "noopener", id: "open-entity-page" }, "Open entity page")),
      n.literals.length ? h("dl", {}, n.literals.map((l) => [h("dt", {}, l.predicate), h("dd", {}, String(l.value))])) : null,
      h("h3", {}, `Links (${n.edges.length}${n.truncated ? "+" : ""})`),
      h("ul", { class: "neighbour-list" }, n.edges.map((e) => {
        const other = e.source === iri ? e.target : e.source;
        const node = n.nodes.find((x) => x.iri === other);
        return h("li", {}, e.source === iri ? `${e.label} → ` : `← ${e.label} `,
          h("button", { type: "button", class: "link", onclick: async () => { await expand(other); select(other); } }, node ? node.label : other));
      })));
  }

  function renderFilter() {
    if (!cy) return;
    const counts = new Map();
    cy.nodes().forEach((n) => counts.set(n.data("main"), (counts.get(n.data("main")) || 0) + 1));
    clear(filter);
    for (const [c, count] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
      const box = h("input", { type: "checkbox", checked: !hidden.has(c), onchange: (e) => { if (e.target.checked) hidden.delete(c); else hidden.add(c); applyFilter(); } });
      filter.append(h("label", {}, box, h("i", { style: `background:${colourOf(c)}` }), `${c} (${count})`));
    }
  }

  function applyFilter() {
    if (!cy) return;
    cy.nodes().forEach((n) => { if (hidden.has(n.data("main"))) n.addClass("filtered"); else n.removeClass("filtered"); });
  }

  return {
    show(params) {
      const iri = params.get("iri");
      if (iri && iri !== selected) openEntity(iri);
    },
  };
}

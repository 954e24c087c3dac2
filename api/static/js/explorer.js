// Graph explorer: search an entity by name (boards first, paged, with counts), see its neighbourhood
// (Cytoscape.js), click a node to expand it, filter by class, open an entity's Linked-Data page.
// Large groups of links come as cluster nodes ("145 Models via usesDLN") that the side panel pages
// through and draws a page at a time; a device configuration of one submitter and round is drawn as its
// physical board (a dlom:Hardware node), whose own neighbourhood lists the configurations. The side panel
// lists the selected entity's links and clusters as buttons, so everything is reachable by keyboard too.
import { api, append, clear, entityHref, errorsOf, h } from "./dom.js";
import { GRAPH_SHAPES, seriesStyle } from "./palette.js";

const PAGE = 25; // search results and cluster members per page
const RANK_NAMES = { hardware: "hardware", entity: "other entities", model: "models", record: "records" };

export function mountExplorer(root) {
  const classColour = new Map();
  const styleOf = (cls) => { if (!classColour.has(cls)) classColour.set(cls, seriesStyle(classColour.size)); return classColour.get(cls); };
  const colourOf = (cls) => styleOf(cls).colour;
  const shapeOf = (cls) => GRAPH_SHAPES[styleOf(cls).pointStyle];
  const hidden = new Set();
  const expanded = new Set();
  const cache = new Map(); // iri → neighbourhood answer
  let cy = null;
  let selected = null;
  let lastSearch = null; // {q, cls, offset}

  const q = h("input", { type: "search", id: "explore-q", placeholder: "e.g. NUCLEO, ResNet, keyword", autocomplete: "off", "aria-describedby": "explore-q-error" });
  const cls = h("select", { id: "explore-class" }, h("option", { value: "" }, "Any class"));
  const err = h("p", { class: "field-error", id: "explore-q-error", role: "alert", style: "grid-column:1" });
  const results = h("ul", { class: "search-results", id: "explore-results", "aria-label": "Search results" });
  const count = h("p", { class: "small muted", id: "explore-count", role: "status" });
  const prev = h("button", { type: "button", class: "small", id: "explore-prev", hidden: true, onclick: () => page(-1) }, "Previous");
  const next = h("button", { type: "button", class: "small", id: "explore-next", hidden: true, onclick: () => page(1) }, "Next");
  const form = h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); search(0); } },
    h("label", { for: "explore-q" }, "Find an entity by name"), h("div", { class: "row" }, q, h("button", { type: "submit", class: "primary" }, "Search")),
    h("label", { for: "explore-class", class: "small" }, "Only"), cls, err);
  const filter = h("div", { class: "class-filter", id: "class-filter" });
  const graph = h("div", { id: "cy", role: "application", "aria-label": "Neighbourhood graph. Click a node to expand it, a cluster to page through it; use the side panel to navigate by keyboard." });
  const panel = h("div", { class: "entity-panel", id: "entity-panel", "aria-live": "polite" }, h("p", { class: "muted" }, "Search for an entity, then pick it to see its neighbourhood."));
  const status = h("p", { class: "small muted", id: "graph-status", role: "status" });
  root.append(h("div", { class: "explorer-layout" },
    h("div", { class: "card" }, form, count, results, h("div", { class: "row pager" }, prev, next), h("h2", { class: "panel-title" }, "Show classes"), filter),
    h("div", {}, graph, status, h("p", { class: "small muted" }, "Click a node to expand its neighbours, a cluster (a box such as “145 Models via usesDLN”) to page through its members; drag to rearrange; scroll to zoom.")),
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
        // a cluster is a labelled box: its text is the point (what it holds), so it is inside and wrapped
        { selector: "node.cluster", style: { shape: "round-rectangle", "background-color": "#fff", "border-width": 2, "border-color": "data(colour)",
          "border-style": "dashed", label: "data(label)", "text-valign": "center", "text-margin-y": 0, "text-wrap": "wrap", "text-max-width": 110,
          "font-size": 10, "font-weight": 600, width: 124, height: 40, padding: 4 } },
        { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1b2430" } },
        { selector: "node:selected", style: { "border-width": 4, "border-color": "#f0a30a" } },
        { selector: "edge", style: { width: 1.2, "line-color": "#9aa7b5", "target-arrow-color": "#9aa7b5", "target-arrow-shape": "triangle",
          "curve-style": "bezier", label: "data(label)", "font-size": 7, color: "#4a5565", "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.8 } },
        { selector: ".filtered", style: { display: "none" } },
      ] });
    graph.cy = cy; // the instance, for debugging and the browser tests
    cy.on("tap", "node", (evt) => {
      const n = evt.target;
      if (n.hasClass("cluster")) { openCluster(n.id(), 0); return; }
      select(n.id()); expand(n.id());
    });
    return cy;
  }).catch(() => {
    clear(graph).append(h("p", { class: "notice warn", style: "margin:1rem" }, "The graph library is not installed (run scripts/setup_ui.sh). The side panel still lists each entity's links."));
    return null;
  });

  // -- search ---------------------------------------------------------------------------------------

  function page(step) { if (lastSearch) search(Math.max(0, lastSearch.offset + step * PAGE)); }

  async function search(offset) {
    err.textContent = "";
    q.removeAttribute("aria-invalid");
    const wanted = offset === 0 || !lastSearch ? { q: q.value, cls: cls.value } : lastSearch;
    const params = new URLSearchParams({ q: wanted.q, limit: String(PAGE), offset: String(offset) });
    if (wanted.cls) params.set("class", wanted.cls);
    const res = await api(`/api/search?${params}`);
    clear(results);
    prev.hidden = next.hidden = true;
    count.textContent = "";
    if (!res.ok) { err.textContent = errorsOf(res).map((e) => e.message).join("; "); q.setAttribute("aria-invalid", "true"); return; }
    const d = res.data;
    lastSearch = { q: wanted.q, cls: wanted.cls, offset: d.offset };
    if (!d.results.length) { results.append(h("li", { class: "muted small" }, "Nothing matches.")); return; }
    const ranks = Object.entries(d.by_rank || {}).map(([k, n]) => `${n.toLocaleString("en-US")} ${RANK_NAMES[k] || k}`).join(", ");
    count.textContent = `${d.offset + 1}–${d.offset + d.results.length} of ${d.total.toLocaleString("en-US")}${ranks ? ` (${ranks})` : ""}. Boards and devices come first.`;
    for (const r of d.results) {
      results.append(h("li", {}, h("button", { type: "button", onclick: () => openEntity(r.iri) }, r.label, h("small", {}, describeResult(r)))));
    }
    prev.hidden = d.offset === 0;
    next.hidden = !d.has_more;
  }

  /** A result's classes, and how it stands to a physical board: a board's kind and number of per-source
   * configurations, or the board a submitter's device entity is a configuration of. */
  function describeResult(r) {
    const hw = r.hardware || {};
    if (hw.kind) return `dlom:Hardware — one physical ${hw.kind}, ${hw.configurations} per-source configuration${hw.configurations === 1 ? "" : "s"}`;
    const text = describeClasses(r.classes);
    return hw.board ? `${text} — a configuration of ${hw.board.label}` : text;
  }

  function describeClasses(classes) {
    if (classes.includes("dlom:Hardware")) return "dlom:Hardware — one physical product, all its sources";
    return classes.join(", ") || "no class";
  }

  // -- the graph ------------------------------------------------------------------------------------

  async function openEntity(iri) {
    // The panel of the entity shown before goes at once: its buttons would act on a graph being replaced.
    selected = iri;
    clear(panel).append(h("p", { class: "muted", role: "status" }, "Loading the neighbourhood…"));
    await ready;
    if (cy) { cy.elements().remove(); expanded.clear(); }
    await expand(iri);
    select(iri);
  }

  function short(label) { return label.length > 40 ? label.slice(0, 38) + "…" : label; }

  function addNode(n) {
    if (!cy || cy.getElementById(n.iri).length) return false;
    const main = n.classes[0] || "(no class)";
    cy.add({ group: "nodes", data: { id: n.iri, label: n.label, short: short(n.label), classes: n.classes, colour: colourOf(main), shape: shapeOf(main), main } });
    return true;
  }

  function addEdge(e) {
    const id = `${e.source}|${e.predicate}|${e.target}`;
    if (!cy.getElementById(id).length) cy.add({ group: "edges", data: { id, source: e.source, target: e.target, label: e.label, via: e.via || [] } });
  }

  const clusterId = (centre, c) => `cluster|${centre}|${c.id}`;
  const compactClass = (iri) => (iri.startsWith("https://w3id.org/dlom#") ? `dlom:${iri.slice(22)}` : iri || "(no class)");

  function addCluster(centre, c) {
    const id = clusterId(centre, c);
    if (cy.getElementById(id).length) return id;
    const main = compactClass(c.class_iri);
    cy.add({ group: "nodes", classes: "cluster", data: { id, label: c.label, short: c.label, colour: colourOf(main), shape: "round-rectangle", main, cluster: c, centre, drawn: 0 } });
    const [source, target] = c.direction === "in" ? [id, centre] : [centre, id];
    cy.add({ group: "edges", data: { id: `${id}|edge`, source, target, label: c.predicate_label } });
    return id;
  }

  function layoutAround(at, fresh) {
    const freshNodes = cy.collection(fresh.map((id) => cy.getElementById(id)));
    freshNodes.positions(() => ({ x: at.x + (Math.random() - 0.5) * 50, y: at.y + (Math.random() - 0.5) * 50 }));
    cy.elements().layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 20000, idealEdgeLength: () => 110, nodeOverlap: 20, fit: true, padding: 20 }).run();
  }

  async function neighbourhoodOf(iri) {
    if (cache.has(iri)) return { ok: true, data: cache.get(iri) };
    const res = await api(`/api/neighbourhood?iri=${encodeURIComponent(iri)}&limit=60`);
    if (res.ok) cache.set(iri, res.data);
    return res;
  }

  async function expand(iri) {
    const res = await neighbourhoodOf(iri);
    if (!res.ok) { status.textContent = errorsOf(res).map((e) => e.message).join("; "); return null; }
    const n = res.data;
    if (cy) {
      const centre = cy.getElementById(iri);
      const at = centre.length ? centre.position() : { x: 0, y: 0 };
      addNode(n.center);
      const fresh = [];
      for (const node of n.nodes) if (addNode(node)) fresh.push(node.iri);
      for (const e of n.edges) addEdge(e);
      for (const c of n.clusters) fresh.push(addCluster(iri, c));
      cy.getElementById(iri).addClass("expanded");
      expanded.add(iri);
      layoutAround(at, fresh);
      applyFilter();
      describeStatus(n);
    }
    renderFilter();
    return n;
  }

  /** What the graph shows and what it does not: the entity's links drawn one by one, those held in
   * clusters (with their names), and the per-source configurations drawn as their board. */
  function describeStatus(n) {
    const clustered = n.clusters.reduce((s, c) => s + c.count, 0);
    const folded = new Set(n.edges.flatMap((e) => e.via || []));
    const parts = [`${n.center.label}: ${n.links.toLocaleString("en-US")} link${n.links === 1 ? "" : "s"}; ${n.edges.length} drawn one by one`];
    if (n.clusters.length) parts.push(`${clustered.toLocaleString("en-US")} in ${n.clusters.length} cluster${n.clusters.length === 1 ? "" : "s"} (${n.clusters.map((c) => c.label).join(", ")}) — open a cluster to page through it or draw its members`);
    const plural = folded.size === 1 ? "" : "s";
    if (folded.size && n.center.classes.includes("dlom:Hardware")) parts.push(`with the links of ${folded.size} per-source configuration${plural} (one per submitter and round) of this board`);
    else if (folded.size) parts.push(`${folded.size} per-source configuration${plural} drawn as ${folded.size === 1 ? "its" : "their"} physical board`);
    status.textContent = `${parts.join("; ")}. The graph holds ${cy.nodes().length} nodes and ${cy.edges().length} links.`;
  }

  async function select(iri) {
    selected = iri;
    if (cy) { cy.nodes().unselect(); cy.getElementById(iri).select(); }
    const res = await neighbourhoodOf(iri);
    if (selected !== iri) return;
    if (!res.ok) { clear(panel).append(h("p", { class: "notice bad", role: "alert" }, errorsOf(res).map((e) => e.message).join("; "))); return; }
    const n = res.data;
    // dom.js append (not the DOM's): it flattens the optional sections and skips the absent ones
    append(clear(panel), [
      h("h2", { style: "margin-top:0;font-size:1.1rem" }, n.center.label),
      h("p", { class: "small muted" }, describeClasses(n.center.classes)),
      h("p", {}, h("a", { class: "button", href: entityHref(iri), target: "_blank", rel: "noopener", id: "open-entity-page" }, "Open entity page")),
      n.literals.length ? h("dl", {}, n.literals.map((l) => [h("dt", {}, l.predicate), h("dd", {}, String(l.value))])) : null,
      n.clusters.length ? [h("h3", {}, `Clusters (${n.clusters.length})`), h("ul", { class: "neighbour-list", id: "cluster-list" }, n.clusters.map((c) =>
        h("li", {}, h("button", { type: "button", class: "link", onclick: async () => { await expand(iri); openCluster(clusterId(iri, c), 0); } }, c.label))))] : null,
      h("h3", {}, `Links (${n.edges.length}${n.truncated ? ` of ${n.links}` : ""})`),
      h("ul", { class: "neighbour-list" }, n.edges.map((e) => {
        const other = e.source === iri ? e.target : e.source;
        const node = n.nodes.find((x) => x.iri === other);
        return h("li", {}, e.source === iri ? `${e.label} → ` : `← ${e.label} `,
          h("button", { type: "button", class: "link", onclick: async () => { await expand(other); select(other); } }, node ? node.label : other),
          viaNote(e.via));
      }))]);
  }

  function viaNote(via) {
    if (!via || !via.length) return null;
    return h("span", { class: "small muted", title: via.join("\n") }, ` (through ${via.length} configuration${via.length === 1 ? "" : "s"})`);
  }

  /** The side panel for a cluster: one page of its members, paging, and drawing that page in the graph. */
  async function openCluster(id, offset) {
    const node = cy && cy.getElementById(id);
    if (!node || !node.length) return;
    cy.nodes().unselect(); node.select();
    selected = id;
    const c = node.data("cluster");
    const centre = node.data("centre");
    const params = new URLSearchParams({ iri: centre, predicate: c.predicate, direction: c.direction, class: c.class_iri, offset: String(offset), limit: String(PAGE) });
    const res = await api(`/api/neighbourhood/cluster?${params}`);
    if (selected !== id) return;
    if (!res.ok) { clear(panel).append(h("p", { class: "notice bad", role: "alert" }, errorsOf(res).map((e) => e.message).join("; "))); return; }
    const d = res.data;
    const centreLabel = cy.getElementById(centre).data("label") || centre;
    const from = d.offset + 1;
    const to = d.offset + d.members.length;
    append(clear(panel), [
      h("h2", { style: "margin-top:0;font-size:1.1rem", id: "cluster-title" }, d.cluster.label),
      h("p", { class: "small muted" }, c.direction === "in" ? `${d.cluster.class_label || "Entities"} that link to ${centreLabel} by ${c.predicate_label}.` : `${d.cluster.class_label || "Entities"} ${centreLabel} links to by ${c.predicate_label}.`),
      h("p", { class: "small", id: "cluster-range", role: "status" }, `${from}–${to} of ${d.total.toLocaleString("en-US")}` + (node.data("drawn") ? `; ${node.data("drawn")} drawn in the graph` : "")),
      h("ul", { class: "neighbour-list", id: "cluster-members" }, d.members.map((m) => h("li", {},
        h("button", { type: "button", class: "link", onclick: async () => { drawMembers(node, [m]); await expand(m.iri); select(m.iri); } }, m.label), viaNote(m.via)))),
      h("div", { class: "row pager" },
        d.offset > 0 ? h("button", { type: "button", class: "small", id: "cluster-prev", onclick: () => openCluster(id, Math.max(0, d.offset - PAGE)) }, "Previous") : null,
        d.has_more ? h("button", { type: "button", class: "small", id: "cluster-next", onclick: () => openCluster(id, d.offset + PAGE) }, "Next") : null,
        h("button", { type: "button", class: "small primary", id: "cluster-draw", onclick: () => { drawMembers(node, d.members); openCluster(id, d.offset); } },
          `Draw these ${d.members.length} in the graph`))]);
  }

  /** Draw cluster members as nodes linked to the cluster's centre; the cluster's label then says how many it still holds. */
  function drawMembers(node, members) {
    const c = node.data("cluster");
    const centre = node.data("centre");
    const fresh = [];
    for (const m of members) {
      if (addNode(m)) fresh.push(m.iri);
      const [source, target] = c.direction === "in" ? [m.iri, centre] : [centre, m.iri];
      addEdge({ source, target, predicate: c.predicate, label: c.predicate_label, via: m.via });
    }
    const seen = node.scratch("members") || new Set();
    for (const m of members) seen.add(m.iri);
    node.scratch("members", seen);
    const drawn = seen.size;
    node.data({ drawn, label: `${c.label} (${drawn} drawn)` });
    if (fresh.length) layoutAround(node.position(), fresh);
    applyFilter();
    renderFilter();
    status.textContent = `${c.label}: ${drawn} drawn, ${Math.max(0, c.count - drawn).toLocaleString("en-US")} still in the cluster. The graph holds ${cy.nodes().length} nodes and ${cy.edges().length} links.`;
  }

  function renderFilter() {
    if (!cy) return;
    const counts = new Map();
    cy.nodes().forEach((n) => counts.set(n.data("main"), (counts.get(n.data("main")) || 0) + 1));
    clear(filter);
    for (const [c, n] of [...counts.entries()].sort((a, b) => b[1] - a[1])) {
      const box = h("input", { type: "checkbox", checked: !hidden.has(c), onchange: (e) => { if (e.target.checked) hidden.delete(c); else hidden.add(c); applyFilter(); } });
      filter.append(h("label", {}, box, h("i", { style: `background:${colourOf(c)}` }), `${c} (${n})`));
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

// The UI shell: one page, five views chosen by the URL hash (#/recommend, #/explore, #/sparql, #/charts, #/effects).
import { api, h } from "./dom.js";

const VIEWS = {
  recommend: () => import("./wizard.js").then((m) => m.mountWizard(document.getElementById("wizard"))),
  explore: () => import("./explorer.js").then((m) => m.mountExplorer(document.getElementById("explorer"))),
  sparql: () => import("./sparql.js").then((m) => m.mountSparql(document.getElementById("sparql"))),
  charts: () => import("./charts.js").then((m) => m.mountCharts(document.getElementById("charts"))),
  effects: () => import("./effects.js").then((m) => m.mountEffects(document.getElementById("effects"))),
};
const mounted = new Map();

/** Show the view the hash names (default: recommend). "#/explore?iri=…" passes the IRI to the explorer. */
async function route() {
  // An in-page anchor ("#main", "#f-…") is not a route: the current view stays.
  if (location.hash && !location.hash.startsWith("#/") && mounted.size) return;
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "recommend").split("?");
  const name = VIEWS[path] ? path : "recommend";
  for (const key of Object.keys(VIEWS)) document.getElementById(`view-${key}`).hidden = key !== name;
  for (const a of document.querySelectorAll("nav a[data-view]")) {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (!mounted.has(name)) mounted.set(name, VIEWS[name]());
  const view = await mounted.get(name);
  if (view && typeof view.show === "function") view.show(new URLSearchParams(query || ""));
}

async function showStatus() {
  const el = document.getElementById("kg-status");
  const res = await api("/api/health");
  el.textContent = res.ok && res.data ? `Knowledge graph: ${res.data.quads.toLocaleString("en-US")} facts` : "Knowledge graph unavailable";
  const ui = await api("/api/ui/status");
  if (ui.ok && ui.data) {
    const missing = Object.entries(ui.data.vendor).filter(([, present]) => !present).map(([name]) => name);
    if (missing.length) {
      const banner = document.getElementById("vendor-warning");
      banner.hidden = false;
      banner.append(h("strong", {}, "Some tools are limited: "), `front-end libraries missing (${missing.join(", ")}) — ${ui.data.setup_hint}.`);
    }
  }
}

/** The skip link moves focus to the main region; it does not navigate (the hash is the route). */
document.querySelector(".skip-link").addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});

window.addEventListener("hashchange", route);
route();
showStatus();

// SPARQL editor for analysts: YASQE (syntax highlighting, Ctrl+Enter to run) with example queries over
// the shipped graph; results from the /sparql endpoint as a table. Without the editor library it
// falls back to a plain text area.
import { api, clear, entityHref, errorsOf, h, loadScript, loadStyle } from "./dom.js";

export async function mountSparql(root) {
  const examples = (await api("/ui/sparql-examples.json")).data || [];
  const picker = h("select", { id: "sparql-example" }, h("option", { value: "" }, "Choose an example query…"), examples.map((e, i) => h("option", { value: i }, e.title)));
  const run = h("button", { type: "button", class: "primary", id: "sparql-run" }, "Run query");
  const holder = h("div", { id: "sparql-editor-holder" });
  const info = h("p", { class: "small muted", id: "sparql-info", role: "status" });
  const output = h("div", { id: "sparql-output", "aria-live": "polite" });
  const description = h("p", { class: "small muted", id: "sparql-example-description" });
  root.append(h("div", { class: "card sparql-layout" },
    h("p", { class: "lead" }, "Query the knowledge graph in SPARQL 1.1 (read-only). Prefixes dlom:, rdf:, rdfs:, xsd:, prov: are declared in the examples. Press Ctrl+Enter to run. Prefer GraphQL? Try ",
      h("a", { href: "/graphql" }, "GraphiQL"), "."),
    h("div", { class: "row" }, h("label", { for: "sparql-example" }, "Examples"), picker, h("span", { class: "grow" }), run),
    description, h("label", { for: "sparql-text", class: "visually-hidden" }, "SPARQL query"), holder, info), output);

  const initial = examples.length ? examples[0].query : "SELECT * WHERE { ?s ?p ?o } LIMIT 10";
  let editor = null;
  loadStyle("/ui/vendor/yasqe.min.css");
  if (await loadScript("/ui/vendor/yasqe.min.js") && window.Yasqe) {
    // No persistence and only local autocompletion: the UI must work offline (prefix.cc/LOV are remote).
    // The contenteditable input (not CodeMirror's default hidden textarea) lies inside the editor's scroll
    // region, so that region is reached by keyboard (axe-core scrollable-region-focusable) and screen readers
    // read the query's lines themselves.
    editor = new window.Yasqe(holder, { value: initial, persistenceId: null, autocompleters: ["variables"], showQueryButton: false,
      resizeable: true, editorHeight: "280px", createShareableLink: null, consumeShareLink: null, inputStyle: "contenteditable" });
    const input = editor.getInputField();
    input.setAttribute("role", "textbox");
    input.setAttribute("aria-multiline", "true");
    input.setAttribute("aria-label", "SPARQL query");
    input.id = "sparql-text";
    editor.on("keydown", (_, e) => { if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); execute(); } });
  } else {
    const ta = h("textarea", { id: "sparql-text", class: "fallback-editor", rows: 14, spellcheck: "false" });
    ta.value = initial;
    ta.addEventListener("keydown", (e) => { if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); execute(); } });
    holder.append(h("p", { class: "small muted" }, "Plain editor (the highlighting editor is not installed: run scripts/setup_ui.sh)."), ta);
  }
  const getQuery = () => (editor ? editor.getValue() : holder.querySelector("textarea").value);
  const setQuery = (q) => (editor ? editor.setValue(q) : (holder.querySelector("textarea").value = q));
  if (examples.length) description.textContent = examples[0].description;

  picker.addEventListener("change", () => {
    if (picker.value === "") return;
    const ex = examples[Number(picker.value)];
    setQuery(ex.query); description.textContent = ex.description;
  });
  run.addEventListener("click", execute);

  const RESULT_ACCEPT = "application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1";
  /** The downloads offered per result kind: the endpoint is asked again with the format's Accept header
   * (the file is the server's serialization, not one made here). */
  const DOWNLOADS = {
    solutions: [{ label: "CSV", accept: "text/csv", ext: "csv" }, { label: "JSON", accept: "application/sparql-results+json", ext: "json" }],
    boolean: [{ label: "JSON", accept: "application/sparql-results+json", ext: "json" }],
    graph: [{ label: "Turtle", accept: "text/turtle", ext: "ttl" }, { label: "N-Triples", accept: "application/n-triples", ext: "nt" }],
  };
  const post = (query, accept) => api("/sparql", { method: "POST", body: new URLSearchParams({ query }),
    headers: { "Content-Type": "application/x-www-form-urlencoded" }, accept });

  async function execute() {
    run.disabled = true;
    info.textContent = "Running…";
    markError(null);
    const started = performance.now();
    const query = getQuery();
    const res = await post(query, RESULT_ACCEPT);
    run.disabled = false;
    const ms = Math.round(performance.now() - started);
    clear(output);
    if (!res.ok) {
      info.textContent = `Failed after ${ms} ms.`;
      output.append(renderError(res));
      markError(res.data);
      return;
    }
    // the server marks a result it cut at its row limit (api/sparql_endpoint.py): never a silent cut here either
    const truncated = res.headers.get("DLOM-Results-Truncated") === "true";
    const limit = Number(res.headers.get("DLOM-Max-Rows"));
    const cut = truncated ? ` — cut at the server's limit of ${limit.toLocaleString("en-US")}` : "";
    let kind = "graph";
    if (res.data && res.data.head && res.data.results) {
      kind = "solutions";
      const vars = res.data.head.vars;
      const rows = res.data.results.bindings;
      info.textContent = `${rows.length.toLocaleString("en-US")} row${rows.length === 1 ? "" : "s"}${cut} in ${ms} ms.`;
      const table = { vars, rows, properties: columnProperties(query, vars), page: 0 };
      const holder = h("div", { id: "sparql-table" });
      output.append(holder);
      await renderTable(holder, table);
    } else if (res.data && typeof res.data.boolean === "boolean") {
      kind = "boolean";
      info.textContent = `ASK in ${ms} ms.`;
      output.append(h("p", { class: "notice info", id: "sparql-results" }, `Answer: ${res.data.boolean ? "yes (true)" : "no (false)"}`));
    } else {
      info.textContent = `Graph result${cut} in ${ms} ms.`;
      output.append(h("div", { class: "results-wrap", tabindex: "0", role: "region", "aria-label": "Query results" }, h("pre", { class: "raw", id: "sparql-results" }, res.text)));
    }
    if (truncated) {
      output.prepend(h("div", { class: "notice warn", id: "sparql-truncated", role: "status" },
        h("strong", {}, `Only the first ${limit.toLocaleString("en-US")} ${kind === "graph" ? "triples" : "rows"} are shown. `),
        `The server returns at most ${limit.toLocaleString("en-US")} per query (its row limit, DLOM_MAX_ROWS) and this result has more. `,
        "Add LIMIT and OFFSET to page through the rest, or narrow the query; a download holds the same cut result."));
    }
    output.prepend(renderDownloads(query, kind));
  }

  function renderDownloads(query, kind) {
    const note = h("span", { class: "small muted", id: "sparql-download-status", role: "status" });
    const buttons = DOWNLOADS[kind].map((d) => h("button", { type: "button", class: "small", id: `sparql-download-${d.ext}`,
      onclick: async () => {
        note.textContent = `Preparing ${d.label}…`;
        const res = await post(query, d.accept);
        if (!res.ok) { note.textContent = `${d.label} download failed (${res.status}).`; return; }
        const url = URL.createObjectURL(new Blob([res.text], { type: res.contentType || d.accept }));
        const a = h("a", { href: url, download: `dlom-query.${d.ext}`, hidden: true });
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        note.textContent = `${d.label} downloaded.`;
      } }, `Download ${d.label}`));
    return h("div", { class: "sparql-downloads" }, h("span", { class: "small" }, "Download the result:"), buttons, note);
  }

  /** A query error: the server's message; for an undeclared prefix, the PREFIX line it offers, one click away. */
  function renderError(res) {
    const box = h("div", { class: "notice bad", role: "alert", id: "sparql-error" }, h("strong", {}, `Query error (${res.status}): `),
      h("pre", { class: "raw" }, res.data ? errorsOf(res).map((e) => e.message).join("\n") : res.text));
    const missing = (res.data && res.data.missing_prefixes) || [];
    for (const m of missing) {
      if (!m.declaration) continue;
      box.append(h("p", { class: "missing-prefix" }, `The prefix ${m.prefix}: is not declared. DLOM knows it: `, h("code", {}, m.declaration), " ",
        h("button", { type: "button", class: "small", dataset: { prefix: m.prefix },
          onclick: () => { setQuery(`${m.declaration}\n${getQuery()}`); execute(); } }, `Add the PREFIX line and run`)));
    }
    return box;
  }


  // -- the result table: pages of ROWS_PER_PAGE, labels of entities, units of known properties ---------

  const ROWS_PER_PAGE = 100;
  const labelCache = new Map(); // iri → {label, unit} ({} when the graph knows neither)
  const showLabels = h("input", { type: "checkbox", id: "sparql-labels", checked: true });
  const NUMERIC = /#(decimal|integer|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong)$/;

  /** Each variable's property where the query text binds it as an object (`dlom:memoryKB ?mem`,
   * `<https://w3id.org/dlom#memoryKB> ?mem`), else the variable holding its predicate (`?s ?p ?o`: ?o → {fromVar: "p"}). */
  function columnProperties(text, vars) {
    const prefixes = { dlom: "https://w3id.org/dlom#", rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#", rdfs: "http://www.w3.org/2000/01/rdf-schema#",
      prov: "http://www.w3.org/ns/prov#", xsd: "http://www.w3.org/2001/XMLSchema#", schema: "https://schema.org/" };
    for (const m of text.matchAll(/PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gi)) prefixes[m[1] || ""] = m[2];
    const out = {};
    for (const m of text.matchAll(/(?:<([^>\s]+)>|(?<![\w?$])([A-Za-z][\w.-]*)?:([A-Za-z_][\w.-]*))\s+[?$](\w+)/g)) {
      const iri = m[1] || (prefixes[m[2] || ""] !== undefined ? prefixes[m[2] || ""] + m[3] : null);
      if (iri && vars.includes(m[4]) && !(m[4] in out)) out[m[4]] = { iri };
    }
    for (const m of text.matchAll(/[?$](\w+)\s+[?$](\w+)\s+[?$](\w+)/g)) {
      if (vars.includes(m[3]) && vars.includes(m[2]) && !(m[3] in out)) out[m[3]] = { fromVar: m[2] };
    }
    return out;
  }

  /** Look up the labels and units of the IRIs not yet known (one request of at most 500); a failed lookup leaves them unlabelled. */
  async function lookUp(iris) {
    const wanted = [...new Set(iris)].filter((i) => !labelCache.has(i)).slice(0, 500);
    if (!wanted.length) return;
    const res = await api("/api/labels", { method: "POST", body: { iris: wanted } });
    for (const i of wanted) labelCache.set(i, res.ok ? { label: res.data.labels[i], unit: res.data.units[i] } : {});
  }

  async function renderTable(holder, t) {
    const pages = Math.max(1, Math.ceil(t.rows.length / ROWS_PER_PAGE));
    const first = t.page * ROWS_PER_PAGE;
    const slice = t.rows.slice(first, first + ROWS_PER_PAGE);
    const iris = Object.values(t.properties).map((p) => p.iri).filter(Boolean);
    for (const b of slice) for (const v of t.vars) if (b[v] && b[v].type === "uri") iris.push(b[v].value);
    if (showLabels.checked) await lookUp(iris);
    const known = (iri) => (showLabels.checked && labelCache.get(iri)) || {};
    const unitOf = (b, v) => {
      const p = t.properties[v];
      if (!p) return null;
      const iri = p.iri || (b[p.fromVar] && b[p.fromVar].type === "uri" ? b[p.fromVar].value : null);
      return iri ? known(iri).unit : null;
    };
    const header = (v) => {
      const p = t.properties[v];
      const about = p && p.iri ? known(p.iri) : {};
      return h("th", { scope: "col" }, `?${v}`, about.label ? h("small", { class: "column-property" }, about.label) : null);
    };
    const cellOf = (b, v) => {
      const term = b[v];
      if (!term) return "";
      if (term.type === "uri") {
        const label = known(term.value).label;
        return h("a", { href: entityHref(term.value), target: "_blank", rel: "noopener", title: term.value }, label || compact(term.value));
      }
      const unit = term.datatype && NUMERIC.test(term.datatype) ? unitOf(b, v) : null;
      return unit ? [term.value, " ", h("span", { class: "unit" }, unit)] : term.value;
    };
    const pager = pages > 1 ? h("div", { class: "row pager sparql-pager" },
      h("button", { type: "button", class: "small", id: "sparql-page-prev", disabled: t.page === 0, onclick: () => { t.page -= 1; renderTable(holder, t); } }, "Previous"),
      h("span", { class: "small", id: "sparql-page-info", role: "status" },
        `Rows ${(first + 1).toLocaleString("en-US")}–${(first + slice.length).toLocaleString("en-US")} of ${t.rows.length.toLocaleString("en-US")} (page ${t.page + 1} of ${pages})`),
      h("button", { type: "button", class: "small", id: "sparql-page-next", disabled: t.page >= pages - 1, onclick: () => { t.page += 1; renderTable(holder, t); } }, "Next")) : null;
    showLabels.onchange = () => renderTable(holder, t);
    clear(holder).append(
      h("div", { class: "row sparql-table-options" }, h("label", { class: "small" }, showLabels, " Show labels of entities and units of known properties")),
      pager,
      h("div", { class: "results-wrap", tabindex: "0", role: "region", "aria-label": "Query results" }, h("table", { class: "results-table", id: "sparql-results" },
        h("thead", {}, h("tr", {}, t.vars.map(header))),
        h("tbody", {}, slice.map((b) => h("tr", {}, t.vars.map((v) => h("td", {}, cellOf(b, v)))))))));
  }

  /** Put the cursor on the line and column the server's syntax error names, and mark that line. */
  let markedLine = null;
  function markError(data) {
    if (!editor) return;
    if (markedLine !== null) { editor.removeLineClass(markedLine, "wrap", "sparql-error-line"); markedLine = null; }
    if (!data || !Number.isInteger(data.line)) return;
    markedLine = Math.min(data.line, editor.lineCount()) - 1;
    editor.addLineClass(markedLine, "wrap", "sparql-error-line");
    editor.setCursor({ line: markedLine, ch: Math.max(0, (data.column || 1) - 1) });
  }

  function compact(iri) {
    const prefixes = { "https://w3id.org/dlom#": "dlom:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:", "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
      "http://www.w3.org/ns/prov#": "prov:", "https://w3id.org/dlom/id/": "id:" };
    for (const [ns, p] of Object.entries(prefixes)) if (iri.startsWith(ns)) return p + iri.slice(ns.length);
    return iri;
  }
  return { show() { if (editor) editor.refresh(); } };
}

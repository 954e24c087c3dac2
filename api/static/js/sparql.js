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
    const started = performance.now();
    const query = getQuery();
    const res = await post(query, RESULT_ACCEPT);
    run.disabled = false;
    const ms = Math.round(performance.now() - started);
    clear(output);
    if (!res.ok) {
      info.textContent = `Failed after ${ms} ms.`;
      output.append(renderError(res));
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
      output.append(h("div", { class: "results-wrap", tabindex: "0", role: "region", "aria-label": "Query results" }, h("table", { class: "results-table", id: "sparql-results" },
        h("thead", {}, h("tr", {}, vars.map((v) => h("th", { scope: "col" }, `?${v}`)))),
        h("tbody", {}, rows.map((b) => h("tr", {}, vars.map((v) => h("td", {}, cell(b[v])))))))));
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

  function cell(term) {
    if (!term) return "";
    if (term.type === "uri") return h("a", { href: entityHref(term.value), target: "_blank", rel: "noopener", title: term.value }, compact(term.value));
    return term.value;
  }

  function compact(iri) {
    const prefixes = { "https://w3id.org/dlom#": "dlom:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:", "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
      "http://www.w3.org/ns/prov#": "prov:", "https://w3id.org/dlom/id/": "id:" };
    for (const [ns, p] of Object.entries(prefixes)) if (iri.startsWith(ns)) return p + iri.slice(ns.length);
    return iri;
  }
  return { show() { if (editor) editor.refresh(); } };
}

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
    editor = new window.Yasqe(holder, { value: initial, persistenceId: null, autocompleters: ["variables"], showQueryButton: false,
      resizeable: true, editorHeight: "280px", createShareableLink: null, consumeShareLink: null });
    editor.getInputField().setAttribute("aria-label", "SPARQL query");
    editor.getInputField().id = "sparql-text";
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

  async function execute() {
    run.disabled = true;
    info.textContent = "Running…";
    const started = performance.now();
    const res = await api("/sparql", { method: "POST", body: new URLSearchParams({ query: getQuery() }),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      accept: "application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1" });
    run.disabled = false;
    const ms = Math.round(performance.now() - started);
    clear(output);
    if (!res.ok) {
      info.textContent = `Failed after ${ms} ms.`;
      output.append(h("div", { class: "notice bad", role: "alert", id: "sparql-error" }, h("strong", {}, `Query error (${res.status}): `),
        h("pre", { class: "raw" }, res.data ? errorsOf(res).map((e) => e.message).join("\n") : res.text)));
      return;
    }
    if (res.data && res.data.head && res.data.results) {
      const vars = res.data.head.vars;
      const rows = res.data.results.bindings;
      info.textContent = `${rows.length} row${rows.length === 1 ? "" : "s"} in ${ms} ms.`;
      output.append(h("div", { class: "results-wrap" }, h("table", { class: "results-table", id: "sparql-results" },
        h("thead", {}, h("tr", {}, vars.map((v) => h("th", { scope: "col" }, `?${v}`)))),
        h("tbody", {}, rows.map((b) => h("tr", {}, vars.map((v) => h("td", {}, cell(b[v])))))))));
    } else if (res.data && typeof res.data.boolean === "boolean") {
      info.textContent = `ASK in ${ms} ms.`;
      output.append(h("p", { class: "notice info", id: "sparql-results" }, `Answer: ${res.data.boolean ? "yes (true)" : "no (false)"}`));
    } else {
      info.textContent = `Graph result in ${ms} ms.`;
      output.append(h("div", { class: "results-wrap" }, h("pre", { class: "raw", id: "sparql-results" }, res.text)));
    }
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

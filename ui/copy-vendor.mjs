// Copies the front-end libraries the DLOM web UI loads from ui/node_modules into api/static/vendor/
// (served at /ui/vendor/). Run by scripts/setup_ui.sh after `npm ci`; needs no network.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "api", "static", "vendor");

// [source under node_modules, name under api/static/vendor]
const files = [
  ["cytoscape/dist/cytoscape.esm.min.mjs", "cytoscape.esm.min.mjs"],
  ["cytoscape/LICENSE", "cytoscape.LICENSE.txt"],
  ["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"],
  ["chart.js/LICENSE.md", "chartjs.LICENSE.txt"],
  ["@zazuko/yasqe/build/yasqe.min.js", "yasqe.min.js"],
  ["@zazuko/yasqe/build/yasqe.min.css", "yasqe.min.css"],
  // GraphiQL at GET /graphql (api/graphql_api.py) loads these UMD builds as classic scripts; React 18's
  // umd/ builds define window.React / window.ReactDOM, which graphiql.min.js expects.
  ["react/umd/react.production.min.js", "graphiql/react.production.min.js"],
  ["react/LICENSE", "graphiql/react.LICENSE.txt"],
  ["react-dom/umd/react-dom.production.min.js", "graphiql/react-dom.production.min.js"],
  ["react-dom/LICENSE", "graphiql/react-dom.LICENSE.txt"],
  ["graphiql/graphiql.min.js", "graphiql/graphiql.min.js"],
  ["graphiql/graphiql.min.css", "graphiql/graphiql.min.css"],
  ["graphiql/LICENSE", "graphiql/graphiql.LICENSE.txt"],
  // Swagger UI for the API docs page, so /docs needs no CDN either (FastAPI's default page loads it from
  // cdn.jsdelivr.net). swagger-ui-dist depends on @scarf/scarf, an install-time analytics script;
  // "scarfSettings": {"enabled": false} in ui/package.json opts this project out of it.
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui/swagger-ui.LICENSE.txt"],
  ["swagger-ui-dist/NOTICE", "swagger-ui/swagger-ui.NOTICE.txt"],
];

mkdirSync(vendor, { recursive: true });
let missing = 0;
for (const [from, to] of files) {
  const source = join(modules, from);
  if (!existsSync(source)) {
    console.error(`missing ${source} (did npm ci run in ui/?)`);
    missing += 1;
    continue;
  }
  const target = join(vendor, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  console.log(`copied ${from} -> api/static/vendor/${to}`);
}
process.exit(missing ? 1 : 0);

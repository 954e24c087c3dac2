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
  copyFileSync(source, join(vendor, to));
  console.log(`copied ${from} -> api/static/vendor/${to}`);
}
process.exit(missing ? 1 : 0);

#!/usr/bin/env bash
# Installs the web UI's front-end libraries (Cytoscape.js, Chart.js, YASQE, GraphiQL with React, Swagger UI) from the npm registry into
# ui/node_modules (exact versions from ui/package-lock.json) and copies the files the UI loads into
# api/static/vendor/. Needs Node.js >= 18 and npm. Safe to re-run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/ui"
if ! command -v npm >/dev/null 2>&1; then
  echo "setup_ui: npm is not installed (install Node.js >= 18, e.g. apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
node copy-vendor.mjs
echo "setup_ui: front-end libraries installed in api/static/vendor/"

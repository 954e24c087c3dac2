# Two entry points for a fresh machine: `make run` (the service with UI on the embedded store, with the
# shipped knowledge graph) and `make test` (the whole test suite). Both set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI_STAMP := api/static/vendor/.installed

.PHONY: setup setup-ui setup-browser run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $(STAMP)

# Front-end libraries from npm (exact versions in ui/package-lock.json), copied into api/static/vendor/.
$(UI_STAMP): ui/package.json ui/package-lock.json ui/copy-vendor.mjs
	bash scripts/setup_ui.sh
	touch $(UI_STAMP)

# The GraphQL over HTTP audit (graphql-http, exact versions in conformance/package-lock.json).
CONFORMANCE_STAMP := conformance/node_modules/.installed
$(CONFORMANCE_STAMP): conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund
	touch $(CONFORMANCE_STAMP)

setup: $(STAMP) $(UI_STAMP) $(CONFORMANCE_STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
setup-browser:
	bash scripts/setup_browser.sh

run: setup
	$(BIN)/dlom init
	$(BIN)/dlom serve --host 127.0.0.1 --port 8000

# Two workers, one test file each at a time: a file's module fixtures (a loaded store, a server) are built once.
test: setup setup-browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: setup
	$(BIN)/python -m benchmarks.kg_import
	$(BIN)/python -m benchmarks.kg_query1
	$(BIN)/python -m benchmarks.api_sparql

clean:
	rm -rf $(VENV) build dist *.egg-info ui/node_modules conformance/node_modules api/static/vendor

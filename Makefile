# Two entry points for a fresh machine: `make run` (the service with UI on the embedded store, with the
# shipped knowledge graph) and `make test` (the whole test suite). Both set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/dlom init
	$(BIN)/dlom serve --host 127.0.0.1 --port 8000

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks.kg_import
	$(BIN)/python -m benchmarks.kg_query1

clean:
	rm -rf $(VENV) build *.egg-info

# Two commands on a fresh machine with Python 3.11+ and make:
#   make demo   create .venv, install the package alone (pydantic, attrs), assess a bundled example
#   make test   create .venv, install the development extras and the npm packages of the browser
#               test, run every check (lint, types, tests, docs, notebooks)
# Also: make terminology (fasciculate's FHIR CodeSystems and ValueSets into build/terminology.json),
# make docs (build the site into docs/_build/html), make notebooks (re-run examples/*.ipynb
# and store their outputs, to commit), make generate (rewrite the code generated from the knowledge
# base after changing its findings, to commit), make dist (an sdist and a wheel in dist/), make serve
# (the CDS Hooks service on 127.0.0.1:8765 with the demo configuration and keys; then run
# `.venv/bin/python examples/service/client.py` in another terminal), make bench-service (its
# latency benchmark).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per install: the package alone (demo), the build tool (dist), every extra (test).
STAMP_RUN  := $(VENV)/.installed
STAMP_DIST := $(VENV)/.installed-dist
STAMP_SERVICE := $(VENV)/.installed-service
STAMP      := $(VENV)/.installed-dev
NPM_STAMP  := node_modules/.installed
EXAMPLE ?= examples/presentations/progressive-weakness-wasting.json
NOTEBOOKS := $(wildcard examples/*.ipynb)
NBRUN     := build/notebooks
SPHINX    := $(BIN)/sphinx-build -n -W --keep-going -q -d docs/_build/doctrees

.PHONY: demo terminology cpg cpg-enumeration test lint typecheck pytest docs doctest notebooks nbtest generate bench bench-service mutation dist serve clean

# The virtual environment. It starts without pip of its own: the pip of $(PYTHON) installs into it
# (`pip --python`, pip 22.3 or newer), which keeps the demo's environment small and its install
# quick; where that pip is missing or older, the environment gets its own (ensurepip).
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fasciculate needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv --without-pip $(VENV)

# The pip that installs into .venv: $(PYTHON)'s, where it can (`pip --python`); else the
# environment's own, added by ensurepip. Worked out only when a recipe needs it.
VENV_PIP = $(shell $(PYTHON) -m pip --python $(BIN)/python --version >/dev/null 2>&1 \
	&& echo "$(PYTHON) -m pip --python $(BIN)/python" \
	|| { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >&2; \
	echo "$(BIN)/python -m pip"; })

# The package alone, editable, with its runtime dependencies (pydantic, attrs). Modules are
# compiled when first imported rather than all at install (--no-compile: seconds saved).
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(VENV_PIP) install --no-compile -e .
	@touch $@

$(STAMP_DIST): $(STAMP_RUN)
	$(VENV_PIP) install -e ".[dist]"
	@touch $@

# The CDS Hooks service's extra (Starlette, uvicorn, httpx, PyJWT with cryptography).
$(STAMP_SERVICE): $(STAMP_RUN)
	$(VENV_PIP) install -e ".[service]"
	@touch $@

# Every extra (tests, lint, docs, notebooks, proof, mutation, dist): a minute or more. The
# environment gets a current pip of its own (the tests build and install wheels with it).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	@touch $(STAMP_RUN) $(STAMP_DIST) $(STAMP_SERVICE) $@

demo: $(STAMP_RUN)
	$(BIN)/fasciculate assess $(EXAMPLE)

# The CDS Hooks service on loopback with the demo configuration and its published demo keys.
serve: $(STAMP_SERVICE)
	$(BIN)/fasciculate serve --config examples/service/demo.toml

# fasciculate's own code systems as FHIR R4 CodeSystems and ValueSets, for a terminology server.
terminology: $(STAMP_RUN)
	mkdir -p build
	$(BIN)/fasciculate terminology > build/terminology.json
	@echo "terminology: build/terminology.json"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The npm packages of the tests, exactly as package-lock.json pins them (about a minute from npm's
# cache, 360 MB in node_modules/): the SDC renderer the browser test drives
# (tests/test_fhir_renderer.py: LHC-Forms and puppeteer-core; Chromium comes from the system,
# Debian: apt-get install chromium, which .ci/run installs), and the CQL-to-ELM translator and CQL
# engine of `make cpg` and tests/test_cpg*.py. Without npm the step says so and those tests are
# skipped, except in CI.
$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --ignore-scripts && touch $@; \
	else echo "make: npm not found: tests/test_fhir_renderer.py will be skipped (install Node.js)"; fi

pytest: $(STAMP) $(NPM_STAMP)
	$(BIN)/pytest -n 2 --dist worksteal --cov --cov-report=term:skip-covered -m "not exhaustive"
	$(BIN)/pytest -n 2 --dist worksteal --no-cov -m exhaustive

# The site, with every reference checked (-n) and every warning an error (-W).
docs: $(STAMP)
	$(SPHINX) -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# The examples in the docs pages and in the docstrings they render (shares the doctree cache).
doctest: $(STAMP)
	$(SPHINX) -b doctest docs docs/_build/doctest

# Re-run the notebooks in place and store their outputs (the docs render them): commit the result.
notebooks: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider --nbmake --overwrite $(NOTEBOOKS)
	$(BIN)/python docs/_tools/notebooks.py normalise $(NOTEBOOKS)

# Execute every notebook (on copies) and fail if the outputs stored in examples/ are stale.
nbtest: $(STAMP)
	rm -rf $(NBRUN) && mkdir -p $(NBRUN) && cp -r $(NOTEBOOKS) examples/presentations examples/bulk-export $(NBRUN)/
	$(BIN)/pytest -p no:cacheprovider --nbmake --overwrite $(NBRUN)
	$(BIN)/python docs/_tools/notebooks.py check examples $(NBRUN)

test: lint typecheck docs doctest nbtest pytest

# Regenerate the code written from the knowledge base (src/fasciculate/_generated_vocab.py, the
# Finding enumeration) after changing the findings in kb/facts.toml: commit the result.
generate: $(STAMP)
	$(BIN)/python -m fasciculate._codegen

# The rule table as a computable guideline (docs/explanation/computable-guideline.md): the CQL
# generated from the knowledge base, and its ELM compiled by the reference CQL-to-ELM translator
# (@cqframework/cql, npm). Run after changing the rule table, and commit the two files;
# tests/test_cpg.py fails while they are stale.
CPG := src/fasciculate/cpg/FasciculateReferral
cpg: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m fasciculate.cpg > $(CPG).cql.tmp && mv $(CPG).cql.tmp $(CPG).cql
	node tools/cpg/translate.mjs $(CPG).cql > $(CPG).json.tmp && mv $(CPG).json.tmp $(CPG).json
	@echo "cpg: $(CPG).cql and $(CPG).json (commit both)"

# The committed ELM run by cql-execution on every combination of the exhaustive group enumeration
# (233,127; `make test` runs a stratified subset): hours of CPU, so opt-in, in chunks, resumable
# (run it again to go on; state in build/cpg-enumeration.json). CPG_WORKERS Node processes at once.
CPG_WORKERS ?= 1
cpg-enumeration: $(STAMP) $(NPM_STAMP)
	$(BIN)/python benchmarks/cpg_full_enumeration.py --workers $(CPG_WORKERS)

# Mutation testing of the evaluator code with mutmut (slow; not part of `make test`).
mutation: $(STAMP)
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_assess.py --population 1000
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_fhir.py
	$(BIN)/python benchmarks/bench_import.py --check

# The service's latency at a fixed request rate on one worker, with and without client JWTs.
bench-service: $(STAMP_SERVICE)
	$(BIN)/python benchmarks/bench_service.py

# A source distribution and a wheel in dist/ (the wheel holds src/fasciculate only).
dist: $(STAMP_DIST)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) node_modules build dist mutants .mypy_cache .pytest_cache .ruff_cache .hypothesis docs/_build docs/notebooks

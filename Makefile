# Two commands for a newcomer: `make contract` (run the contract suite, write reports/) and
# `make test` (the project's own tests, lint and types); `make check` is the fast loop. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check fast twin contract test lint types selftest serve mutants mutation anchor bench load claims clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

contract: $(STAMP)
	$(BIN)/eicontract run $(ARGS)

test: lint types selftest

# the fast loop: lint, types and every test not marked slow (about a minute on 2 cores; docs/CI.md)
check: lint types fast

fast: $(STAMP)
	$(BIN)/pytest -n 2 -m "not slow" -q $(PYTEST_ARGS)

# the gate against the twin (tests/twin: a server written from the documents alone) at five seeds;
# ARGS="--regressions all" adds its author's frozen regressions (docs/KILL-MATRIX.md)
twin: $(STAMP)
	$(BIN)/python scripts/twin.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check eicontract tests scripts conftest.py

types: $(STAMP)
	$(BIN)/mypy

selftest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

serve: $(STAMP)
	$(BIN)/eicontract serve $(ARGS)

# the kill matrix: the quick gate against every fault and legal variant (also part of `make test`)
mutants: $(STAMP)
	$(BIN)/eicontract mutants $(ARGS)

# mutation testing: cosmic-ray mutants of the reference server against the quick gate, each under a
# configuration whose coverage reaches its line; survivors triaged by differential replay (hours in full;
# a seeded sample: make mutation ARGS="--sample 40 --seed 1"); reports/mutation.json, docs/MUTATION.md
mutation: $(STAMP)
	$(BIN)/eicontract mutation --replay-survivors $(ARGS)

# docs/CLAIMS.md from contracts/claims.yaml (tests/contract_data/test_claims.py checks it is fresh)
claims: $(STAMP)
	$(BIN)/python scripts/claims.py $(ARGS)

# the schemathesis CLI per fault, plain and with our hooks (SCHEMATHESIS_HOOKS=eicontract.schemathesis), for
# docs/KILL-MATRIX.md; by default the faults our hooks judge (~1 h on one core), ARGS="--faults all" for every fault
anchor: $(STAMP)
	$(BIN)/python scripts/anchor_comparison.py $(ARGS)

# measurements for docs/PERFORMANCE.md and reports/bench.json (includes the kill matrix: ~15 min);
# e.g. make bench ARGS="--skip kill_matrix" or ARGS="--only checked,schemathesis"
bench: $(STAMP)
	$(BIN)/python scripts/bench.py $(ARGS)

# the reference server under bounded loopback load, then the schemathesis negative phase (reports/load.json)
load: $(STAMP)
	$(BIN)/python scripts/load.py --doc docs/PERFORMANCE.md $(ARGS)

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.html

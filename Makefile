# Every target builds the virtual environment it needs; a fresh machine needs only python3.11 and make.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-thorough lint reproduce bench mutants mutation clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m handnet.fast
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m handnet demo --out out/demo
	@echo
	@echo "== handnet check examples/per_sample/adapter.py  (a course-style network with a planted bug)"
	@$(BIN)/python -m handnet check examples/per_sample/adapter.py --steps 4; code=$$?; \
	  if [ $$code -ne 1 ]; then echo "expected the check to find the planted bug (exit 1), got $$code" >&2; exit 1; fi

test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -n 2

test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check handnet reference tests planted_bugs examples docs/experiments tools
	$(BIN)/mypy

reproduce: $(STAMP)
	$(BIN)/python -m handnet reproduce --out out/reproduce

bench: $(STAMP)
	$(BIN)/python -m handnet bench

# Planted backprop bugs (planted_bugs/catalogue.toml), each run against the suite in a temporary copy.
mutants: $(STAMP)
	$(BIN)/python planted_bugs/run.py

# Machine-made mutants (mutmut, configured in pyproject.toml) of the math modules, the suite in the
# ci profile; not in CI (about 45 minutes on 2 idle cores).  docs/mutation.md records the score.
# MUTATION_CHILDREN=1 leaves a core to others on a shared machine; MUTANTS='handnet.schedule.*'
# runs one module (mutmut's names) against a stats run kept in mutants/.
MUTATION_CHILDREN ?= 2
MUTANTS ?=
mutation: $(STAMP)
	@if [ -z "$(MUTANTS)" ]; then rm -rf mutants; fi
	HYPOTHESIS_PROFILE=ci $(BIN)/mutmut run --max-children $(MUTATION_CHILDREN) $(MUTANTS)
	$(BIN)/python tools/mutation_score.py

clean:
	rm -rf $(VENV) out mutants .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

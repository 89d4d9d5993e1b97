# Two commands on a fresh machine: `make run` and `make test`. Both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tmt $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check tmt_tui tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: test
	$(BIN)/ruff format --check tmt_tui tests bench
	$(BIN)/mypy tmt_tui

bench: $(STAMP)
	@for f in bench/[a-z]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# The long variants of every suite, then one table of what they did (tests/support/tally.py).
TALLY := $(CURDIR)/.soak-tally.jsonl
soak: $(STAMP)
	rm -f $(TALLY)
	-TMT_TALLY=$(TALLY) $(BIN)/pytest -m soak -q tests
	-TMT_TALLY=$(TALLY) TMT_FUZZ_EXAMPLES=5000 $(BIN)/pytest -q tests/fuzz
	$(BIN)/python -m tests.support.tally $(TALLY)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

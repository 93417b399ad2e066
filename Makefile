# The two commands of the README: `make up` (set up and run Iris) and `make test` (set up and
# run every test). Both are idempotent: a second run reuses the virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: up demo test test-unit test-integration lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,postgres]'
	touch $(STAMP)

up: $(STAMP)
	./scripts/system-deps.sh runtime
	$(BIN)/iris up $(ARGS)

demo: ARGS += --demo
demo: up

test: $(STAMP)
	./scripts/system-deps.sh test
	$(BIN)/ruff check iris tests bench
	$(BIN)/mypy iris
	pg_url=$$(./scripts/postgres.sh) && IRIS_TEST_DATABASE_URL=$$pg_url $(BIN)/pytest -ra --durations=25 $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/pytest -ra tests/unit

lint: $(STAMP)
	$(BIN)/ruff check iris tests bench
	$(BIN)/mypy iris

bench: $(STAMP)
	./scripts/system-deps.sh test
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts

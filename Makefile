# Two commands on a fresh machine with Python 3.11+ and make: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format docs lock bench bench-writes docker-test clean

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Juriscope needs Python 3.11 or newer (PYTHON=$(PYTHON))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

# Dependencies come pinned, with hashes, from the lock files (`make lock` writes them from
# pyproject.toml); the package itself is installed on top, without resolving anything.
$(VENV)/.installed: pyproject.toml requirements.lock $(VENV)/.python-ok
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements-dev.lock $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

lock:  ## pin every dependency with hashes (needs uv: pip install uv)
	uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--quiet -o requirements.lock
	uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --quiet -o requirements-dev.lock

run: $(VENV)/.installed  ## start the API on http://$(HOST):$(PORT) (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/juriscope serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev  ## run the whole suite (embedded PostgreSQL unless TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/mypy app tests

format: $(VENV)/.installed-dev
	$(BIN)/ruff format app tests migrations bench
	$(BIN)/ruff check --fix app tests migrations bench

docs: $(VENV)/.installed-dev  ## regenerate the generated table of docs/methodology.md from the API
	UPDATE_DOCS=1 $(BIN)/python -m pytest -q tests/scenarios/test_methodology_doc.py tests/coverage/test_dataset_doc.py tests/indices/test_methodology_ranking.py

bench: $(VENV)/.installed-dev  ## the load benchmark (minutes; see bench/README.md)
	$(BIN)/python -m bench.run

bench-writes: $(VENV)/.installed-dev  ## single writes at the bundled and the benchmark scale
	$(BIN)/python -m bench.writes

docker-test:  ## build the image and run docker-compose.yml for real (root; see docker/test.sh)
	bash docker/test.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

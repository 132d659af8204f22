# One virtual environment, made on first use. `make demo` and `make test` are the README's two commands.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rsuper-installed
DEMO_OUT ?= demo-out

.PHONY: install demo test lint format typecheck layers clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The CPU wheel of torch 2.13.0 first (an unpinned torch would pull a multi-GB CUDA build).
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[api,train,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/rsuper demo --out $(DEMO_OUT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

test: lint typecheck layers
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache

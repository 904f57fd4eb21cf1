# Thin targets; the logic lives in scripts/.
.DEFAULT_GOAL := help
.PHONY: help up down test lint fmt migrate bench reliability

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

up: ## Install/start Postgres, RabbitMQ, Redis; build; migrate; start the six services; print URL and KEY
	@scripts/up.sh

down: ## Stop what `make up` started
	@scripts/down.sh

test: ## Run the whole test suite against real Postgres, RabbitMQ and Redis
	@scripts/test.sh

lint: ## Check formatting and run clippy with warnings denied
	@scripts/lint.sh

reliability: ## The reliability suite's full profile (bad input, tenant isolation, outbound abuse, receiver, broker, database and service outages, 5 minutes of load); see docs/RELIABILITY.md
	@scripts/reliability.sh

bench: ## Run the benchmarks (release build); results go to docs/BENCHMARKS.md
	@scripts/bench.sh

fmt: ## Format the code
	@cargo fmt --all

migrate: ## Apply every service's migrations (uses the release binaries of `make up`)
	@scripts/up.sh migrate-only

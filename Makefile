# OpenDTS. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
STATICCHECK_VERSION := v0.7.0
GOBIN := $(shell $(GO) env GOPATH)/bin

.PHONY: help demo test test-short lint build bench infra-up infra-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/dts
	$(GO) build -o bin/dts ./cmd/dts

demo: build ## start MariaDB and Kafka if absent, run a task, make changes, print the messages
	bash scripts/demo.sh

test: ## lint, then start MariaDB and Kafka if absent and run every test (unit + integration)
	bash scripts/test.sh

test-short: ## unit tests only (no servers)
	$(GO) test -short ./...

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l cmd internal)" || { gofmt -l cmd internal; echo "gofmt: the files above are not formatted"; exit 1; }
	$(GO) vet ./...
	@test -x $(GOBIN)/staticcheck || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

bench: build ## start the servers if absent and print the benchmark table
	bash scripts/bench.sh

infra-up: ## install and start MariaDB and Kafka (idempotent)
	bash scripts/infra.sh up

infra-down: ## stop the MariaDB and Kafka this project started
	bash scripts/infra.sh down

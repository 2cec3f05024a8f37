# Observatorio. `make run` and `make test` work on a fresh machine: they
# install what they need first (libchdb.so from the npm registry, Go modules).

GO        ?= go
BIN       := bin/observatory
CHDB_LIB  := .deps/chdb/libchdb.so
PKGS      := ./...

.PHONY: run test deps build vet bench clean fmt

DEMO_DIR  := var/demo

## run: the observatory on the embedded engine with demo data, on http://localhost:8080.
## The first time it writes the demo's source files (var/demo) and the ETL loads them
## before the site opens (about a minute); later starts reuse the warehouse (var/warehouse).
run: deps build
	@test -f $(DEMO_DIR)/observatorio.yaml || $(BIN) demo generate --out $(DEMO_DIR)
	$(BIN) serve --config $(DEMO_DIR)/observatorio.yaml

## test: unit and integration tests, on embedded chDB and on a throwaway ClickHouse server
test: deps
	$(GO) vet $(PKGS)
	./scripts/test.sh

## deps: libchdb.so (pinned, integrity-checked) and Go modules
deps: $(CHDB_LIB)
	$(GO) mod download

$(CHDB_LIB): scripts/install-chdb.sh
	./scripts/install-chdb.sh

build:
	$(GO) build -o $(BIN) ./cmd/observatory

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin var

# bakegen: generate docker-bake.hcl from bake/ and build the images with docker buildx bake.
#   make bake BAKE_ARGS=--push        generate both files, then build (and push) every target
#   make bake-apps [ENV=prd]          only the apps (the daily path), or the apps of one env
#   make bake-base                    only the base images (when their definitions change)
#   make print                        what bake would build (docker buildx bake --print)
#   make generate / make check        rewrite / verify the committed docker-bake.hcl
#   make examples                     rewrite examples/repos/ with bakegen init
#   make lock / make upgrade          refresh bake/bakegen-lock.json (checksums) from go.dev
#                                     (upgrade: move each Go version to its newest patch first)
#   make test / make lint / make bench / make bench-build
#   make builder NODES="ssh://a=linux/amd64 ssh://b=linux/arm64" [BUILDER_DRIVER=remote] [DRY_RUN=1]

PYTHON   ?= python3
VENV     ?= .venv
BAKEGEN  ?= $(VENV)/bin/bakegen
# What provides $(BAKEGEN): the venv below; empty when BAKEGEN is given from outside.
BAKEGEN_DEP ?= $(VENV)/.installed
BAKEFILE ?= docker-bake.hcl
META     ?= .bakegen/meta.hcl
BAKE_ARGS ?=
TARGETS  ?=
ENV      ?=
BUILDER  ?= bakegen
BUILDER_DRIVER ?= docker-container
NODES    ?=
DRY_RUN  ?=

.PHONY: all install generate check meta files bake bake-apps bake-base print lock upgrade test lint bench bench-build \
        examples builder clean buildx-available

all: check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

generate: $(BAKEGEN_DEP)
	$(BAKEGEN) -o $(BAKEFILE)

check: $(BAKEGEN_DEP)
	$(BAKEGEN) --check $(BAKEFILE)

meta: $(BAKEGEN_DEP)
	@mkdir -p $(dir $(META))
	$(BAKEGEN) meta -o $(META)

lock: $(BAKEGEN_DEP)
	$(BAKEGEN) lock
	$(BAKEGEN) -o $(BAKEFILE)

upgrade: $(BAKEGEN_DEP)
	$(BAKEGEN) lock --upgrade
	$(BAKEGEN) -o $(BAKEFILE)

buildx-available:
	@docker buildx version >/dev/null 2>&1 || { \
	  echo "make: docker buildx is not available here. Install Docker with the buildx plugin" >&2; \
	  echo "      (https://docs.docker.com/build/install-buildx/), or inspect the files with" >&2; \
	  echo "      'make generate meta' and read $(BAKEFILE) and $(META)." >&2; exit 1; }

# Both files from one bakegen process, then bake.
files: $(BAKEGEN_DEP)
	@mkdir -p $(dir $(META))
	$(BAKEGEN) -o $(BAKEFILE) meta -o $(META)

bake: files buildx-available
	docker buildx bake -f $(BAKEFILE) -f $(META) $(BAKE_ARGS) $(TARGETS)

bake-apps:
	$(MAKE) bake TARGETS=$(if $(ENV),apps-$(ENV),apps)

bake-base:
	$(MAKE) bake TARGETS=base

print: files buildx-available
	docker buildx bake -f $(BAKEFILE) -f $(META) --print $(BAKE_ARGS) $(TARGETS)

test: $(BAKEGEN_DEP)
	$(VENV)/bin/python -m pytest

lint: $(BAKEGEN_DEP)
	$(VENV)/bin/ruff check bakegen tests benchmarks
	$(VENV)/bin/mypy

bench: $(BAKEGEN_DEP)
	$(VENV)/bin/python benchmarks/bench.py

bench-build: $(BAKEGEN_DEP)
	$(VENV)/bin/python benchmarks/bench_build.py

# The seed's layout as repositories (base images; two services) exactly as `bakegen init` writes it.
examples: $(BAKEGEN_DEP)
	rm -rf examples/repos/base-images/bake examples/repos/ci-demo-go/bake examples/repos/cgo-demo/bake
	cd examples/repos/base-images && $(abspath $(BAKEGEN)) init && $(abspath $(BAKEGEN)) -o docker-bake.hcl
	cd examples/repos/ci-demo-go && $(abspath $(BAKEGEN)) init --app ci-demo-go && $(abspath $(BAKEGEN)) -o docker-bake.hcl
	cd examples/repos/cgo-demo && $(abspath $(BAKEGEN)) init --app cgo-demo --cgo && $(abspath $(BAKEGEN)) -o docker-bake.hcl

builder: $(BAKEGEN_DEP)
	$(BAKEGEN) builder --name $(BUILDER) --driver $(BUILDER_DRIVER) $(if $(DRY_RUN),--dry-run) $(NODES)

clean:
	rm -rf .bakegen dist build .pytest_cache .mypy_cache .ruff_cache

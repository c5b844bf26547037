# bakegen: generate docker-bake.hcl from bake/ and build the images with docker buildx bake.
#   make bake BAKE_ARGS=--push        generate both files, then build (and push)
#   make print                        what bake would build (docker buildx bake --print)
#   make generate / make check        rewrite / verify the committed docker-bake.hcl
#   make test / make bench            the test suite / the speed figures
#   make builder NODES="ssh://a=linux/amd64 ssh://b=linux/arm64" [BUILDER_DRIVER=remote] [DRY_RUN=1]

PYTHON   ?= python3
VENV     ?= .venv
BAKEGEN  ?= $(VENV)/bin/bakegen
BAKEFILE ?= docker-bake.hcl
META     ?= .bakegen/meta.hcl
BAKE_ARGS ?=
TARGETS  ?=
BUILDER  ?= bakegen
BUILDER_DRIVER ?= docker-container
NODES    ?=
DRY_RUN  ?=

export BAKEGEN_COMMAND = make generate

.PHONY: all install generate check meta bake print test bench builder clean buildx-available

all: check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

generate: install
	$(VENV)/bin/python -m bakegen.hclcache bake
	$(BAKEGEN) -o $(BAKEFILE)

check: install
	$(BAKEGEN) --check $(BAKEFILE)

meta: install
	@mkdir -p $(dir $(META))
	BAKEGEN_COMMAND= $(BAKEGEN) meta -o $(META)

buildx-available:
	@docker buildx version >/dev/null 2>&1 || { \
	  echo "make: docker buildx is not available here. Install Docker with the buildx plugin" >&2; \
	  echo "      (https://docs.docker.com/build/install-buildx/), or inspect the files with" >&2; \
	  echo "      'make generate meta' and read $(BAKEFILE) and $(META)." >&2; exit 1; }

bake: generate meta buildx-available
	docker buildx bake -f $(BAKEFILE) -f $(META) $(BAKE_ARGS) $(TARGETS)

print: generate meta buildx-available
	docker buildx bake -f $(BAKEFILE) -f $(META) --print $(BAKE_ARGS) $(TARGETS)

test: install
	$(VENV)/bin/python -m pytest

bench: install
	$(VENV)/bin/python benchmarks/bench.py

builder: install
	$(BAKEGEN) builder --name $(BUILDER) --driver $(BUILDER_DRIVER) $(if $(DRY_RUN),--dry-run) $(NODES)

clean:
	rm -rf .bakegen dist build .pytest_cache

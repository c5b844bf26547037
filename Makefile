# bakegen's own repository. Every repository that uses bakegen runs its commands directly
# (`bakegen bake --push`, `bakegen -o docker-bake.hcl`, ...: see the README); these targets call
# them with this checkout's bakegen, and add what only this repository does (test, lint, bench,
# examples, release).
#   make bake [PUSH=1] [TARGETS="base apps"]   build (and push) what docker-bake.hcl says; what the
#                                              registry already has with the same inputs is only tagged
#   make bake-apps [ENV=prd] / make bake-base   the apps (of one env) / the base images
#   make print                                 what bake would build
#   make load APP=ci-demo-go-dev               one app for this machine, into the local image store
#   make generate / make check                 rewrite / verify the committed docker-bake.hcl
#   make meta                                  .bakegen/meta.hcl, to run docker buildx bake by hand
#   make lock / make upgrade                   refresh bake/bakegen-lock.json from go.dev
#   make examples                              rewrite examples/repos/ with bakegen init
#   make test / make lint / make coverage / make bench / make bench-build [BENCH_ARGS="--rounds 1"] / make release
#   make builder NODES="ssh://a=linux/amd64 ssh://b=linux/arm64" [BUILDER_DRIVER=remote] [DRY_RUN=1]

PYTHON   ?= python3
VENV     ?= .venv
BAKEGEN  ?= $(VENV)/bin/bakegen
# What provides $(BAKEGEN): the venv below; empty when BAKEGEN is given from outside.
BAKEGEN_DEP ?= $(VENV)/.installed
BAKEFILE ?= docker-bake.hcl
META     ?= .bakegen/meta.hcl
BAKE_ARGS ?=
BENCH_ARGS ?=
TARGETS  ?=
PUSH     ?=
ENV      ?=
APP      ?=
BUILDER  ?= bakegen
BUILDER_DRIVER ?= docker-container
NODES    ?=
DRY_RUN  ?=

.PHONY: all install generate check meta bake bake-apps bake-base print load lock upgrade test lint bench bench-build coverage \
        examples release builder clean

all: check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	@touch $@

install: $(BAKEGEN_DEP)

generate: $(BAKEGEN_DEP)
	$(BAKEGEN) -o $(BAKEFILE)

check: $(BAKEGEN_DEP)
	$(BAKEGEN) --check $(BAKEFILE)

# The per-commit file, for running docker buildx bake by hand (bake -f $(BAKEFILE) -f $(META)).
meta: $(BAKEGEN_DEP)
	$(BAKEGEN) meta -o $(META)

# bakegen bake refuses a stale $(BAKEFILE), and a target or group that does not exist.
bake: $(BAKEGEN_DEP)
	$(BAKEGEN) bake --file $(BAKEFILE) $(if $(PUSH),--push) $(BAKE_ARGS) $(TARGETS)

bake-apps: $(BAKEGEN_DEP)
	$(BAKEGEN) bake --file $(BAKEFILE) $(if $(PUSH),--push) $(BAKE_ARGS) $(if $(ENV),apps-$(ENV),apps)

bake-base: $(BAKEGEN_DEP)
	$(BAKEGEN) bake --file $(BAKEFILE) $(if $(PUSH),--push) $(BAKE_ARGS) base

print: $(BAKEGEN_DEP)
	$(BAKEGEN) bake --file $(BAKEFILE) --print $(BAKE_ARGS) $(TARGETS)

load: $(BAKEGEN_DEP)
	$(BAKEGEN) bake --file $(BAKEFILE) --load $(BAKE_ARGS) $(APP)

lock: $(BAKEGEN_DEP)
	$(BAKEGEN) lock
	$(BAKEGEN) -o $(BAKEFILE)

upgrade: $(BAKEGEN_DEP)
	$(BAKEGEN) lock --upgrade
	$(BAKEGEN) -o $(BAKEFILE)

test: $(BAKEGEN_DEP)
	$(VENV)/bin/python -m pytest

lint: $(BAKEGEN_DEP)
	$(VENV)/bin/ruff check bakegen tests benchmarks
	$(VENV)/bin/mypy

bench: $(BAKEGEN_DEP)
	$(VENV)/bin/python benchmarks/bench.py
	$(VENV)/bin/python benchmarks/bench_apps.py

# The fast tests' coverage of the modules that decide what a build does (subprocesses included).
coverage: $(BAKEGEN_DEP)
	rm -rf .coverage && mkdir .coverage
	$(VENV)/bin/python -m coverage run -m pytest -q -m "not slow"
	$(VENV)/bin/python -m coverage combine -q
	$(VENV)/bin/python -m coverage report -m --include='bakegen/bakeplan.py,bakegen/registry.py,bakegen/keys.py,bakegen/commands/bake.py,bakegen/pipeline.py'

# The seed's scripts against bakegen on the BuildKit harness (scripts/buildkit-harness up): the team's
# sequences, 3 rounds, then the warm one-line change taken apart (BENCH_ARGS="--rounds 1 --parts seq4").
bench-build: $(BAKEGEN_DEP)
	$(VENV)/bin/python benchmarks/bench_build.py $(BENCH_ARGS)

# The seed's layout as repositories (base images; two services) exactly as `bakegen init` writes it.
examples: $(BAKEGEN_DEP)
	rm -rf examples/repos/base-images/bake examples/repos/ci-demo-go/bake examples/repos/cgo-demo/bake
	cd examples/repos/base-images && $(abspath $(BAKEGEN)) init && $(abspath $(BAKEGEN)) -o docker-bake.hcl
	cd examples/repos/ci-demo-go && $(abspath $(BAKEGEN)) init --app ci-demo-go && $(abspath $(BAKEGEN)) -o docker-bake.hcl
	cd examples/repos/cgo-demo && $(abspath $(BAKEGEN)) init --app cgo-demo --cgo && $(abspath $(BAKEGEN)) -o docker-bake.hcl

# A release: the version in bakegen/__init__.py, a clean tree whose HEAD is tagged v<version>, the
# tag pushed to $(RELEASE_REMOTE) (teams pin it there: pre-commit's rev, pip's git+...@v<version>),
# then the wheel and sdist in dist/ (upload them to the team's package index: README, "Install").
# Refused, building nothing, when any of it is missing.
RELEASE_REMOTE ?= origin

release: $(BAKEGEN_DEP)
	@version=$$(sed -n 's/^__version__ = "\(.*\)"$$/\1/p' bakegen/__init__.py); tag="v$$version"; \
	test -n "$$version" || { echo "make: bakegen/__init__.py has no __version__" >&2; exit 1; }; \
	test -z "$$(git status --porcelain)" || { echo "make: the tree has uncommitted changes" >&2; exit 1; }; \
	head=$$(git rev-parse HEAD); \
	here=$$(git rev-parse -q --verify "refs/tags/$$tag^{commit}") || { \
	  echo "make: there is no tag $$tag: tag the release and push the tag first:" \
	       "git tag -a $$tag -m 'bakegen $$version' && git push $(RELEASE_REMOTE) $$tag" >&2; exit 1; }; \
	test "$$here" = "$$head" || { echo "make: $$tag is commit $$here, not HEAD ($$head): a released version" \
	  "never moves; raise __version__ in bakegen/__init__.py for a new release" >&2; exit 1; }; \
	there=$$(git ls-remote --tags "$(RELEASE_REMOTE)" "refs/tags/$$tag" "refs/tags/$$tag^{}") || { \
	  echo "make: cannot read the tags of $(RELEASE_REMOTE) (RELEASE_REMOTE=... names another remote)" >&2; exit 1; }; \
	there=$$(echo "$$there" | awk '{print $$1}' | tail -n 1); \
	test -n "$$there" || { echo "make: $$tag is not on $(RELEASE_REMOTE), where teams pin it:" \
	  "git push $(RELEASE_REMOTE) $$tag" >&2; exit 1; }; \
	test "$$there" = "$$head" || { echo "make: $$tag on $(RELEASE_REMOTE) is commit $$there, not HEAD ($$head)" >&2; \
	  exit 1; }; \
	rm -rf dist && $(VENV)/bin/python -m build --outdir dist . && ls dist

builder: $(BAKEGEN_DEP)
	$(BAKEGEN) builder --name $(BUILDER) --driver $(BUILDER_DRIVER) $(if $(DRY_RUN),--dry-run) $(NODES)

clean:
	rm -rf .bakegen dist build .pytest_cache .mypy_cache .ruff_cache

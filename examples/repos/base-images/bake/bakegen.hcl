# Project settings of every image bakegen generates (written by `bakegen init`; edit freely).
# Reference: https://git.example.com/ops/bakegen#definitions (the README's "Definitions").

# Registry host and optional path prefix of every tag; the committed bake file keeps it as the
# REGISTRY variable, so `REGISTRY=localhost:5000 docker buildx bake ...` overrides it.
registry = "registry.example.com"

# OCI labels on every image.
authors = ""
source  = ""

# Default platforms of every image; an image may narrow them.
platforms = ["linux/amd64", "linux/arm64"]

# Where apt downloads Debian packages (replaces deb.debian.org in the base images' sources).
debian_mirror = "http://deb.debian.org"

# The branches that publish: base images are pushed only from them, and apps' envs (but the
# first, built from every branch) and `latest` come from them.
main_branches = ["main", "master"]

# A shared registry cache (<image>-bakegen:buildcache beside each image) for CI runners and laptops.
registry_cache = false

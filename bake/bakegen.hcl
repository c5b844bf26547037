# Project-wide settings for every image bakegen generates (see README "Definitions").

# Registry host and optional path prefix of every tag; the committed bake file keeps it as the
# REGISTRY variable, so `REGISTRY=localhost:5000 docker buildx bake ...` overrides it.
registry = "harbor.bdser.cc"

# OCI labels on every image.
authors = "ops@bdser.cc"
source  = "https://git.bdser.cc/ops/dockerfiles-base"

# Default platforms of every image; an image may narrow them.
platforms = ["linux/amd64", "linux/arm64"]

# Off by default. The seed built with the host network and pinned hosts of its own private
# network; set them here if yours needs them:
#   network     = "host"    # bake then needs: docker buildx bake --allow network.host
#   extra_hosts = { "goproxy.example.com" = "10.0.0.2" }
network     = ""
extra_hosts = {}

# Where apt downloads Debian packages (replaces deb.debian.org in the base image's sources).
debian_mirror = "http://deb.debian.org"

# A shared registry cache for every target: cache-from and cache-to (mode=max) a
# <image>-bakegen:buildcache ref beside each image, so CI runners and developers share layers.
# Also --registry-cache on the command line.
registry_cache = false

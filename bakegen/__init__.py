"""bakegen: image definitions in, a reviewable docker-bake.hcl out."""

__version__ = "0.3.0"

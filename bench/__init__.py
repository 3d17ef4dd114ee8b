"""Louzu's benchmark suite: `make bench` or `.venv/bin/python -m bench` (see docs/benchmarks.md)."""

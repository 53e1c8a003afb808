"""Benchmarks: scripts that print figures (no assertions). See bench/README.md."""

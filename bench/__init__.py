"""Benchmarks of leftovers (performance is measured here, never asserted in tests)."""

"""Helpers for tests and benchmarks elsewhere (viewer test harnesses): small real models, built here."""

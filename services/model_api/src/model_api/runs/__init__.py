"""Batch-test runs: the pure test, its metrics, the run store and its routes."""

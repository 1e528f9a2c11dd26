"""Benchmarks (`make bench`): each module compares this product with the course's way in one run."""

"""Helpers the test folders (and the UI benchmark) share, imported by name: ``tests.support.x``.

The repository root is on pytest's ``pythonpath`` (pyproject.toml), and ``python -m bench`` runs
from the root, so no test changes the import path or loads a helper from its file.
"""

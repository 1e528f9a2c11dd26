"""The test suite; a package so that ``tests.support`` (shared helpers) imports by name."""

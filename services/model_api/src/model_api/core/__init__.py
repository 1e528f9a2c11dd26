"""Cross-cutting pieces: the error shape, files, time, request checks, metrics, security."""

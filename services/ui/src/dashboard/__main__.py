"""``python -m dashboard``: serve the dashboard with waitress (a light production WSGI server)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys

from iris_common.logs import configure
from waitress import serve

from dashboard.app import create_app
from dashboard.config import get_settings

_M_ARENA_MAX = -8  # glibc mallopt parameter


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each server thread its own malloc arena; the fragmentation alone costs tens of
    MB of RSS. This process is I/O bound (it waits on model_api), so two arenas are plenty."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)


def main() -> None:
    _limit_malloc_arenas()
    settings = get_settings()
    configure("dashboard")
    app = create_app()
    logging.getLogger("dashboard").info(
        "dashboard on http://%s:%d (model_api at %s)",
        settings.host,
        settings.ui_port,
        settings.api_url,
    )
    serve(
        app.server,
        host=settings.host,
        port=settings.ui_port,
        threads=settings.server_threads,
        ident="iris-dashboard",
    )


if __name__ == "__main__":
    main()

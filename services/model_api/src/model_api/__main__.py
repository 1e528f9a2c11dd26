"""``model-api`` / ``python -m model_api``: serve the API with uvicorn on the configured port."""

from __future__ import annotations

import uvicorn
from iris_common.logs import configure

from model_api.app import create_app
from model_api.config import get_settings


def main() -> None:
    settings = get_settings()
    configure("model_api")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.api_port,
        log_config=None,  # keep the shared JSON format (iris_common.logs)
        access_log=False,  # observability.RequestContextMiddleware logs each request, token-free
    )


if __name__ == "__main__":
    main()

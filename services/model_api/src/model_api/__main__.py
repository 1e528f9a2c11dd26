"""``model-api`` / ``python -m model_api``: serve the API with uvicorn on the configured port."""

from __future__ import annotations

import logging

import uvicorn

from model_api.app import create_app
from model_api.config import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.api_port, log_level="info")


if __name__ == "__main__":
    main()

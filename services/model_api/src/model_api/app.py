"""The FastAPI application factory (``create_app``) and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from model_api.config import ApiSettings, get_settings
from model_api.core import health
from model_api.core.errors import install_error_handlers
from model_api.core.observability import RequestContextMiddleware, metrics_router
from model_api.core.security import install_security
from model_api.course import routes as course
from model_api.datasets import routes as datasets
from model_api.deps import Services
from model_api.models import routes as models
from model_api.models import version_routes as versions
from model_api.retrain import routes as retrain
from model_api.runs import routes as runs
from model_api.schema import routes as schema
from model_api.scorelog import routes as scorelog_routes


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app; stores load at creation, the DynamoDB client opens at startup."""
    settings = settings or get_settings()
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(
        title="Iris model API",
        version="0.1.0",
        description="Datasets, models, training jobs, scoring, batch tests and their score log.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.score_log = services.scorelog  # read by the score log's own routes
    install_error_handlers(app)
    for module in (
        health,
        datasets,
        models,
        versions,
        runs,
        retrain,
        schema,
        course,
    ):
        app.include_router(module.router)
    app.include_router(scorelog_routes.records_router)
    app.include_router(metrics_router(services))
    install_security(app, settings)
    app.add_middleware(RequestContextMiddleware)  # outermost: refusals get an id and a log line
    return app

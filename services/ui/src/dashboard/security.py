"""Who may use the dashboard, and the request id it passes on to model_api.

- Login: with ``IRIS_API_TOKEN`` set (the same switch as model_api's tokens) every page asks for
  HTTP basic auth (dash-auth). Users come from ``IRIS_UI_USERS`` (``user:password,...``), else one
  user ``iris`` whose password is the first API token. Behind a reverse proxy that does its own
  login, ``IRIS_UI_AUTH=proxy`` turns this off (see the README).
- Host allow-list and cross-site refusal, as model_api does (``iris_common.webguard``): a page on
  another site cannot drive the dashboard's callbacks, and DNS rebinding gets 400.
- Request ids: each request gets one (or keeps the caller's ``X-Request-ID``); it is on every log
  line and on every call to model_api, so one id follows a click across both services.
"""

from __future__ import annotations

import logging
import time

from dash import Dash
from flask import Flask, Response, g, jsonify, request
from iris_common.logs import REQUEST_ID_HEADER, new_request_id, reset_request_id, set_request_id
from iris_common.webguard import cross_site_refusal, host_allowed

from dashboard.config import UiSettings

log = logging.getLogger("dashboard.access")


def install(app: Dash, settings: UiSettings) -> None:
    """Add the guards, the login (when on) and the request-id hooks to ``app``'s Flask server."""
    server: Flask = app.server
    _install_request_context(server)
    _install_guards(server, settings)
    server.add_url_rule("/health", "health", lambda: {"status": "ok"})  # probes need no login
    users = settings.ui_user_table()
    if users:
        import dash_auth

        dash_auth.BasicAuth(app, users, public_routes=["/health"])


def _install_request_context(server: Flask) -> None:
    @server.before_request
    def _start() -> None:
        g.request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_id_token = set_request_id(g.request_id)
        g.started = time.perf_counter()

    @server.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1e3, 2),
            },
        )
        return response

    @server.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            reset_request_id(token)


def _install_guards(server: Flask, settings: UiSettings) -> None:
    hosts = settings.allowed_host_names
    origins = settings.cors_origin_list

    def _refuse(status: int, code: str, message: str) -> tuple[Response, int]:
        return jsonify({"error": {"code": code, "message": message, "details": None}}), status

    @server.before_request
    def _guard() -> tuple[Response, int] | None:
        host = request.headers.get("Host")
        if not host_allowed(host, hosts):
            return _refuse(400, "host_not_allowed", f"Host {host!r} is not served here")
        why = cross_site_refusal(
            request.method,
            request.headers.get("Origin"),
            request.headers.get("Sec-Fetch-Site"),
            host,
            origins,
        )
        if why:
            return _refuse(403, "cross_site_refused", why)
        return None

"""The navbar's live readiness badge for model_api (``GET /health/ready``)."""

from __future__ import annotations

from dash import html

from dashboard.api import ApiClient, ApiError


def api_badge(client: ApiClient) -> html.Span:
    """Up (ready), degraded (the failing checks in the tooltip) or unreachable."""
    try:
        body = client.ready()
    except ApiError:
        return html.Span(
            [html.Span(className="dot dot-down"), "API unreachable"], title=client.base_url
        )
    ready = body.get("status") == "ready"
    return html.Span(
        [
            html.Span(className="dot dot-up" if ready else "dot dot-warn"),
            "API ready" if ready else "API degraded",
        ],
        title=", ".join(f"{k}: {v}" for k, v in (body.get("checks") or {}).items()),
    )

"""GET /metrics: Prometheus's text format; with FIREBELL_METRICS_TOKEN set, only for `Authorization: Bearer <it>`."""

from __future__ import annotations

from typing import Any

from bot.observability.metrics import Metrics, authorized
from bot.web import StartResponse, WSGIApp
from bot.web.responses import json_response

PATH = "/metrics"


def metrics_door(metrics: Metrics, token: str | None) -> WSGIApp:
    def answer(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
            return json_response(start_response, "401 Unauthorized", {"error": "a bearer token is required"},
                                 [("WWW-Authenticate", 'Bearer realm="firebell metrics"')])
        body, content_type = metrics.exposition()
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    return answer

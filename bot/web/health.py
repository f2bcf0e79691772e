"""GET /healthz: 200 while the database answers (503 when it does not), saying "degraded" with the reasons when Slack
work failed for good or has waited too long. The figures are the ones /metrics reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.observability.health import assess
from bot.observability.metrics import DatabaseFigures
from bot.web import StartResponse, WSGIApp
from bot.web.responses import json_response
from storage import outbox, repositories
from storage.db import Database

PATH = "/healthz"


def read_figures(db: Database) -> DatabaseFigures:
    """The outbox's backlog and the open incidents, read now (raises when the database does not answer)."""
    with db.read() as session:
        oldest = outbox.oldest_pending(session)
        return DatabaseFigures(
            outbox_pending=outbox.undelivered(session), outbox_failed=outbox.failed_count(session),
            oldest_pending_seconds=(datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0,
            open_incidents=repositories.open_counts(session))


def health_check(db: Database) -> WSGIApp:
    def answer(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            figures = read_figures(db)
        except Exception:  # any failure to answer means "not healthy"
            return json_response(start_response, "503 Service Unavailable", {"status": "database unavailable"})
        return json_response(start_response, "200 OK", assess(figures).body(figures))

    return answer

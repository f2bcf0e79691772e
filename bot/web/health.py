"""GET /healthz: 200 with the outbox's counts while the database answers, 503 when it does not."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.web.responses import json_response
from storage import outbox
from storage.db import Database

PATH = "/healthz"


def health_check(db: Database) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """The outbox's counts: Slack work still to deliver, and work that failed for good (see `firebell outbox`)."""

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            with db.read() as session:
                counts = {"pending": outbox.undelivered(session), "failed": outbox.failed_count(session)}
        except Exception:  # any failure to answer means "not healthy"
            return json_response(start_response, "503 Service Unavailable", {"status": "database unavailable"})
        return json_response(start_response, "200 OK", {"status": "ok", "outbox": counts})

    return answer

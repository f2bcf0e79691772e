"""What ``GET /healthz`` says: ok, or degraded with the reasons (the process still serves, so still 200)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.durations import format_duration
from bot.observability.metrics import DatabaseFigures

STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Health:
    status: str  # "ok" or "degraded"
    reasons: tuple[str, ...]

    def body(self, figures: DatabaseFigures) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status}
        if self.reasons:
            body["reasons"] = list(self.reasons)
        body["outbox"] = {"pending": figures.outbox_pending, "failed": figures.outbox_failed,
                          "oldest_pending_seconds": round(figures.oldest_pending_seconds, 1)}
        return body


def assess(figures: DatabaseFigures, *, stale_after: timedelta = STALE_AFTER) -> Health:
    reasons = []
    if figures.outbox_failed:
        reasons.append(f"{figures.outbox_failed} Slack delivery(ies) failed for good; `firebell outbox` lists them "
                       "and `firebell outbox retry` sends them again once the cause is fixed")
    if figures.outbox_pending and figures.oldest_pending_seconds > stale_after.total_seconds():
        waited = _human(figures.oldest_pending_seconds)
        reasons.append(f"the oldest pending Slack delivery has waited {waited} (more than "
                       f"{format_duration(stale_after)}): Slack is slow or refusing, or no replica is delivering")
    return Health("degraded" if reasons else "ok", tuple(reasons))


def _human(seconds: float) -> str:
    """``7m12s``, ``2h05m``, ``40s``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"

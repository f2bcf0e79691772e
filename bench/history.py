"""Cost of reading history as it grows: `/incident list`, `export --since 30d` and the post-incident report at
1,000 and at 100,000 stored incidents (the same 20 open incidents and 500 in the last 30 days at both sizes, so
only the history around them grows). Target: within 2x of the cost at 1,000.

    python bench/history.py [--incidents 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bot.deps import Deps
from bot.domain.postmortem import postmortem
from bot.services import incidents
from bot.slack import render
from storage import migrate
from storage import repositories as repo
from storage.db import Database
from storage.models import IncidentCounter, IncidentRow, TimelineEventRow

TEAM = "T0BENCH"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def seed(db: Database, count: int) -> None:
    """``count`` incidents: 20 open, 500 declared within 30 days, the rest resolved over the two years before."""
    rows, events = [], []
    for number in range(1, count + 1):
        recent = number > count - 500
        declared = NOW - (timedelta(days=29 * (count - number) / 500) if recent else
                          timedelta(days=31 + 700 * (count - 500 - number) / max(count - 500, 1)))
        is_open = number > count - 20
        rows.append({"id": number, "team_id": TEAM, "number": number, "title": f"incident {number}", "description": "",
                     "severity": "sev3", "status": "investigating" if is_open else "resolved",
                     "declared_by": "U0A", "commander": "U0A", "declared_at": declared,
                     "resolved_at": None if is_open else declared + timedelta(hours=2), "channel_id": f"C{number:09d}",
                     "root_cause_category": None if is_open else "software-bug"})
        events += [{"incident_id": number, "at": declared + timedelta(minutes=m), "kind": kind, "actor": "U0A",
                    "text": kind} for m, kind in ((0, "declared"), (5, "acknowledged"), (120, "resolved"))]
    with db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(IncidentRow), rows[start:start + 5000])
        for start in range(0, len(events), 15000):
            session.execute(insert(TimelineEventRow), events[start:start + 15000])
        session.add(IncidentCounter(team_id=TEAM, last_number=count))


def timed(call, repeat: int) -> float:  # noqa: ANN001
    call()
    began = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - began) / repeat


def costs(count: int, tmp: Path) -> dict[str, float]:
    db = Database.from_url(f"sqlite:///{tmp / f'history-{count}.db'}")
    migrate.upgrade(db.engine)
    seed(db, count)
    deps = Deps(config=None, db=db, slack=None, background=None, team_id=TEAM, bot_user_id="U0BOT",  # type: ignore[arg-type]
                clock=lambda: NOW)

    def list_open() -> None:
        render.incident_list(incidents.open_incidents(deps, TEAM))

    def report() -> None:
        with db.read() as session:
            postmortem(repo.find_incidents_by_number(session, count - 100, TEAM)[0])

    result = {"/incident list": timed(list_open, 50), "export --since 30d": timed(
        lambda: incidents.export(deps, timedelta(days=30)), 5), "post-incident report": timed(report, 50)}
    db.dispose()
    return result


def measure_history(large: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = costs(1000, Path(tmp)), costs(large, Path(tmp))
    return [f"{name + f' @{large // 1000}k':34}{big[name] * 1000:8.1f}{'':8}{small[name] * 1000:8.1f}{'':8}  "
            f"{big[name] / small[name]:.2f}x the cost at 1k (target 2x)" for name in small]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    print("\n".join(measure_history(parser.parse_args().incidents)))

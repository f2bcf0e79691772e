"""The report's figures as short phrases, shared by the terminal table and the Slack answer. Pure."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import humanize
from bot.domain.kpi import Compliance, Stats

CLOCK_NAMES = {"ack": "time to acknowledge", "resolve": "time to resolve", "update": "status updates"}


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return "0s"
    return humanize.duration(timedelta(seconds=round(value)))


def figure(values: Stats) -> str:
    """``median 4m 30s · p90 12m · mean 6m (n=14)``; ``no data`` when nothing was measured."""
    if values.count == 0:
        return "no data"
    return (f"median {seconds(values.median)} · p90 {seconds(values.p90)} · mean {seconds(values.mean)} "
            f"(n={values.count})")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%".replace(".0%", "%")


def compliance(result: Compliance) -> str:
    """``92% met (23 of 25; 1 still running)``."""
    judged = result.met + result.breached
    if judged == 0:
        return "no data" + (f" ({result.running} running)" if result.running else "")
    running = f"; {result.running} still running" if result.running else ""
    return f"{percent(result.compliance)} met ({result.met} of {judged}{running})"

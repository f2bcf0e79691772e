"""How an incident's status and severity may change. Pure functions of the current state."""

from __future__ import annotations

from typing import Literal

from bot.domain.errors import AlreadyDone, FirebellError
from bot.domain.incident import Severity, Status

SETTABLE = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)


class InvalidTransition(FirebellError):
    pass


def valid_next(current: Status) -> list[Status]:
    """The statuses `/incident status` may move to from ``current``."""
    return [] if current is Status.RESOLVED else [s for s in SETTABLE if s is not current]


def status_after_ack(status: Status, acknowledged_by: str | None, ref: str) -> Status:
    """Acknowledging moves a declared incident to investigating; it happens once."""
    if status is Status.RESOLVED:
        raise InvalidTransition(f"{ref} is resolved; reopen it before acknowledging.")
    if acknowledged_by is not None:
        raise AlreadyDone(f"{ref} was already acknowledged by <@{acknowledged_by}>.")
    return Status.INVESTIGATING if status is Status.DECLARED else status


def change_status(current: Status, wanted: Status, ref: str) -> Status:
    if current is Status.RESOLVED:
        raise InvalidTransition(f"{ref} is resolved; `/incident reopen <why>` first.")
    allowed = valid_next(current)
    if wanted not in allowed:
        what = "is already" if wanted is current else "cannot go to"
        raise InvalidTransition(
            f"{ref} {what} {wanted.label.lower()}. From {current.label.lower()} it can go to: "
            + ", ".join(s.value for s in allowed) + ". (`/incident resolve` resolves it.)"
        )
    return wanted


def check_resolvable(current: Status, ref: str, resolved_by: str | None = None) -> None:
    if current is Status.RESOLVED:
        who = f" by <@{resolved_by}>" if resolved_by else ""
        raise AlreadyDone(f"{ref} was already resolved{who}.")


def check_reopenable(current: Status, ref: str) -> None:
    if current is not Status.RESOLVED:
        raise InvalidTransition(f"{ref} is not resolved; there is nothing to reopen.")


def check_not_resolved(current: Status, ref: str, to: str) -> None:
    """A resolved incident takes no more pages, updates or severity changes: ``to`` says what was asked."""
    if current is Status.RESOLVED:
        raise InvalidTransition(f"{ref} is resolved; reopen it to {to}.")


def change_severity(current: Status, old: Severity, new: Severity, ref: str) -> Literal["raised", "lowered"]:
    """Whether a severity change raises or lowers the incident; raises when it cannot happen."""
    check_not_resolved(current, ref, "change its severity")
    if new is old:
        raise InvalidTransition(f"{ref} is already {old.label}.")
    return "raised" if new.rank < old.rank else "lowered"

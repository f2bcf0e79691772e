"""How an incident's status may change. Pure functions of the current state."""

from __future__ import annotations

from bot.domain.errors import AlreadyDone, FirebellError
from bot.domain.model import Status


class InvalidTransition(FirebellError):
    pass


def status_after_ack(status: Status, acknowledged_by: str | None, ref: str) -> Status:
    """Acknowledging moves a declared incident to investigating; it happens once."""
    if status is Status.RESOLVED:
        raise InvalidTransition(f"{ref} is resolved; reopen it before acknowledging.")
    if acknowledged_by is not None:
        raise AlreadyDone(f"{ref} was already acknowledged by <@{acknowledged_by}>.")
    return Status.INVESTIGATING if status is Status.DECLARED else status

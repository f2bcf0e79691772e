"""Errors the user caused or can act on. Each becomes one ephemeral answer; none is a traceback."""

from __future__ import annotations


class FirebellError(Exception):
    """An error whose message is written for the person who typed the command."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(FirebellError):
    """The command was not written in a form Firebell understands."""


class InvalidInput(FirebellError):
    """A field's value is not acceptable; ``field`` names which (a modal block id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyDone(FirebellError):
    """The same request was already handled (a double click, a form submitted twice)."""


class NotFound(FirebellError):
    """No such incident (or the channel is not an incident's)."""


class SlackFailure(FirebellError):
    """Slack refused or failed a call that the request needed."""


class NotAllowed(FirebellError):
    """The person may not see or change this (a private incident, and they are not in its channel)."""

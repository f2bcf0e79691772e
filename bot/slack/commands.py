"""Parse `/incident …` text into a typed command, or a UsageError that says how to write it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.errors import InvalidInput, UsageError
from bot.domain.model import DEFAULT_SEVERITY, Severity
from bot.domain.rules import parse_severity

_REF = re.compile(r"^inc-?(\d+)$", re.IGNORECASE)
_SEVERITY_LIKE = re.compile(r"^sev\w{0,2}$", re.IGNORECASE)  # sev2, sev9, sevv; not "Severity"


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListOpen:
    pass


@dataclass(frozen=True)
class Declare:
    severity: Severity
    title: str  # empty: open the declare form


@dataclass(frozen=True)
class Acknowledge:
    number: int | None  # None: the incident of the channel the command was typed in


Command = Help | ListOpen | Declare | Acknowledge

SUBCOMMANDS = ("declare", "list", "ack", "help")


def parse_command(text: str) -> Command:
    words = text.split()
    number = None
    if words and (ref := _REF.match(words[0])):
        number, words = int(ref.group(1)), words[1:]
    if not words:
        if number is not None:
            raise UsageError(f"What should happen to INC-{number}? Try `/incident INC-{number} ack`.")
        return Help()
    verb, rest = words[0].lower(), words[1:]
    if verb in ("help", "?"):
        return Help()
    if verb == "ack":
        if rest:
            raise UsageError("`/incident ack` takes nothing more; to name an incident: `/incident INC-7 ack`.")
        return Acknowledge(number)
    if number is not None:
        raise UsageError(f"`{verb}` does not take an incident number.")
    if verb == "list":
        return ListOpen()
    if verb == "declare":
        return _declare(rest)
    raise UsageError(f"`{verb}` is not an incident command; use one of: {', '.join(SUBCOMMANDS)}. "
                     "`/incident help` shows how.")


def _declare(words: list[str]) -> Declare:
    severity = DEFAULT_SEVERITY
    if words and _SEVERITY_LIKE.match(words[0]):
        try:
            severity = parse_severity(words[0])
        except InvalidInput as exc:
            raise UsageError(exc.message + " For example: `/incident declare sev2 Checkout is failing`.") from None
        words = words[1:]
    return Declare(severity=severity, title=" ".join(words))

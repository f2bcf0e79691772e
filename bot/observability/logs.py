"""Firebell's logs: quiet by default, one line per thing that happened to an incident, as text or JSON.

`configure(level, fmt)` installs one handler on the root logger (``LOG_LEVEL``, ``LOG_FORMAT``). At INFO only
Firebell's own loggers speak below WARNING: libraries (waitress, slack_sdk, Bolt,
Alembic…) are heard from WARNING up, so an idle Firebell writes nothing. Lines that would carry a Slack
request's body (Bolt logs a refused signature with the body, and bodies at DEBUG) are never written, at any level.

Who a line is about travels in context variables: `context(incident="INC-7", team="T0…", request_id="…")` around
the work, and every line logged inside (on this thread, or in work submitted with the copied context) carries them;
JSON lines have them as fields (`incident`, `team`, `request_id`), text lines in brackets.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import TextIO

from storage.db import shown_url

HANDLER_NAME = "firebell"
INCIDENT_LOGGER = "firebell.incident"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
OWN_LOGGERS = ("bot", "handlers", "storage", "firebell")  # everything else is a library
CONTEXT_FIELDS = ("incident", "team", "request_id")
EXTRA_FIELDS = ("event", "ref")  # written as JSON fields when a line sets them (`extra=`)
SOMETHING_WENT_WRONG = "Something went wrong (ref {ref}); nothing was changed."

incident_var: ContextVar[str | None] = ContextVar("firebell_incident", default=None)
team_var: ContextVar[str | None] = ContextVar("firebell_team", default=None)
request_id_var: ContextVar[str | None] = ContextVar("firebell_request_id", default=None)
_VARS = {"incident": incident_var, "team": team_var, "request_id": request_id_var}


class Event(StrEnum):
    """What can happen to an incident; each is one INFO line (`incident_event`)."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    PAGED = "paged"
    ESCALATED = "escalated"
    NOTICE_SENT = "notice sent"
    STATUS = "status changed"
    SEVERITY = "severity changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    DELIVERY_FAILED = "delivery failed for good"


# --- configuration ---------------------------------------------------------------------------------------------


def parse_level(text: str) -> int:
    """``LOG_LEVEL``: a level's name, any case (WARN means WARNING)."""
    name = str(text).strip().upper()
    name = "WARNING" if name == "WARN" else name
    if name not in LEVELS:
        raise ValueError(f"{text!r} is not a log level; write one of {', '.join(LEVELS)}")
    return logging.getLevelNamesMapping()[name]


def parse_level_name(text: str) -> str:
    """``LOG_LEVEL`` as its canonical name (``warn`` → ``WARNING``)."""
    return logging.getLevelName(parse_level(text))


def parse_format(text: str) -> str:
    """``LOG_FORMAT``: text (one readable line per record) or json (one JSON object per line)."""
    name = str(text).strip().lower()
    if name not in FORMATS:
        raise ValueError(f"{text!r} is not a log format; write text or json")
    return name


def configure(level: str = "INFO", fmt: str = "text", *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr), formatted as ``fmt``, from ``level`` up. Calling it again
    replaces the handler an earlier call installed (nothing else on the root logger is touched)."""
    level_no, fmt = parse_level(level), parse_format(fmt)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(QuietLibraries(level_no))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_no)
    return handler


def remove() -> None:
    """Take away the handler `configure` installed (tests, the demo)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)


def is_own(logger_name: str) -> bool:
    return logger_name == "root" or logger_name.split(".", 1)[0] in OWN_LOGGERS


class QuietLibraries(logging.Filter):
    """Libraries speak from WARNING up (from DEBUG when Firebell's level is DEBUG); nothing that carries a request
    body passes.

    A handler filter, so it holds for loggers that set their own level: Bolt copies the root logger's level onto
    each of its loggers when it makes them."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if is_own(record.name):
            return True
        if record.name.startswith("slack_bolt") and "body" in record.getMessage().lower():
            return False  # a refused signature, or a debug dump: Slack's payloads stay out of the logs
        return record.levelno >= (logging.DEBUG if self.level <= logging.DEBUG else logging.WARNING)


class ContextFilter(logging.Filter):
    """Puts the context variables on each record (a record's own ``extra`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _VARS.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message; incident, team, request_id, event, ref where known;
    the traceback (``error``) inside the same object."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {"time": _time(record), "level": record.levelname, "logger": record.name,
                                   "message": record.getMessage()}
        for name in CONTEXT_FIELDS + EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["error"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-05-01T10:00:00.123Z INFO firebell.incident: INC-7 (T0…) declared: sev2 [request_id=…]``."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        known = [f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                 if getattr(record, name, None) is not None and not getattr(record, "event", None)]
        if known:
            text += f" [{' '.join(known)}]"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


# --- who a line is about ---------------------------------------------------------------------------------------


@contextmanager
def context(*, incident: str | None = None, team: str | None = None, request_id: str | None = None) -> Iterator[None]:
    """Lines logged inside carry these (the ones given; the others keep their outer values)."""
    given = {"incident": incident, "team": team, "request_id": request_id}
    tokens = [(_VARS[name], _VARS[name].set(value)) for name, value in given.items() if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def new_request_id() -> str:
    return secrets.token_hex(4)


# --- the lines Firebell writes ---------------------------------------------------------------------------------


def incident_event(event: Event, incident: str, team: str, detail: str = "", *, level: int = logging.INFO) -> None:
    """The one line for one thing that happened to an incident: ``INC-7 (T0FIREBELL) declared: sev2 by U0ALICE``."""
    message = f"{incident} ({team}) {event}" + (f": {detail}" if detail else "")
    logging.getLogger(INCIDENT_LOGGER).log(level, message,
                                           extra={"incident": incident, "team": team, "event": event.value})


def error_ref() -> str:
    """A short reference a person can quote and an operator can find in the logs (``7f3a2c``)."""
    return secrets.token_hex(3)


def unexpected_error(logger: logging.Logger, error: BaseException, what: str) -> str:
    """Log an error nobody foresaw with its traceback and a ref; return what the person is told (same ref)."""
    ref = error_ref()
    logger.error("unexpected error (ref %s) while handling %s", ref, what, exc_info=error, extra={"ref": ref})
    return SOMETHING_WENT_WRONG.format(ref=ref)


def refused_signature(logger: logging.Logger, *, path: str, remote: str | None, size: int, reason: str) -> None:
    """A request whose signature did not check out: who sent how much, never what."""
    logger.warning("refused a request to %s from %s (%d bytes): %s", path, remote or "an unknown address", size,
                   reason)


def safe_database_url(url: str) -> str:
    """The database URL as it may be logged: without its password."""
    return shown_url(url)


def log_startup(logger: logging.Logger, *, policy_file: str | None, tiers: int, broadcast_channel: str | None,
                database_url: str) -> None:
    """What this Firebell runs with: the policy file (or the defaults), the database (no password), and a warning
    for a policy that pages nobody or announces nowhere."""
    if policy_file is None:
        logger.warning("no policy file (FIREBELL_CONFIG unset and no ./firebell.yml): using the built-in defaults")
    else:
        logger.info("policy loaded from %s (%d tier(s), broadcast channel %s)", policy_file, tiers,
                    broadcast_channel or "none")
    if tiers == 0:
        logger.warning("no tiers in the policy: nobody is paged for an incident (set `tiers:` in firebell.yml)")
    if broadcast_channel is None:
        logger.warning("no broadcast_channel in the policy: new incidents are not announced anywhere")
    logger.info("database: %s", safe_database_url(database_url))

"""GET /oncall/<tier>.ics?token=…: a tier's shifts for the next eight weeks as iCalendar (one VEVENT per shift, made
with the icalendar library), so people can subscribe from their calendar app. Served only when
FIREBELL_CALENDAR_TOKEN is set (otherwise the path is unknown: 404); a wrong token is refused with 403."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from icalendar import Calendar, Event

from bot.domain.oncall import Shift
from bot.web import StartResponse, WSGIApp
from bot.web.responses import json_response

log = logging.getLogger(__name__)

PATH = "/oncall/"
WEEKS = 8
CONTENT_TYPE = "text/calendar; charset=utf-8"

Shifts = Callable[[str, datetime, datetime], tuple[str, Sequence[Shift]] | None]  # (tier name, shifts) or None
Names = Callable[[Sequence[str]], Mapping[str, str]]


def feed(tier: str, shifts: Sequence[Shift], names: Mapping[str, str], now: datetime) -> bytes:
    """The tier's shifts as an iCalendar document; gaps (nobody on call) have no event."""
    calendar = Calendar()
    calendar.add("prodid", "-//Firebell//on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{tier} on call")
    for shift in shifts:
        if shift.user is None:
            continue
        event = Event()
        name = names.get(shift.user, shift.user)
        event.add("uid", f"firebell-{tier}-{int(shift.start.timestamp())}-{shift.user}")
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("summary", f"{name} on call ({tier})")
        why = shift.describe()
        event.add("description", f"{name} is on call in {tier} ({why}). From Firebell's schedule.")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def calendar_door(token: str, shifts: Shifts, names: Names, clock: Callable[[], datetime]) -> WSGIApp:
    def answer(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        given = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
        if not hmac.compare_digest(given.encode(), token.encode()):
            return json_response(start_response, "403 Forbidden", {"error": "a valid ?token= is required"})
        path = unquote(environ.get("PATH_INFO", ""))
        name = path[len(PATH):]
        if not name.endswith(".ics") or "/" in name or len(name) <= 4:
            return json_response(start_response, "404 Not Found", {"error": "not found: use /oncall/<tier>.ics"})
        now = clock()
        found = shifts(name[:-4], now, now + timedelta(weeks=WEEKS))
        if found is None:
            return json_response(start_response, "404 Not Found", {"error": f"no tier named {name[:-4]!r}"})
        tier, tier_shifts = found
        body = feed(tier, tier_shifts, names(sorted({s.user for s in tier_shifts if s.user})), now)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body))),
                                  ("Content-Disposition", f'inline; filename="{tier}.ics"')])
        return [body]

    return answer

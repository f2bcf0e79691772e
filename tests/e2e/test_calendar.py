"""The on-call calendar feed over real HTTP: GET /oncall/<tier>.ics?token=… serves the next eight weeks, one VEVENT
per shift named after the person; no FIREBELL_CALENDAR_TOKEN, no feed (404); a wrong token, 403."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from pydantic import SecretStr

from bot.config import FirebellConfig
from tests.e2e.conftest import BROADCAST, T0, FakeClock, start_timed, stop

ONE, TWO, THREE = "U0ONE", "U0TWO", "U0THREE"
TOKEN = "calendar-s3cret"


def config() -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "tiers": [{"name": "L1", "schedule": [{"users": [ONE, TWO], "every": "1w", "handoff": "2026-11-23T09:00",
                                                "timezone": "Europe/Berlin"}]}],
        "admins": [THREE],
    })


@pytest.fixture
def people(slack):
    slack.add_user(ONE, "one", real_name="Ada One")
    slack.add_user(TWO, "two", real_name="Bo Two")
    slack.add_user(THREE, "three", real_name="Cy Three")
    return slack


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def test_the_feed_has_one_event_per_shift_for_eight_weeks(people, database_url):
    timed = start_timed(people, database_url, config(), FakeClock(T0), firebell_calendar_token=SecretStr(TOKEN))
    try:
        timed.driver.slash_command(THREE, f"oncall override L1 <@{THREE}> 2h", channel_id="C0GENERAL")
        status, body, content_type = get(f"{timed.server.url}/oncall/L1.ics?token={TOKEN}")
        assert status == 200 and content_type.startswith("text/calendar")
        events = Calendar.from_ical(body).walk("VEVENT")
        summaries = [str(e["SUMMARY"]) for e in events]
        assert summaries[:3] == ["Cy Three on call (L1)", "Ada One on call (L1)", "Bo Two on call (L1)"]
        starts = [e.decoded("DTSTART") for e in events]
        assert starts[0] == T0 and starts[1] == T0 + timedelta(hours=2)
        assert starts[2] == datetime(2026, 11, 30, 8, tzinfo=UTC)  # Monday 09:00 in Berlin
        assert events[-1].decoded("DTEND") == T0 + timedelta(weeks=8)
        assert len({str(e["UID"]) for e in events}) == len(events) == 10
        assert get(f"{timed.server.url}/oncall/L1.ics?token=wrong")[0] == 403
        assert get(f"{timed.server.url}/oncall/L1.ics")[0] == 403
        assert get(f"{timed.server.url}/oncall/L9.ics?token={TOKEN}")[0] == 404
        assert get(f"{timed.server.url}/oncall/l1.ics?token={TOKEN}")[0] == 200
    finally:
        stop(timed)


def test_without_a_token_there_is_no_feed(people, database_url):
    timed = start_timed(people, database_url, config(), FakeClock(T0))
    try:
        assert get(f"{timed.server.url}/oncall/L1.ics?token=anything")[0] == 404
    finally:
        stop(timed)

"""Reports end to end: a known month of incidents driven through Slack, then `firebell report` (JSON, CSV, text,
chart) checked against figures worked out by hand, and `/incident report` in Slack with its chart by DM."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from freezegun import freeze_time

from bot.cli import main
from bot.config import FirebellConfig
from tests.e2e.conftest import ALICE, BROADCAST, T0, FakeClock, Timed, answer, start_timed, stop

ONE, TWO = "U0ONE", "U0TWO"
WEDNESDAY, THURSDAY = T0 + timedelta(days=1), T0 + timedelta(days=2)  # T0 is Tuesday 2026-11-24 10:00 UTC
MONTH = ["--from", "2026-11-23", "--to", "2026-11-30"]


def report_config() -> FirebellConfig:
    return FirebellConfig.model_validate({
        "broadcast_channel": BROADCAST,
        "severities": {
            "sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h", "page": "L1"},
            "sev2": {"ack": "15m", "update_every": "1h", "resolve": "8h"},
            "sev3": {"ack": "1h", "update_every": "4h", "resolve": "8h", "business_hours": {
                "timezone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}},
        },
        "tiers": [{"name": "L1", "members": [ONE], "ack_timeout": "10m"},
                  {"name": "L2", "members": [TWO], "ack_timeout": "15m"}],
    })


@pytest.fixture
def timed(slack, database_url):
    for user, name in ((ONE, "one"), (TWO, "two")):
        slack.add_user(user, name)
    running = start_timed(slack, database_url, report_config(), FakeClock(T0))
    yield running
    stop(running)


class Scenario:
    def __init__(self, timed: Timed) -> None:
        self.timed = timed

    def at(self, when, user: str, text: str, *, number: int) -> None:
        self.timed.clock.now = when
        channel = self.channel(number) if number else "C0GENERAL"
        self.timed.driver.slash_command(user, text, channel_id=channel)
        self.timed.firebell.settle(30)

    def channel(self, number: int) -> str:
        return self.timed.incident_channel(number).id

    def declare(self, when, text: str, number: int) -> None:
        self.at(when, ALICE, text, number=0)
        self.timed.card(self.channel(number))
        self.timed.firebell.settle(30)

    def resolve(self, when, number: int, category: str, caused_by: str | None = None) -> None:
        self.at(when, ALICE, "resolve", number=number)
        view = self.timed.slack.wait_for(lambda: self.timed.slack.open_views(ALICE))[-1]
        values = {"root_cause_category": {"value": category}, "root_cause": {"value": "x"},
                  "resolution": {"value": "y"}}
        if caused_by is not None:
            values["caused_by_change"] = {"value": caused_by}
        self.timed.driver.submit_view(ALICE, view.id, values)
        self.timed.slack.wait_for(lambda: next(i for i in self.timed.incidents() if i.number == number).status.value
                                  == "resolved")
        self.timed.firebell.settle(30)


def known_month(timed: Timed) -> None:
    """Five incidents, each figure of which is worked out by hand in test_every_figure_of_the_json_report."""
    s = Scenario(timed)
    minutes = lambda n: timedelta(minutes=n)  # noqa: E731
    # Two changes recorded; INC-1 is resolved as caused by the first (change failure rate 1 of 2).
    s.at(T0 - minutes(30), ALICE, "change payments Deploy v1.2", number=0)
    s.at(T0 - minutes(20), ALICE, "change search Reindex nightly", number=0)
    # INC-1 SEV1: acknowledged at 2m by the paged L1, one update at 20m, resolved at 1h.
    s.declare(T0, "declare sev1 Payments down", 1)
    s.at(T0 + minutes(2), ONE, "ack", number=1)
    s.at(T0 + minutes(20), ALICE, "update Rolling back", number=1)
    s.resolve(T0 + minutes(60), 1, "capacity", caused_by="1")
    # INC-2 SEV1 downgraded to SEV2 after its ack at 40 s; no update; resolved after 3h.
    start = T0 + timedelta(hours=2)
    s.declare(start, "declare sev1 Search errors", 2)
    s.at(start + timedelta(seconds=40), ONE, "ack", number=2)
    s.at(start + minutes(10), ALICE, "sev 2", number=2)
    s.resolve(start + timedelta(hours=3), 2, "dependency")
    # INC-3 SEV1: nobody acknowledges; the ack breach at 5m escalates L1 to L2; resolved at 30m, reopened at 1h,
    # acknowledged at 1h05m, resolved again at 2h.
    start = T0 + timedelta(hours=6)
    s.declare(start, "declare sev1 Logins fail", 3)
    timed.tick(minutes=5)
    s.resolve(start + minutes(30), 3, "capacity")
    s.at(start + minutes(60), ALICE, "reopen It is back", number=3)
    s.at(start + minutes(65), ONE, "ack", number=3)
    s.resolve(start + minutes(120), 3, "capacity")
    # INC-4 SEV3 in business hours (09-17 UTC): acked at 30m, resolve clock paused Wed 12:00 → Thu 10:00, an
    # update Wed 13:00, resolved Thu 15:00 (7h counted of 8h: met; without the pause 13h: breached).
    s.declare(WEDNESDAY, "declare sev3 Reports are late", 4)
    s.at(WEDNESDAY + minutes(30), ALICE, "ack", number=4)
    s.at(WEDNESDAY + minutes(120), ALICE, "sla pause waiting on the vendor", number=4)
    s.at(WEDNESDAY + minutes(180), ALICE, "update The vendor is on it", number=4)
    s.at(THURSDAY, ALICE, "sla resume", number=4)
    s.resolve(THURSDAY + timedelta(hours=5), 4, "dependency")
    # INC-5 SEV2, Thursday 10:00: still open, never acknowledged; every clock is past due by the period's end.
    s.declare(THURSDAY, "declare sev2 Exports slow", 5)


def cli(capsys, monkeypatch, database_url: str, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def stats(count, median, p90, mean):
    return {"count": count, "median": median, "p90": p90, "mean": mean}


NONE = stats(0, None, None, None)


def test_every_figure_of_the_json_report(timed: Timed, capsys, monkeypatch, database_url, tmp_path):
    known_month(timed)
    code, out, _ = cli(capsys, monkeypatch, database_url, *MONTH, "--json")
    assert code == 0
    assert json.loads(out) == {
        "since": "2026-11-23T00:00:00+00:00", "until": "2026-12-01T00:00:00+00:00",
        "incidents": 5, "resolved": 4, "open": 1,
        # MTTA: 40 s, 2m, 30m, 1h05m (INC-5 never acknowledged); median between 2m and 30m; p90 at rank 2.7.
        "mtta_seconds": stats(4, 960.0, 3270.0, 1465.0),
        # MTTR: 1h, 2h (INC-3's final resolve), 3h, 29h (INC-4, wall clock); INC-5 is open.
        "mttr_seconds": stats(4, 9000.0, 76320.0, 31500.0),
        "by_severity": {
            "sev1": {"incidents": 2, "mtta_seconds": stats(2, 2010.0, 3522.0, 2010.0),
                     "mttr_seconds": stats(2, 5400.0, 6840.0, 5400.0)},
            "sev2": {"incidents": 2, "mtta_seconds": stats(1, 40.0, 40.0, 40.0),  # INC-2 counts at its last severity
                     "mttr_seconds": stats(1, 10800.0, 10800.0, 10800.0)},
            "sev3": {"incidents": 1, "mtta_seconds": stats(1, 1800.0, 1800.0, 1800.0),
                     "mttr_seconds": stats(1, 104400.0, 104400.0, 104400.0)},
            "sev4": {"incidents": 0, "mtta_seconds": NONE, "mttr_seconds": NONE},
        },
        "by_root_cause_category": {"capacity": 2, "dependency": 2},
        "sla": {
            # met: INC-1, INC-2 (its SEV1 5m target, kept after the downgrade), INC-4; breached: INC-3, INC-5.
            "ack": {"met": 3, "breached": 2, "running": 0, "compliance": 0.6},
            # met: INC-1, INC-2 (8h), both runs of INC-3, INC-4 (the pause not counted); breached: INC-5.
            "resolve": {"met": 5, "breached": 1, "running": 0, "compliance": 0.8333},
            # one run per cycle: INC-1 met+breached, INC-2 breached, INC-3 met+breached, INC-4 met+breached, INC-5
            # breached.
            "update": {"met": 3, "breached": 5, "running": 0, "compliance": 0.375},
        },
        "escalations": 1, "reopened": 1,
        "satisfaction": {"count": 0, "mean": None, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}},
        "changes": 2, "changes_linked": 1, "change_failure_rate": 0.5,
        "weekly": [
            {"week_start": "2026-11-23", "declared": 5, "resolved": 4, "mtta_median_seconds": 960.0,
             "mttr_median_seconds": 9000.0, "sla_compliance": 0.5789},  # 11 met of 19 judged runs
            {"week_start": "2026-11-30", "declared": 0, "resolved": 0, "mtta_median_seconds": None,
             "mttr_median_seconds": None, "sla_compliance": None},
        ],
    }

    code, out, _ = cli(capsys, monkeypatch, database_url, *MONTH, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["id"], r["severity"], r["time_to_acknowledge_seconds"], r["time_to_resolve_seconds"], r["ack_sla"],
             r["resolve_sla"], r["update_sla"], r["root_cause_category"]) for r in rows] == [
        ("INC-1", "sev1", "120", "3600", "met", "met", "breached", "capacity"),
        ("INC-2", "sev2", "40", "10800", "met", "met", "breached", "dependency"),
        ("INC-3", "sev1", "3900", "7200", "breached", "met", "breached", "capacity"),
        ("INC-4", "sev3", "1800", "104400", "met", "met", "breached", "dependency"),
        ("INC-5", "sev2", "", "", "breached", "breached", "breached", ""),
    ]
    assert rows[0]["declared_at"] == "2026-11-24T10:00:00+00:00" and rows[2]["reopened"] == "yes"

    code, out, _ = cli(capsys, monkeypatch, database_url, *MONTH, "--severity", "sev1")
    assert "2 declared, 2 resolved, 0 open, 1 reopened, 1 escalations" in out
    assert "MTTA  median 33m 30s · p90 58m 42s · mean 33m 30s (n=2)" in out

    chart = tmp_path / "month.png"
    code, out, err = cli(capsys, monkeypatch, database_url, *MONTH, "--chart", str(chart))
    assert code == 0 and chart.read_bytes().startswith(b"\x89PNG") and f"chart written to {chart}" in err
    assert "5 declared, 4 resolved, 1 open" in out


def test_since_counts_the_days_up_to_now(timed: Timed, capsys, monkeypatch, database_url):
    known_month(timed)
    with freeze_time("2026-11-25T11:00:00Z"):  # a day and a hour after T0: INC-1…INC-3 and INC-4's declare
        code, out, _ = cli(capsys, monkeypatch, database_url, "--since", "1d", "--json")
    figures = json.loads(out)
    assert (figures["since"], figures["until"], figures["incidents"]) == (
        "2026-11-24T11:00:00+00:00", "2026-11-25T11:00:00+00:00", 3)  # INC-2, INC-3 (INC-1 is before), INC-4


@pytest.mark.parametrize("args, says", [
    (["--since", "0d"], "--since '0d' must be between 1d and"),
    (["--since", "banana"], "--since 'banana' is not a period; write it like 7d, 30d or 90d"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], "--from 2026-11-30 is after --to 2026-11-01"),
    (["--from", "30/11/2026"], "--from '30/11/2026' is not a date; write it like 2026-11-01 (YYYY-MM-DD)"),
    (["--severity", "sev9"], "--severity 'sev9' is not a severity; write sev1, sev2, sev3 or sev4"),
    (["--to", "2026-11-30"], "--to needs --from"),
])
def test_bad_options_are_one_line_naming_the_option_and_exit_2(capsys, monkeypatch, tmp_path, args, says):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert main(["report", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and says in err


def test_slash_report_answers_the_figures_to_the_person_and_dms_the_chart(timed: Timed):
    known_month(timed)
    timed.clock.now = T0 + timedelta(days=6)
    response = timed.driver.slash_command(ALICE, "report 7d", channel_id="C0GENERAL")
    shown = answer(response)
    assert response.json().get("response_type", "ephemeral") == "ephemeral"
    assert "Incidents in the last 7 days" in shown and "*5* declared · *4* resolved · *1* open" in shown
    assert "median 16m · p90 54m 30s · mean 24m 25s (n=4)" in shown  # MTTA
    assert "Time to resolve: 83.3% met (5 of 6)" in shown and "<!date^" in shown
    timed.firebell.settle(60)
    [png] = [f for f in timed.slack.files if f.filetype == "png"]
    [shared] = [m for m in timed.slack.dms(ALICE) if png.id in m.files]
    assert png.completed and png.channels == [shared.channel] and png.title == "Incident report: the last 7 days"
    assert "Incidents in the last 7 days: 5 declared, MTTA median 16m" in shared.text
    assert "*5* declared" in answer(timed.driver.slash_command(ALICE, "report 7d", channel_id="C0GENERAL"))
    timed.firebell.settle(60)
    assert len([f for f in timed.slack.files if f.filetype == "png"]) == 1  # asked again within a minute: no spam


def test_slash_report_of_an_empty_period_says_so_and_a_bad_period_says_how_to_write_it(timed: Timed):
    shown = answer(timed.driver.slash_command(ALICE, "report", channel_id="C0GENERAL"))
    assert "No incidents were declared in the last 30 days" in shown
    shown = answer(timed.driver.slash_command(ALICE, "report 5y", channel_id="C0GENERAL"))
    assert "`5y` is not a report period; write `/incident report 7d`" in shown
    timed.firebell.settle(30)
    assert timed.slack.files == []

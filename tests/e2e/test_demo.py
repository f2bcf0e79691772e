"""`firebell demo` plays the whole lifecycle on a fresh machine, with no Slack and no configuration, and keeps what it
played in a database that the commands it prints read."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "FIREBELL_"))
            and not k.lower().endswith("_proxy")}


def firebell(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env={**_env(), **env}, capture_output=True,
                          text=True, timeout=120)


def printed_cards(out: str) -> list[str]:
    """Each printing of INC-1's pinned card, as the transcript shows it."""
    cards = re.findall(r"\(pinned\)[^\n]*:\n((?:    │ [^\n]*\n)+)", out)
    return [card for card in cards if "INC-1: CHECKOUT" in card]


def test_demo_prints_the_incident_from_declare_to_postmortem(tmp_path):
    result = firebell("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = ["/incident oncall", "*L1*: @carol (layer 1) until", "next @dan (layer 1)",
             "/incident declare sev2 Checkout returns 500s", "is declared: #inc-1-checkout-returns-500s",
             "[ Acknowledge ]", "carol, on call this week, gets a DM", "dan, not on call this week, gets 0 DMs",
             "4 minutes later", "Time to acknowledge: met by 11m",
             "@carol acknowledged the page for INC-1", "made @bob *comms*", "Status*: Identified",
             "Noted on INC-1's timeline", "Status*: Monitoring", "INC-1 is resolved* by @alice after 57m",
             "file INC-1-postmortem.md shared", "UTC by Alice", "INC-1 TIMELINE", "*role* · @alice: comms: @bob",
             "No open incidents", "is not a severity", "bob gets a DM: You own follow-up #1 of INC-1, due",
             "YOUR OPEN FOLLOW-UPS (1)", "carol, paged for INC-1, is asked how the response went", "The next morning",
             "opened *PRB-1*", "*Workaround*: Roll the config back", "Known error", "A week later",
             "/incident declare EU customers get 500s at checkout again", "Similar past incidents",
             "*INC-1* · Checkout returns 500s for EU customers",
             "🧩 *PRB-1* (Known error)", "share the rarer words", "/incident search drained pool", "1 incident match “drained pool”",
             "linked INC-2 to *PRB-1*", "OPEN PROBLEMS (1)", "2 incidents",
             "declare --private sev1 A signing key", "🔒 A private incident, INC-3, was declared; @alice commands it",
             "OPEN INCIDENTS (1)", "INC-3 is a private incident",
             "Firebell answers 201: stored", "POST /alerts/alertmanager", "the group becomes an incident",
             "INC-4: PAYMENTS P99 LATENCY ABOVE 2S", "Changes before this incident",
             "Deploy v3.2.0: new connection pool settings by ci-bot", "0 new alerts; nothing is posted",
             "INCIDENTS IN THE LAST 30 DAYS", "alice gets a DM with firebell-report-", "firebell export --json"]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    bobs_list = out[out.rindex("OPEN INCIDENTS (1)"):out.index("INC-3 is a private incident")]
    assert "INC-2" in bobs_list and "INC-3" not in bobs_list.split("/incident INC-3")[0]  # not in his list
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    assert not re.search(r"\bU0[A-Z]+\b", out), "people are shown by name, never by id"
    cards = printed_cards(out)
    assert len(cards) >= 5 and all(a != b for a, b in zip(cards, cards[1:], strict=False))  # once where it changes
    assert list(tmp_path.iterdir()) == []  # nothing left in the directory it ran in

    # the commands it printed read what it played
    commands = dict(re.findall(r"^  (DATABASE_URL=\S+) (firebell .+)$", out, re.MULTILINE)[i][::-1] for i in range(4))
    where = shlex.split(commands["firebell export --json"])[0].removeprefix("DATABASE_URL=")
    database = Path(where.removeprefix("sqlite:///"))
    assert database.is_file() and database.name == "firebell-demo.db"
    try:
        exported = json.loads(firebell("export", "--json", cwd=tmp_path, DATABASE_URL=where).stdout)
        assert [(i["id"], i["status"], i["private"]) for i in exported] == [
            ("INC-1", "resolved", False), ("INC-2", "declared", False), ("INC-3", "declared", True),
            ("INC-4", "declared", False)]  # the alert group's incident
        assert max(i["declared_at"] for i in exported) < datetime.now(UTC).isoformat()  # all of it in the past
        first = exported[0]
        assert first["acknowledged_at"] > first["declared_at"] and first["root_cause_category"] == "configuration"
        report = firebell("postmortem", "INC-1", cwd=tmp_path, DATABASE_URL=where)
        assert report.returncode == 0 and report.stdout.startswith("# INC-1: Checkout returns 500s for EU customers")
        assert "Time to resolve: 57m" in report.stdout
    finally:
        shutil.rmtree(database.parent)


def test_demo_keeps_its_database_where_it_is_told_and_never_in_an_existing_file(tmp_path):
    taken = tmp_path / "firebell.db"
    taken.write_bytes(b"a real database")
    refused = firebell("demo", "--database", str(taken), cwd=tmp_path)
    assert refused.returncode == 2 and "exists; the demo writes a new database" in refused.stderr
    assert taken.read_bytes() == b"a real database"

    result = firebell("demo", "--database", "played.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"DATABASE_URL=sqlite:///{tmp_path / 'played.db'} firebell postmortem INC-1" in result.stdout
    assert (tmp_path / "played.db").is_file()

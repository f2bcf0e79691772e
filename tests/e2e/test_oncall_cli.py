"""`firebell oncall` as a process: who is on call at a given time, from firebell.yml and the overrides stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from storage import oncall as rows
from storage.db import Database

POLICY = """\
tiers:
  - name: L1
    schedule:
      - {users: [U01, U02, U03], every: 1w, handoff: "2026-11-30T09:00", timezone: Europe/Berlin}
      - {users: [U07, U08], every: 1d, handoff: "2026-11-30T17:00", timezone: America/New_York,
         hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
  - name: L2
    members: [U04, S0DBAS]
  - name: L3
    schedule: [{users: [U05, U06], every: 2w, handoff: "2026-12-07T10:00", timezone: UTC}]
oncall_channel: C0ONCALL
"""


def firebell(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "firebell.yml").write_text(POLICY)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(DATABASE_URL=database_url)
    return subprocess.run([sys.executable, "-m", "bot", "oncall", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)


def test_oncall_json_at_an_instant_with_an_override(tmp_path, database_url):
    db = Database.from_url(database_url)
    with db.transaction() as session:
        rows.add_override(session, team_id="T1", tier="L3", user_id="U09", starts_at=datetime(2026, 12, 8, tzinfo=UTC),
                          ends_at=datetime(2026, 12, 9, tzinfo=UTC), created_by="U09",
                          created_at=datetime(2026, 12, 1, tzinfo=UTC))
    db.dispose()
    result = firebell(tmp_path, database_url, "--at", "2026-12-08T12:00+00:00", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    l1, l2, l3 = answer["tiers"]
    assert l1["on_call"] == {"user": "U02", "source": "layer", "layer": 1, "override": None,
                             "from": "2026-12-08T12:00:00+00:00", "until": "2026-12-14T08:00:00+00:00"}
    assert (l2["scheduled"], l2["on_call"]["source"], l2["members"]) == (False, "gap", ["U04", "S0DBAS"])
    assert (l3["on_call"]["user"], l3["on_call"]["override"], l3["next"]["user"]) == ("U09", 1, "U05")


def test_oncall_text_for_one_tier_and_bad_arguments(tmp_path, database_url):
    # 10:00 in New York, but layer 1 has no hours: it always has someone, so it wins (layers are highest first)
    result = firebell(tmp_path, database_url, "--tier", "l1", "--at", "2026-12-01T15:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "L1: U01 (layer 1) until 2026-12-07 08:00 UTC; next U02 (layer 1)"
    unknown = firebell(tmp_path, database_url, "--tier", "L9")
    assert unknown.returncode == 2 and "there is no tier 'L9' (tiers: L1, L2, L3)" in unknown.stderr
    bad = firebell(tmp_path, database_url, "--at", "tomorrow")
    assert bad.returncode == 2 and "is not an ISO-8601 time" in bad.stderr

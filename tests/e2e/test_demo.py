"""`firebell demo` plays the whole lifecycle on a fresh machine, with no Slack and no configuration."""

import os
import subprocess
import sys


def test_demo_prints_the_incident_from_declare_to_postmortem(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "FIREBELL_"))
           and not k.lower().endswith("_proxy")}
    result = subprocess.run([sys.executable, "-m", "bot", "demo"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = ["/incident declare sev2 Checkout returns 500s", "is declared: #inc-1-checkout-returns-500s",
             "[ Acknowledge ]", "carol gets a DM", "Time to acknowledge: met by",
             "@carol acknowledged the page for INC-1", "made @bob *comms*", "Status*: Identified",
             "Noted on INC-1's timeline", "Status*: Monitoring", "INC-1 is resolved* by @alice",
             "file INC-1-postmortem.md shared", "INC-1 TIMELINE", "No open incidents", "is not a severity",
             "opened *PRB-1*", "*Workaround*: Roll the config back", "Known error",
             "/incident declare EU customers get 500s at checkout again", "Similar past incidents",
             "*INC-1* · Checkout returns 500s for EU customers",
             "🧩 *PRB-1* (Known error)", "share the rarer words", "/incident search drained pool", "1 incident match “drained pool”",
             "linked INC-2 to *PRB-1*", "OPEN PROBLEMS (1)", "2 incidents",
             "Firebell answers 201: stored", "POST /alerts/alertmanager", "the group becomes an incident",
             "INC-3: PAYMENTS P99 LATENCY ABOVE 2S", "Changes before this incident",
             "Deploy v3.2.0: new connection pool settings by ci-bot", "0 new alerts; nothing is posted"]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, [s for s, p in zip(steps, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # the demo leaves nothing behind

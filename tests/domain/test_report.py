from datetime import UTC, datetime, timedelta

from bot.domain.incident import Incident, Severity, Status, TimelineEntry
from bot.domain.postmortem import postmortem

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def known_incident() -> Incident:
    return Incident(
        id=1, team_id="T1", number=7, title="Checkout | returns 500s", description="EU customers cannot pay.",
        severity=Severity.SEV1, status=Status.RESOLVED, declared_by="U0ALICE", commander="U0CAROL", comms="U0BOB",
        declared_at=T0, channel_id="C1", channel_name="inc-7-checkout-returns-500s",
        acknowledged_at=T0 + timedelta(minutes=4, seconds=30), acknowledged_by="U0BOB",
        resolved_at=T0 + timedelta(hours=2, minutes=15), root_cause_category="configuration",
        root_cause="A feature flag sent EU traffic to a drained pool.", resolution="Flag reverted.",
        follow_ups=("Alert on pool drain", "Flag changes need review"),
        timeline=(
            TimelineEntry(T0, "declared", "U0ALICE", "Declared SEV1: Checkout | returns 500s"),
            TimelineEntry(T0 + timedelta(minutes=4, seconds=30), "acknowledged", "U0BOB", "Acknowledged"),
            TimelineEntry(T0 + timedelta(minutes=20), "message", "U0DAVE", "pool eu-2 is empty",
                          permalink="https://x.slack.com/archives/C1/p1"),
            TimelineEntry(T0 + timedelta(hours=2, minutes=15), "resolved", "U0CAROL", "Resolved (configuration)"),
        ),
    )


def test_postmortem_of_a_known_timeline():
    assert postmortem(known_incident()) == """\
# INC-7: Checkout | returns 500s

## Summary

EU customers cannot pay.

- Status: resolved
- Channel: #inc-7-checkout-returns-500s

## Impact

- Severity: sev1
- Declared: 2026-11-02 09:00:00 UTC by U0ALICE
- Acknowledged: 2026-11-02 09:04:30 UTC by U0BOB
- Resolved: 2026-11-02 11:15:00 UTC
- Time to acknowledge: 4m 30s
- Time to resolve: 2h 15m

## Roles

- Commander: U0CAROL
- Comms: U0BOB
- Scribe: —

## Root cause

- Category: configuration

A feature flag sent EU traffic to a drained pool.

## Resolution

Flag reverted.

## Follow-ups

- [ ] Alert on pool drain
- [ ] Flag changes need review

## Timeline

| time (UTC) | event | by | details |
|---|---|---|---|
| 2026-11-02 09:00:00 UTC | declared | U0ALICE | Declared SEV1: Checkout \\| returns 500s |
| 2026-11-02 09:04:30 UTC | acknowledged | U0BOB | Acknowledged |
| 2026-11-02 09:20:00 UTC | message | U0DAVE | pool eu-2 is empty ([message](https://x.slack.com/archives/C1/p1)) |
| 2026-11-02 11:15:00 UTC | resolved | U0CAROL | Resolved (configuration) |
"""


def test_an_open_incident_reports_what_is_not_known_yet():
    incident = known_incident()
    open_one = Incident(**{**incident.__dict__, "status": Status.INVESTIGATING, "resolved_at": None,
                           "root_cause": None, "root_cause_category": None, "resolution": None, "follow_ups": ()})
    text = postmortem(open_one)
    assert "- Time to resolve: —" in text and "_Not recorded._" in text and "_None._" in text

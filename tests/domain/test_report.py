from datetime import UTC, date, datetime, timedelta

from bot.domain.followups import FollowUp
from bot.domain.incident import Incident, PageView, Severity, SeverityChange, Status, TimelineEntry
from bot.domain.postmortem import Satisfaction, postmortem
from bot.domain.sla import ClockRun, SlaClock

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def known_incident() -> Incident:
    return Incident(
        id=1, team_id="T1", number=7, title="Checkout | returns 500s", description="EU customers cannot pay.",
        severity=Severity.SEV1, status=Status.RESOLVED, declared_by="U0ALICE", commander="U0CAROL", comms="U0BOB",
        declared_at=T0, channel_id="C1", channel_name="inc-7-checkout-returns-500s",
        acknowledged_at=T0 + timedelta(minutes=4, seconds=30), acknowledged_by="U0BOB",
        resolved_at=T0 + timedelta(hours=2, minutes=15), root_cause_category="configuration",
        root_cause="A feature flag sent EU traffic to a drained pool.", resolution="Flag reverted.",
        follow_ups=(FollowUp(1, 7, "Alert on pool drain", "U0CAROL", owner="U0BOB", due=date(2026, 11, 20)),
                    FollowUp(2, 7, "Flag changes need review", "U0CAROL", owner_name="dave",
                             done_at=T0 + timedelta(days=1), done_by="U0BOB")),
        lessons_learned="Flags need review like code.",
        severity_history=(SeverityChange(T0 + timedelta(minutes=10), "U0CAROL", Severity.SEV2, Severity.SEV1),),
        pages=(PageView(1, "L1", "", T0 + timedelta(minutes=1), None, "acknowledged",
                        acknowledged_at=T0 + timedelta(minutes=4, seconds=30), acknowledged_by="U0BOB"),),
        clocks=(ClockRun(SlaClock.ACK, T0, timedelta(minutes=5), T0 + timedelta(minutes=5),
                         T0 + timedelta(minutes=4, seconds=30)),
                ClockRun(SlaClock.RESOLVE, T0, timedelta(hours=2), T0 + timedelta(hours=2),
                         T0 + timedelta(hours=2, minutes=15))),
        timeline=(
            TimelineEntry(T0, "declared", "U0ALICE", "Declared SEV1: Checkout | returns 500s"),
            TimelineEntry(T0 + timedelta(minutes=4, seconds=30), "acknowledged", "U0BOB",
                          "Acknowledged; status Investigating"),
            TimelineEntry(T0 + timedelta(minutes=20), "message", "U0DAVE", "pool eu-2 is empty",
                          permalink="https://x.slack.com/archives/C1/p1"),
            TimelineEntry(T0 + timedelta(hours=1), "status", "U0CAROL", "Status Investigating → Monitoring: watching"),
            TimelineEntry(T0 + timedelta(hours=2, minutes=15), "resolved", "U0CAROL", "Resolved (configuration)"),
        ),
    )


NAMES = {"U0ALICE": "Alice Ng", "U0BOB": "Bob Stone", "U0CAROL": "Carol Diaz"}  # U0DAVE: Slack gave no name


def test_postmortem_of_a_known_timeline():
    assert postmortem(known_incident(), NAMES, Satisfaction(3, 4.333)) == EXPECTED


EXPECTED = """\
# INC-7: Checkout | returns 500s

## Summary

EU customers cannot pay.

- Status: resolved
- Channel: #inc-7-checkout-returns-500s

## Impact

- Severity: SEV1 (changed: SEV2 → SEV1 by Carol Diaz at 2026-11-02 09:10:00 UTC)
- Declared: 2026-11-02 09:00:00 UTC by Alice Ng
- Acknowledged: 2026-11-02 09:04:30 UTC by Bob Stone
- Mitigated (first in monitoring): 2026-11-02 10:00:00 UTC
- Resolved: 2026-11-02 11:15:00 UTC
- Time to acknowledge: 4m 30s
- Time to mitigate: 1h
- Time to resolve: 2h 15m

## Time in each status

- Declared: 4m 30s
- Investigating: 55m 30s
- Monitoring: 1h 15m

## SLA

- Time to acknowledge: met by 30s (target 5m)
- Time to resolve: breached by 15m (target 2h)

## Roles

- Commander: Carol Diaz
- Comms: Bob Stone
- Scribe: —

## Pages and escalations

- L1 paged 2026-11-02 09:01:00 UTC by Firebell: acknowledged, acknowledged by Bob Stone after 3m 30s

## Root cause

- Category: configuration

A feature flag sent EU traffic to a drained pool.

## Resolution

Flag reverted.

## Lessons learned

Flags need review like code.

## Follow-ups

- [ ] #1 Alert on pool drain (Bob Stone, due 2026-11-20)
- [x] #2 Flag changes need review (@dave)

## How the response went

Rated 4.3 out of 5 by the 3 people who answered.

## Timeline

| time (UTC) | event | by | details |
|---|---|---|---|
| 2026-11-02 09:00:00 UTC | declared | Alice Ng | Declared SEV1: Checkout \\| returns 500s |
| 2026-11-02 09:04:30 UTC | acknowledged | Bob Stone | Acknowledged; status Investigating |
| 2026-11-02 09:20:00 UTC | message | U0DAVE | pool eu-2 is empty ([message](https://x.slack.com/archives/C1/p1)) |
| 2026-11-02 10:00:00 UTC | status | Carol Diaz | Status Investigating → Monitoring: watching |
| 2026-11-02 11:15:00 UTC | resolved | Carol Diaz | Resolved (configuration) |
"""


def test_an_open_incident_reports_what_is_not_known_yet():
    incident = known_incident()
    open_one = Incident(**{**incident.__dict__, "status": Status.INVESTIGATING, "resolved_at": None,
                           "root_cause": None, "root_cause_category": None, "resolution": None, "follow_ups": ()})
    text = postmortem(open_one)
    assert "- Time to resolve: —" in text and "_Not recorded._" in text and "_None._" in text

"""The demo's monitoring scene: a pipeline records its deploy, then Prometheus Alertmanager's webhook sends a firing
alert group. Both go over real HTTP to Firebell's doors, as a CI job and Alertmanager would send them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from bot.demo.script import Stage, say

ZERO = "0001-01-01T00:00:00Z"


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def notification(now: datetime) -> dict[str, Any]:
    labels = {"alertname": "PaymentsLatencyHigh", "service": "payments", "severity": "critical"}
    started = (now - timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    alerts = [{"status": "firing", "labels": {**labels, "instance": f"payments-{n}:8080"},
               "annotations": {"summary": "Payments p99 latency above 2s", "description": f"p99 is 4.{n}s"},
               "startsAt": started, "endsAt": ZERO, "fingerprint": f"9f00demo000{n}",
               "generatorURL": "http://prometheus.example.com/graph?g0.expr=payments_p99"} for n in (1, 2)]
    return {"version": "4", "groupKey": '{}:{alertname="PaymentsLatencyHigh", service="payments"}',
            "truncatedAlerts": 0, "status": "firing", "receiver": "firebell",
            "groupLabels": {"alertname": "PaymentsLatencyHigh", "service": "payments"}, "commonLabels": labels,
            "commonAnnotations": {"summary": "Payments p99 latency above 2s"},
            "externalURL": "http://alertmanager.example.com:9093", "alerts": alerts}


def an_alert_fires(stage: Stage) -> None:
    slack, base, token = stage.slack, stage.facts["url"], stage.facts["alert_token"]
    now = stage.clock.now
    say("The payments pipeline records its deploy: curl -X POST $FIREBELL/changes -H 'Authorization: Bearer …'")
    status, body = post(f"{base}/changes", token, {
        "service": "payments", "summary": "Deploy v3.2.0: new connection pool settings", "author": "ci-bot",
        "url": "https://github.com/acme/payments/pull/417", "id": "payments-deploy-417",
        "at": (now - timedelta(minutes=20)).isoformat()})
    print(f"  Firebell answers {status}: {body['status']}")
    say("Prometheus Alertmanager's webhook sends a firing alert group to POST /alerts/alertmanager")
    status, body = post(f"{base}/alerts/alertmanager", token, notification(now))
    print(f"  Firebell answers {status}: {body['status']}, and routes it a moment later from its outbox")
    channel = slack.wait_for(lambda: next((c for c in slack.channels if c.name.startswith("inc-4-")), None))
    assert channel is not None
    print(f"  Routed: the group becomes an incident, #{channel.name}")
    stage.settle(lambda: any("Changes before this incident" in m.text for m in slack.messages(channel.id)))
    say("Alertmanager sends the group again (repeat_interval, or a second Alertmanager in HA)")
    stage.quiet()
    posts, channels = len(slack.messages(channel.id)), len(slack.channels)
    status, body = post(f"{base}/alerts/alertmanager", token, notification(now))
    print(f"  Firebell answers {status}: {body['status']}")
    stage.quiet()  # routed, and whatever it queued delivered
    if (len(slack.messages(channel.id)), len(slack.channels)) == (posts, channels):
        print("  Routed: 0 new alerts; nothing is posted, no second incident")
    print("\n`firebell alerts` lists the alert groups received, with their state and alert counts.")

"""Alerts from Alertmanager and Grafana over real HTTP into a served Firebell, against the Slack stand-in, on each
database: one incident per alert group however often it is sent, triage for the rest, a storm digest, and every
refusal a clear 4xx with nothing stored."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update

from bot.sandbox import SlackStandIn
from bot.services import alert_intake
from bot.services.effects import Attempt
from storage import outbox
from storage.db import Database
from storage.models import AlertEpisodeRow, AlertNotificationRow, AlertRow, OutboxRow
from tests.e2e.conftest import ALICE, BOB, T0, FakeClock, Timed, e2e_config, start_timed, stop
from tests.e2e.test_lifecycle import FILLED

TOKEN = "alert-token-e2e"
GRAFANA_SECRET = "grafana-hmac-secret"
TRIAGE = "C0ALERTS"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def send(url: str, body: Any, *, token: str | None = TOKEN, headers: dict[str, str] | None = None,
         raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """POST as Alertmanager's webhook notifier does (JSON, Authorization from http_config)."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json",
                                                                               **(headers or {})})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def alert_config(alerts: dict[str, Any] | None = None, **top: Any):
    return e2e_config(alerts={"triage_channel": TRIAGE, **(alerts or {})}, admins=[ALICE], **top)


def serve(slack: SlackStandIn, database_url: str, config=None, **settings: Any) -> Timed:
    slack.add_channel("alerts", channel_id=TRIAGE, members=[ALICE, BOB])
    settings.setdefault("firebell_alert_token", SecretStr(TOKEN))
    return start_timed(slack, database_url, config or alert_config(), FakeClock(T0 + timedelta(minutes=5)),
                       **settings)


@pytest.fixture
def served(slack: SlackStandIn, database_url: str) -> Iterator[Timed]:
    running = serve(slack, database_url)
    try:
        yield running
    finally:
        stop(running)


def url(running: Timed, path: str = "/alerts/alertmanager") -> str:
    return f"{running.server.url}{path}"


def stored_alerts(running: Timed) -> int:
    with running.db.read() as session:
        return session.execute(select(func.count()).select_from(AlertRow)).scalar_one()


def notifications(running: Timed) -> list[AlertNotificationRow]:
    """The notifications as stored at the door (routed or not yet)."""
    with running.db.read() as session:
        return list(session.execute(select(AlertNotificationRow).order_by(AlertNotificationRow.id)).scalars())


def episodes(running: Timed) -> list[AlertEpisodeRow]:
    with running.db.read() as session:
        return list(session.execute(select(AlertEpisodeRow).order_by(AlertEpisodeRow.id)).scalars())


def group(n: int, severity: str = "critical") -> dict[str, Any]:
    """A distinct alert group (its own groupKey), one alert."""
    body = fixture("alertmanager_firing.json")
    body["groupKey"] = f'{{}}:{{alertname="Down", instance="host-{n}"}}'
    body["groupLabels"] = {"alertname": "Down", "instance": f"host-{n}"}
    body["commonLabels"] = {"alertname": "Down", "instance": f"host-{n}", "severity": severity}
    body["commonAnnotations"] = {"summary": f"host-{n} is down"}
    alert = body["alerts"][0]
    alert.update(labels=dict(body["commonLabels"]), annotations={"summary": f"host-{n} is down"},
                 fingerprint=f"f{n:015d}")
    body["alerts"] = [alert]
    return body


def channel_texts(slack: SlackStandIn, channel_id: str) -> str:
    return "\n".join(m.text + json.dumps(m.blocks or [], ensure_ascii=False) for m in slack.messages(channel_id))


def test_a_firing_group_opens_one_incident_with_its_alerts(served: Timed):
    slack = served.slack
    status, body = send(url(served), fixture("alertmanager_firing.json"))
    [stored] = notifications(served)  # stored before the 200; routed from the outbox
    assert status == 200 and body == {"status": "stored", "notification": stored.id}
    assert stored.source == "alertmanager" and json.loads(stored.body) == fixture("alertmanager_firing.json")
    served.firebell.settle(30)
    assert stored_alerts(served) == 2 and [e.state for e in episodes(served)] == ["incident"]
    assert notifications(served)[0].routed_at == served.clock()
    [incident] = served.incidents()
    assert incident.title == "Checkout API error rate above 5%" and incident.severity.value == "sev1"
    assert "instance=checkout-1:8080" in incident.description and "generatorURL" not in incident.description
    assert "source: http://prometheus.example.com:9090/graph" in incident.description
    assert incident.declared_by == slack.bot_user_id
    alerts_on_timeline = [e for e in incident.timeline if e.kind == "alert"]
    assert len(alerts_on_timeline) == 2 and alerts_on_timeline[0].at.isoformat().startswith("2026-11-24T09:52")
    channel = served.incident_channel(1)
    card = served.card(channel.id)
    assert "Checkout API error rate above 5%" in json.dumps(card.blocks)
    assert incident.detected_at.isoformat() == "2026-11-24T09:52:00+00:00"  # the earliest startsAt
    shown = served.slack.wait_for(lambda: "*Detected*" in (t := json.dumps(
        served.slack.message(channel.id, card.ts).blocks, ensure_ascii=False)) and t)
    assert f"<!date^{int(incident.detected_at.timestamp())}^" in shown
    with served.db.read() as session:
        [(detected,)] = session.execute(select(AlertEpisodeRow.incident_id)).all()
    assert detected == incident.id


def test_the_same_notification_five_times_sequentially_and_concurrently_is_one_incident(served: Timed):
    body = fixture("alertmanager_firing.json")
    answers = [send(url(served), body) for _ in range(2)]
    threads = [threading.Thread(target=lambda: answers.append(send(url(served), body))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200] * 5
    assert sorted(a["notification"] for _, a in answers) == [n.id for n in notifications(served)]  # each stored
    served.firebell.settle(30)
    assert all(n.routed_at is not None for n in notifications(served))
    assert [i.ref for i in served.incidents()] == ["INC-1"]
    assert len(served.slack.calls_to("conversations.create")) == 1
    assert stored_alerts(served) == 2
    channel = served.incident_channel(1)
    served.card(channel.id)
    assert "new alert" not in channel_texts(served.slack, channel.id)  # repeats post nothing
    [episode] = episodes(served)
    assert episode.notifications == 5 and episode.status == "firing" and episode.resolved_at is None


def test_a_group_first_seen_resolved_is_stored_resolved_with_one_notification(served: Timed):
    body = group(4, severity="info")
    body["status"] = "resolved"
    body["alerts"][0].update(status="resolved", endsAt="2026-11-24T10:30:00Z")
    assert send(url(served), body)[0] == 200
    served.firebell.settle(30)
    [episode] = episodes(served)
    assert (episode.notifications, episode.status, episode.resolved_at) == (1, "resolved", served.clock())
    assert send(url(served), body)[0] == 200
    served.firebell.settle(30)
    assert stored_alerts(served) == 1  # the same again: counted, nothing new
    [episode] = episodes(served)
    assert (episode.notifications, episode.status, episode.resolved_at) == (2, "resolved", served.clock())


def test_a_new_alert_of_the_group_is_told_once_and_resolution_asks_the_commander(served: Timed):
    slack, body = served.slack, fixture("alertmanager_firing.json")
    send(url(served), body)
    served.firebell.settle(30)
    channel = served.incident_channel(1)
    third = copy.deepcopy(body["alerts"][0])
    third["labels"]["instance"] = "checkout-3:8080"
    third["fingerprint"] = "a1b2c3d4e5f60003"
    body["alerts"].append(third)
    for _ in range(2):
        assert send(url(served), body)[0] == 200
    served.firebell.settle(30)
    news = [m for m in slack.messages(channel.id) if "new alert" in m.text]
    assert len(news) == 1 and "checkout-3:8080" in json.dumps(news[0].blocks)

    resolved = fixture("alertmanager_resolved.json")
    resolved["alerts"].append({**third, "status": "resolved", "endsAt": "2026-11-24T10:20:00Z"})
    for _ in range(2):
        status, answer = send(url(served), resolved)
        assert status == 200
    served.firebell.settle(30)
    told = [m for m in slack.messages(channel.id) if "all resolved" in m.text]
    assert len(told) == 1 and "/incident resolve" in json.dumps(told[0].blocks)
    assert "3 resolved" in told[0].text
    [incident] = served.incidents()
    assert incident.status.value != "resolved"  # Firebell never closes an incident by itself
    assert [e.kind for e in incident.timeline].count("alert_resolved") == 3


def test_a_group_that_fires_again_after_its_incident_was_resolved_starts_a_new_one_naming_it(served: Timed):
    slack, body = served.slack, fixture("alertmanager_firing.json")
    send(url(served), body)
    served.firebell.settle(30)
    channel = served.incident_channel(1)
    served.card(channel.id)
    send(url(served), fixture("alertmanager_resolved.json"))
    served.driver.slash_command(ALICE, "resolve", channel_id=channel.id)  # ALICE is an admin
    [view] = slack.wait_for(lambda: [v for v in slack.views_of(ALICE) if v.callback_id == "incident_resolve_modal"])
    served.driver.submit_view(ALICE, view.id, FILLED)
    slack.wait_for(lambda: served.incidents()[0].status.value == "resolved")
    served.firebell.settle(30)
    assert send(url(served), fixture("alertmanager_firing.json"))[0] == 200
    served.firebell.settle(30)
    assert stored_alerts(served) == 2 and len(served.incidents()) == 1  # a late repeat: nothing

    again = fixture("alertmanager_firing.json")
    for alert in again["alerts"]:
        alert["startsAt"] = "2026-11-24T12:00:00Z"
    assert send(url(served), again)[0] == 200
    served.firebell.settle(30)
    first, second = served.incidents()
    assert (first.ref, second.ref) == ("INC-1", "INC-2")
    new_channel = served.incident_channel(2)
    texts = slack.wait_for(lambda: (t := channel_texts(slack, new_channel.id)) and "fired again" in t and t)
    assert "last time INC-1" in texts and "A bad index hint" in texts


def test_a_group_below_auto_declare_goes_to_triage_and_declare_there_declares_once(served: Timed):
    slack, driver = served.slack, served.driver
    body = group(1, severity="info")  # sev4: not auto-declared
    assert send(url(served), body)[0] == 200
    served.firebell.settle(30)
    assert [e.state for e in episodes(served)] == ["triage"]
    assert served.incidents() == []
    [post] = slack.wait_for(lambda: slack.messages(TRIAGE))
    assert "host-1 is down" in post.text and "SEV4" in post.text
    for _ in range(2):
        driver.click(BOB, channel_id=TRIAGE, message_ts=post.ts, action_id="alert_declare")
    served.firebell.settle(30)
    [incident] = served.incidents()
    assert incident.title == "host-1 is down" and incident.declared_by == BOB and incident.severity.value == "sev4"
    edited = slack.message(TRIAGE, post.ts)
    assert "INC-1" in json.dumps(edited.blocks) and "alert_declare" not in json.dumps(edited.blocks)
    assert any("already declared" in e.text for e in slack.ephemerals)


def test_dismiss_and_the_triage_message_is_edited_when_the_group_resolves(served: Timed):
    slack, driver = served.slack, served.driver
    body = group(2, severity="info")
    send(url(served), body)
    served.firebell.settle(30)
    [post] = slack.wait_for(lambda: slack.messages(TRIAGE))
    driver.click(ALICE, channel_id=TRIAGE, message_ts=post.ts, action_id="alert_dismiss")
    served.firebell.settle(30)
    assert "Dismissed by" in json.dumps(slack.message(TRIAGE, post.ts).blocks)
    body["status"] = "resolved"
    body["alerts"][0].update(status="resolved", endsAt="2026-11-24T10:30:00Z")
    send(url(served), body)
    served.firebell.settle(30)
    assert "Resolved" in json.dumps(slack.message(TRIAGE, post.ts).blocks)
    assert len(slack.messages(TRIAGE)) == 1 and served.incidents() == []


def test_a_big_groups_triage_message_shows_its_first_ten_alerts_firing_first_and_counts_the_rest(served: Timed):
    slack = served.slack
    body = group(3, severity="info")
    first = body["alerts"][0]
    body["alerts"] = [{**first, "labels": {**first["labels"], "instance": f"host-3-{n:02d}"},
                       "annotations": {"summary": f"replica {n:02d} is down"}, "fingerprint": f"g{n:015d}",
                       "startsAt": f"2026-11-24T09:{10 + n:02d}:00Z",
                       **({"status": "resolved", "endsAt": "2026-11-24T10:30:00Z"} if n < 3 else {})}
                      for n in range(14)]
    assert send(url(served), body)[0] == 200
    served.firebell.settle(30)
    [post] = slack.wait_for(lambda: slack.messages(TRIAGE))
    [alerts_block] = [b for b in post.blocks if b.get("block_id") == "alert_alerts"]
    lines = alerts_block["text"]["text"].split("\n")
    assert len(lines) == 11 and lines[-1] == "…and 4 more"
    shown = [next(f"{n:02d}" for n in range(14) if f"replica {n:02d} is down" in line) for line in lines[:10]]
    assert shown == [f"{n:02d}" for n in range(3, 13)]  # the 11 firing ones first, oldest first; resolved last
    assert "11 of 14" in json.dumps(post.blocks)


def test_a_storm_of_200_groups_in_10_seconds_gives_at_most_max_new_incidents_and_one_digest(served: Timed):
    slack = served.slack
    for n in range(200):
        assert send(url(served), group(n))[0] == 200
        served.clock.advance(milliseconds=50)
    served.firebell.settle(60)
    assert len(served.incidents()) == 5
    [digest] = slack.wait_for(lambda: slack.messages(TRIAGE))
    assert "195 alert groups" in digest.text
    assert stored_alerts(served) == 200
    states = [e.state for e in episodes(served)]
    assert states.count("incident") == 5 and states.count("digest") == 195
    buttons = [b for b in digest.blocks if b.get("accessory", {}).get("action_id") == "alert_declare"]
    assert buttons and len(digest.blocks) <= 50
    served.driver.click(ALICE, channel_id=TRIAGE, message_ts=digest.ts, action_id="alert_declare",
                        block_id=buttons[0]["block_id"])
    served.firebell.settle(30)
    assert len(served.incidents()) == 6
    assert "INC-6" in json.dumps(slack.message(TRIAGE, digest.ts).blocks)


def test_grafana_with_its_hmac_signature(slack: SlackStandIn, database_url: str):
    running = serve(slack, database_url, firebell_grafana_secret=SecretStr(GRAFANA_SECRET))
    try:
        raw = json.dumps(fixture("grafana_firing.json")).encode()
        signature = hmac.new(GRAFANA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        grafana = url(running, "/alerts/grafana")
        assert send(grafana, None, raw=raw)[0] == 401  # no signature
        assert send(grafana, None, raw=raw, headers={"X-Grafana-Alerting-Signature": "0" * 64})[0] == 401
        assert stored_alerts(running) == 0
        stamped = hmac.new(GRAFANA_SECRET.encode(), b"1764669600:" + raw, hashlib.sha256).hexdigest()
        status, body = send(grafana, None, raw=raw, headers={"X-Grafana-Alerting-Signature": stamped,
                                                              "X-Grafana-Alerting-Timestamp": "1764669600"})
        assert status == 200 and body["status"] == "stored"
        running.firebell.settle(30)
        [episode] = episodes(running)
        assert episode.state == "incident"  # warning → sev3, auto-declared
        alerts = stored_alerts(running)
        assert send(grafana, None, raw=raw, headers={"X-Grafana-Alerting-Signature": signature})[0] == 200
        running.firebell.settle(30)
        assert stored_alerts(running) == alerts and [n.source for n in notifications(running)] == ["grafana"] * 2
        [incident] = running.incidents()
        assert incident.severity.value == "sev3" and "https://grafana.example.com/d/mem/memory" in incident.description
    finally:
        stop(running)


def test_refusals_store_nothing_and_never_answer_500(served: Timed):
    body = fixture("alertmanager_firing.json")
    assert send(url(served), body, token=None)[0] == 401
    assert send(url(served), body, token="wrong")[0] == 401
    status, answer = send(url(served), None, raw=b"{not json")
    assert status == 400 and "JSON" in answer["error"]
    broken = copy.deepcopy(body)
    del broken["alerts"][0]["startsAt"]
    status, answer = send(url(served), broken)
    assert status == 400 and answer["error"] == "alerts.0.startsAt: is required"
    status, answer = send(url(served), {**body, "version": "3"})
    assert status == 400 and "version" in answer["error"]
    huge = {**body, "commonAnnotations": {"summary": "x" * (1024 * 1024)}}
    assert send(url(served), huge)[0] == 413
    assert send(url(served), [body])[0] == 400
    assert stored_alerts(served) == 0 and episodes(served) == [] and notifications(served) == []


def test_without_a_token_the_doors_are_not_there(slack: SlackStandIn, database_url: str):
    running = serve(slack, database_url, firebell_alert_token=None)
    try:
        for path in ("/alerts/alertmanager", "/alerts/grafana", "/changes"):
            assert send(url(running, path), fixture("alertmanager_firing.json"))[0] == 404
    finally:
        stop(running)


def test_the_database_down_is_a_503_and_the_retry_is_stored(served: Timed):
    body = fixture("alertmanager_firing.json")
    deps = served.firebell.deps
    healthy = deps.db
    deps.db = Database.from_url("postgresql://postgres@127.0.0.1:1/gone")
    try:
        status, answer = send(url(served), body)
        assert status == 503 and "send it again" in answer["error"]
    finally:
        deps.db.dispose()
        deps.db = healthy
    assert stored_alerts(served) == 0 and notifications(served) == []
    assert send(url(served), body)[0] == 200 and len(notifications(served)) == 1  # stored before the 200
    served.firebell.settle(30)
    assert stored_alerts(served) == 2
    assert [i.ref for i in served.incidents()] == ["INC-1"]


def test_two_replicas_receiving_the_same_notification_at_once_create_one_incident(served: Timed, slack, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas run on PostgreSQL")
    other = serve_also(served, slack, database_url)
    try:
        body = fixture("alertmanager_firing.json")
        answers: list[tuple[int, dict[str, Any]]] = []
        targets = [url(served), url(other)] * 3
        threads = [threading.Thread(target=lambda u=u: answers.append(send(u, body))) for u in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [status for status, _ in answers] == [200] * 6
        assert served.firebell.settle(30) and other.firebell.settle(30)
        assert [i.ref for i in served.incidents()] == ["INC-1"]
        assert len(slack.calls_to("conversations.create")) == 1 and stored_alerts(served) == 2
    finally:
        stop(other)


def serve_also(served: Timed, slack: SlackStandIn, database_url: str) -> Timed:
    """A second replica on the same database (and the same clock)."""
    return start_timed(slack, database_url, alert_config(), served.clock, firebell_alert_token=SecretStr(TOKEN))


def test_a_notification_taken_before_a_stop_is_declared_after_the_restart_once(slack: SlackStandIn,
                                                                               database_url: str):
    first = serve(slack, database_url)
    first.firebell.delivery.stop()  # the process goes down right after its 200: nothing delivered yet
    try:
        assert send(url(first), fixture("alertmanager_firing.json"))[0] == 200
        assert slack.calls_to("conversations.create") == []
        [stored] = notifications(first)  # stored, not routed: nothing of it but its body and its outbox item
        assert stored.routed_at is None and episodes(first) == [] and stored_alerts(first) == 0
    finally:
        stop(first)
    second = start_timed(slack, database_url, alert_config(), FakeClock(T0 + timedelta(minutes=6)),
                         firebell_alert_token=SecretStr(TOKEN))
    try:
        assert second.firebell.settle(30)
        assert [i.ref for i in second.incidents()] == ["INC-1"]
        assert [n.routed_at is not None for n in notifications(second)] == [True] and stored_alerts(second) == 2
        with second.db.transaction() as session:  # its declare item is tried again after it committed
            session.execute(update(OutboxRow).where(OutboxRow.kind == "alert_declare").values(
                delivered_at=None, claimed_at=None, claimed_by=None, last_error="lost answer"))
        second.firebell.deps.outbox.wake()
        assert second.firebell.settle(30)
        assert [i.ref for i in second.incidents()] == ["INC-1"] and len(slack.calls_to("conversations.create")) == 1
    finally:
        stop(second)


def test_firebell_alerts_lists_the_groups_with_their_state_and_counts(served: Timed, tmp_path):
    send(url(served), fixture("alertmanager_firing.json"))
    send(url(served), group(7, severity="info"))
    send(url(served), group(8, severity="info"))
    served.firebell.settle(30)
    post = next(m for m in served.slack.messages(TRIAGE) if "host-8" in m.text)
    served.driver.click(ALICE, channel_id=TRIAGE, message_ts=post.ts, action_id="alert_dismiss")
    served.firebell.settle(30)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["DATABASE_URL"] = served.firebell.deps.db.engine.url.render_as_string(hide_password=False)
    result = subprocess.run([sys.executable, "-m", "bot", "alerts", "--since", "30d", "--json"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = {item["title"]: item for item in json.loads(result.stdout)}
    assert listed["Checkout API error rate above 5%"]["state"] == "incident"
    assert listed["Checkout API error rate above 5%"]["incident"] == "INC-1"
    assert listed["Checkout API error rate above 5%"]["alerts"] == 2
    assert listed["host-7 is down"]["state"] == "triaged" and listed["host-8 is down"]["state"] == "dismissed"
    text = subprocess.run([sys.executable, "-m", "bot", "alerts", "--since", "30d"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60).stdout
    assert "incident INC-1" in text and "dismissed" in text and "2 alert(s), 2 firing" in text


def test_with_firebell_as_commander_the_paged_on_call_is_asked_to_confirm(slack: SlackStandIn, database_url: str):
    slack.add_user("U0ONCALL", "oncall")
    config = alert_config(tiers=[{"name": "L1", "members": ["U0ONCALL"]}],
                          severities={"sev1": {"ack": "5m", "update_every": "30m", "resolve": "4h", "page": "L1"}})
    running = serve(slack, database_url, config)
    try:
        send(url(running), fixture("alertmanager_firing.json"))
        running.firebell.settle(30)
        channel = running.incident_channel(1)
        slack.wait_for(lambda: [m for m in slack.dms("U0ONCALL") if "You are paged" in m.text])
        send(url(running), fixture("alertmanager_resolved.json"))
        running.firebell.settle(30)
        [told] = [m for m in slack.messages(channel.id) if "all resolved" in m.text]
        assert "<@U0ONCALL>, confirm the service is healthy and resolve INC-1" in json.dumps(told.blocks)
    finally:
        stop(running)


def test_a_notification_whose_routing_item_is_delivered_twice_is_routed_once(slack: SlackStandIn, database_url: str):
    """The outbox delivers at least once (a lost answer, a claim that ran out): the second run of the routing finds
    its notification routed, and does nothing."""
    running = serve(slack, database_url)
    running.firebell.delivery.stop()  # the routing is run by hand below, twice
    try:
        assert send(url(running), fixture("alertmanager_firing.json"))[0] == 200
        [stored] = notifications(running)
        # queued long enough ago that it no longer gives way to the doors (the answer has only just gone)
        deps, attempt = running.firebell.deps, Attempt(1, outbox.now() - alert_intake.ROUTING_DEFERRED)
        alert_intake.route_notification(deps, attempt=attempt, notification_id=stored.id)
        queued = queued_kinds(running)
        assert stored_alerts(running) == 2 and [(e.state, e.notifications) for e in episodes(running)] == [
            ("incident", 1)]
        alert_intake.route_notification(deps, attempt=attempt, notification_id=stored.id)
        assert stored_alerts(running) == 2 and [(e.state, e.notifications) for e in episodes(running)] == [
            ("incident", 1)]
        assert queued_kinds(running) == queued and queued.count("alert_declare") == 1
        assert notifications(running)[0].routed_at is not None
    finally:
        stop(running)


def queued_kinds(running: Timed) -> list[str]:
    with running.db.read() as session:
        return list(session.execute(select(OutboxRow.kind).order_by(OutboxRow.id)).scalars())


def test_while_a_notification_is_coming_in_its_routing_waits_and_other_lanes_go_on(served: Timed, monkeypatch):
    """The routing gives way to the doors (one interpreter: work beside the requests adds to their answer time) by
    being put back, not by holding a delivery worker: an incident declared meanwhile gets its channel and card."""
    monkeypatch.setattr(alert_intake, "ROUTING_DEFERRED", timedelta(minutes=5))  # the test decides when it is quiet
    with served.firebell.deps.alert_doors.request():  # another notification still being taken in
        status, _ = send(url(served), fixture("alertmanager_firing.json"))
        assert status == 200
        served.driver.slash_command(ALICE, "declare sev2 Payments slow", channel_id="C0GENERAL")
        channel = served.incident_channel(1)
        served.card(channel.id)  # another lane was delivered meanwhile
        assert [n.routed_at for n in notifications(served)] == [None] and episodes(served) == []
    served.slack.wait_for(lambda: notifications(served)[0].routed_at is not None, timeout=30)
    served.firebell.settle(30)
    assert [e.state for e in episodes(served)] == ["incident"] and len(served.incidents()) == 2
    with served.db.read() as session:  # put back while the doors were busy: not counted as tries
        [attempts] = session.execute(select(OutboxRow.attempts).where(OutboxRow.kind == alert_intake.ROUTE)).scalars()
    assert attempts == 1

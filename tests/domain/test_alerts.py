"""Alert intake's rules as pure functions: the payloads as the senders document them, severity by label, what is new
in a notification, where a group goes, and the storm limit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import alerts
from bot.domain.alerts import AlertPolicy, Known, Rate, Route, Source
from bot.domain.incident import Severity
from bot.web.alert_payloads import AlertmanagerV4, BadPayload, ChangeBody, GrafanaBody, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def alertmanager(name: str = "alertmanager_firing.json") -> alerts.AlertGroup:
    return parse(AlertmanagerV4, fixture(name)).to_domain()


def test_an_alertmanager_notification_is_read_as_documented():
    group = alertmanager()
    assert group.source is Source.ALERTMANAGER and group.status == "firing" and group.receiver == "firebell"
    assert group.group_labels == {"alertname": "HighErrorRate", "service": "checkout"}
    first, second = group.alerts
    assert first.fingerprint == "a1b2c3d4e5f60001" and first.labels["instance"] == "checkout-1:8080"
    assert first.starts_at == datetime(2026, 11, 24, 9, 52, tzinfo=UTC)
    assert first.ends_at is None  # 0001-01-01T00:00:00Z while firing
    assert first.generator_url.startswith("http://prometheus.example.com:9090/graph")
    assert group.key_hash == alerts.group_key_hash(group.group_key) and len(group.key_hash) == 64


def test_a_grafana_notification_keeps_its_own_fields_and_aware_times():
    group = parse(GrafanaBody, fixture("grafana_firing.json")).to_domain()
    assert group.source is Source.GRAFANA and group.title == "[FIRING:2] High memory usage (blue)"
    assert group.group_key.startswith("org1/")  # one Grafana serves several organisations
    first = group.alerts[0]
    assert first.starts_at == datetime(2026, 11, 24, 9, 51, 3, 157076, tzinfo=UTC)
    assert first.dashboard_url == "https://grafana.example.com/d/mem/memory" and first.values == {"B": 44.23943737541908,
                                                                                                   "C": 1}
    assert group.alerts[1].dashboard_url is None  # "" means none


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: b.pop("groupKey"), "groupKey: is required"),
    (lambda b: b.update(version="3"), "version"),
    (lambda b: b.update(status="burning"), "status"),
    (lambda b: b.update(alerts=[]), "alerts"),
    (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
    (lambda b: b["alerts"][1].pop("labels"), "alerts.1.labels: is required"),
])
def test_a_body_that_is_not_the_shape_gets_a_reason_naming_the_key(change, reason):
    body = fixture("alertmanager_firing.json")
    change(body)
    with pytest.raises(BadPayload, match=reason.replace(".", r"\.")):
        parse(AlertmanagerV4, body)


def test_an_alert_without_fingerprint_gets_one_from_its_labels():
    body = fixture("alertmanager_firing.json")
    for alert in body["alerts"]:
        del alert["fingerprint"]
    first, second = parse(AlertmanagerV4, body).to_domain().alerts
    assert first.fingerprint != second.fingerprint
    assert first.fingerprint == parse(AlertmanagerV4, body).to_domain().alerts[0].fingerprint


def test_severity_comes_from_the_label_the_policy_names():
    policy = AlertPolicy()
    assert alerts.alert_severity({"severity": "critical"}, policy) is Severity.SEV1
    assert alerts.alert_severity({"severity": "Warning"}, policy) is Severity.SEV3
    assert alerts.alert_severity({"severity": "sev2"}, policy) is Severity.SEV2
    assert alerts.alert_severity({"severity": "page-me"}, policy) is Severity.SEV3  # default_severity
    assert alerts.alert_severity({}, replace(policy, default_severity=Severity.SEV4)) is Severity.SEV4
    own = replace(policy, severity_label="priority", severities={"p1": Severity.SEV1})
    assert alerts.alert_severity({"priority": "p1", "severity": "info"}, own) is Severity.SEV1


def test_a_group_is_as_severe_as_its_most_severe_firing_alert():
    group = alertmanager()
    mixed = replace(group, alerts=(replace(group.alerts[0], labels={"severity": "warning"}),
                                   replace(group.alerts[1], labels={"severity": "error"})))
    assert alerts.severity_of(mixed, AlertPolicy()) is Severity.SEV2
    assert alerts.severity_of(group, AlertPolicy()) is Severity.SEV1


def test_news_tells_first_firings_and_new_resolutions_and_nothing_for_a_repeat():
    group = alertmanager()
    nothing_known = Known({})
    first = alerts.news(group, nothing_known)
    assert [a.fingerprint for a in first.fired] == ["a1b2c3d4e5f60001", "a1b2c3d4e5f60002"] and not first.resolved
    known = Known({a.identity: False for a in group.alerts})
    assert alerts.news(group, known).empty  # repeat_interval, an HA twin, a retry
    resolved = alertmanager("alertmanager_resolved.json")
    later = alerts.news(resolved, known)
    assert not later.fired and len(later.resolved) == 2
    assert alerts.news(resolved, Known({a.identity: True for a in group.alerts})).empty
    refired = replace(group, alerts=(replace(group.alerts[0], starts_at=group.alerts[0].starts_at + timedelta(hours=1)),))
    assert len(alerts.news(refired, Known({a.identity: True for a in group.alerts})).fired) == 1


def test_route_declares_auto_declared_severities_until_the_storm_limit():
    group, policy = alertmanager(), AlertPolicy(max_new_incidents=Rate(5, timedelta(minutes=10)))
    assert alerts.route(group, Severity.SEV1, policy, declared_recently=0) is Route.INCIDENT
    assert alerts.route(group, Severity.SEV1, policy, declared_recently=4) is Route.INCIDENT
    assert alerts.route(group, Severity.SEV1, policy, declared_recently=5) is Route.DIGEST
    assert alerts.route(group, Severity.SEV4, policy, declared_recently=0) is Route.TRIAGE
    assert alerts.route(alertmanager("alertmanager_resolved.json"), Severity.SEV1, policy, 0) is Route.NOWHERE


def test_the_window_counts_only_what_was_declared_within_it():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    declared = [now - timedelta(minutes=m) for m in (0, 3, 9, 10, 30)]
    assert alerts.recent_count(declared, now, timedelta(minutes=10)) == 3


def test_title_is_the_common_summary_else_the_alertname_and_grouping_labels():
    group = alertmanager()
    assert alerts.incident_title(group) == "Checkout API error rate above 5%"
    bare = replace(group, common_annotations={})
    assert alerts.incident_title(bare) == "HighErrorRate (service=checkout)"


def test_description_lists_the_alerts_with_labels_and_links_and_detected_at_is_the_earliest_start():
    group = alertmanager()
    text = alerts.incident_description(group)
    assert "instance=checkout-1:8080" in text and "instance=checkout-2:8080" in text
    assert "source: http://prometheus.example.com:9090/graph?g0.expr=" in text
    assert alerts.detected_at(group.alerts) == datetime(2026, 11, 24, 9, 52, tzinfo=UTC)
    many = replace(group, alerts=group.alerts * 30, truncated_alerts=7)
    assert len(alerts.incident_description(many)) <= 3000 and "more alert(s)" in alerts.incident_description(many)


def test_a_change_event_needs_a_service_and_a_summary():
    change = parse(ChangeBody, {"service": "checkout", "summary": "Deploy v1.2", "at": "2026-11-24T09:40:00+01:00"})
    assert change.at == datetime(2026, 11, 24, 8, 40, tzinfo=UTC)
    with pytest.raises(BadPayload, match="summary: is required"):
        parse(ChangeBody, {"service": "checkout"})
    with pytest.raises(BadPayload, match="service"):
        parse(ChangeBody, {"service": "  ", "summary": "x"})

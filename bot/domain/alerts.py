"""Alerts from monitoring, in Firebell's words: an alert group as the sender grouped it, the severity the policy gives
it, what is new in a notification, where a group goes (an incident, triage, or the storm digest), and the words an
incident declared from it starts with. Pure functions of (group, policy, what is known, now).

Alertmanager (and Grafana, which speaks its dialect) delivers at least once, re-sends a group whenever it changes and
every ``repeat_interval`` while it fires, and several Alertmanagers in HA mode send the same notification each. So
an alert is known by its fingerprint and the moment it started firing: the same pair again is a repeat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.incident import Severity

FIRING = "firing"
RESOLVED = "resolved"
MAX_LISTED = 20  # alerts listed in one incident description or channel post; the rest are counted


class Source(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"

    @property
    def label(self) -> str:
        return "Alertmanager" if self is Source.ALERTMANAGER else "Grafana"


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None while firing (Alertmanager sends 0001-01-01T00:00:00Z)
    fingerprint: str
    generator_url: str | None = None
    dashboard_url: str | None = None  # Grafana
    panel_url: str | None = None
    silence_url: str | None = None
    values: Mapping[str, float] | None = None

    @property
    def identity(self) -> tuple[str, datetime]:
        """One firing of one alert: a repeat of it carries the same pair; a re-fire starts at another moment."""
        return self.fingerprint, self.starts_at

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def summary(self) -> str | None:
        return self.annotations.get("summary") or self.annotations.get("description")

    @property
    def firing(self) -> bool:
        return self.status == FIRING


@dataclass(frozen=True)
class AlertGroup:
    """One notification of one alert group."""

    source: Source
    group_key: str
    status: str  # resolved only when every alert in it has resolved
    receiver: str
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    alerts: tuple[Alert, ...]
    external_url: str | None = None
    truncated_alerts: int = 0
    title: str | None = None  # Grafana's rendered title
    message: str | None = None

    @property
    def key_hash(self) -> str:
        """SHA-256 of the group key, as Alertmanager's own PagerDuty and Opsgenie notifiers key their incidents."""
        return group_key_hash(self.group_key)

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.firing)

    @property
    def resolved(self) -> bool:
        return self.status == RESOLVED or not self.firing


def group_key_hash(group_key: str) -> str:
    return hashlib.sha256(group_key.encode()).hexdigest()


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable fingerprint for an alert whose sender gave none: its label set, as Alertmanager's is."""
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Rate:
    """At most ``count`` in any ``per``."""

    count: int
    per: timedelta


@dataclass(frozen=True)
class AlertPolicy:
    """The ``alerts:`` section of firebell.yml, as the domain uses it."""

    severity_label: str = "severity"
    severities: Mapping[str, Severity] = field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    default_severity: Severity = Severity.SEV3
    auto_declare: frozenset[Severity] = frozenset({Severity.SEV1, Severity.SEV2, Severity.SEV3})
    triage_channel: str | None = None
    max_new_incidents: Rate = field(default_factory=lambda: Rate(5, timedelta(minutes=10)))


DEFAULT_SEVERITY_MAP: Mapping[str, Severity] = {"critical": Severity.SEV1, "error": Severity.SEV2,
                                                "warning": Severity.SEV3, "info": Severity.SEV4}


def alert_severity(alert_labels: Mapping[str, str], policy: AlertPolicy) -> Severity:
    value = alert_labels.get(policy.severity_label)
    if value is None:
        return policy.default_severity
    found = policy.severities.get(value.strip().lower())
    if found is None:
        found = next((s for s in Severity if s.value == value.strip().lower()), None)  # "sev2" means what it says
    return found or policy.default_severity


def severity_of(group: AlertGroup, policy: AlertPolicy) -> Severity:
    """The most severe of its firing alerts (all of them when none fires), each mapped by the policy."""
    alerts = group.firing or group.alerts
    if not alerts:
        return alert_severity(group.common_labels, policy)
    return min((alert_severity(a.labels, policy) for a in alerts), key=lambda s: s.rank)


class Route(StrEnum):
    """Where a group's first notification (of an episode) goes."""

    INCIDENT = "incident"  # declared at once
    TRIAGE = "triage"  # posted for L1 in the triage channel, with Declare and Dismiss
    DIGEST = "digest"  # a storm: one line in the triage digest
    NOWHERE = "nowhere"  # nothing fires (a resolved notification of a group never seen firing): only stored


def recent_count(declared: Iterable[datetime], now: datetime, window: timedelta) -> int:
    return sum(1 for at in declared if now - window < at <= now)


def storm_admits(declared_recently: int, limit: Rate) -> bool:
    """May one more incident be declared from alerts, with ``declared_recently`` in the last ``limit.per``?"""
    return declared_recently < limit.count


def route(group: AlertGroup, severity: Severity, policy: AlertPolicy, declared_recently: int) -> Route:
    """An episode's route: auto-declared severities become incidents until the storm limit; the rest, and a storm's
    surplus, go to triage (or, with no triage channel, are only stored and listed by `firebell alerts`)."""
    if not group.firing:
        return Route.NOWHERE
    if severity in policy.auto_declare:
        if storm_admits(declared_recently, policy.max_new_incidents):
            return Route.INCIDENT
        return Route.DIGEST
    return Route.TRIAGE


@dataclass(frozen=True)
class Known:
    """What is stored of an episode's alerts: each identity, and whether it was seen resolved."""

    resolved: Mapping[tuple[str, datetime], bool]


@dataclass(frozen=True)
class News:
    """What a notification adds to what was known: alerts firing for the first time, alerts newly resolved."""

    fired: tuple[Alert, ...]
    resolved: tuple[Alert, ...]

    @property
    def empty(self) -> bool:
        return not self.fired and not self.resolved


def news(group: AlertGroup, known: Known) -> News:
    """A repeat (same alerts, same states) is no news; an HA twin of a notification already taken is none either."""
    fired: list[Alert] = []
    resolved: list[Alert] = []
    seen: set[tuple[str, datetime]] = set()
    for alert in group.alerts:
        if alert.identity in seen:
            continue
        seen.add(alert.identity)
        was = known.resolved.get(alert.identity)
        if was is None:
            (fired if alert.firing else resolved).append(alert)
        elif not was and not alert.firing:
            resolved.append(alert)
    return News(tuple(fired), tuple(resolved))


def incident_title(group: AlertGroup) -> str:
    """The group's common summary; else its alertname with the grouping labels."""
    summary = (group.common_annotations.get("summary") or "").strip()
    if summary:
        return _one_line(summary, 150)
    names = {a.name for a in group.alerts}
    name = group.common_labels.get("alertname") or group.group_labels.get("alertname") or (
        names.pop() if len(names) == 1 else "Alerts")
    extra = ", ".join(f"{k}={v}" for k, v in sorted(group.group_labels.items()) if k != "alertname")
    return _one_line(f"{name} ({extra})" if extra else name, 150)


def links_of(alert: Alert) -> list[tuple[str, str]]:
    links = [("source", alert.generator_url), ("dashboard", alert.dashboard_url), ("panel", alert.panel_url),
             ("silence", alert.silence_url)]
    return [(name, url) for name, url in links if url]


def alert_line(alert: Alert, common: Collection[str] = ()) -> str:
    """One alert as a line: its name, its labels the group does not share, its summary and its links."""
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname" and k not in common)
    parts = [alert.name + (f" {{{labels}}}" if labels else "")]
    if alert.summary:
        parts.append(_one_line(alert.summary, 200))
    links = " ".join(f"{name}: {url}" for name, url in links_of(alert))  # plain: shown escaped, linked by Slack
    return " · ".join(parts + ([links] if links else []))


def incident_description(group: AlertGroup, limit: int = 3000) -> str:
    """The group's alerts with their labels and links, within the description's limit."""
    head = [f"From {group.source.label} (receiver {group.receiver})."]
    if group.common_labels:
        head.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(group.common_labels.items())))
    if description := (group.common_annotations.get("description") or group.message or "").strip():
        head.append(_one_line(description, 500))
    tail = [f"Sender: {group.external_url}"] if group.external_url else []
    lines: list[str] = []
    firing = group.firing
    for alert in firing[:MAX_LISTED]:
        line = f"• {alert_line(alert, group.common_labels)}"
        if len("\n".join([*head, *lines, line, *tail])) > limit - 40:  # room for the count of the rest
            break
        lines.append(line)
    more = len(firing) - len(lines) + group.truncated_alerts
    if more > 0:
        lines.append(f"…and {more} more alert(s).")
    text = "\n".join([*head, *lines, *tail])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detected_at(alerts: Sequence[Alert]) -> datetime | None:
    """When the trouble started: the earliest startsAt."""
    return min((a.starts_at for a in alerts), default=None)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class State(StrEnum):
    """Where an episode is now."""

    INCIDENT = "incident"  # declared (by Firebell, or from triage by a person)
    TRIAGE = "triage"
    DIGEST = "digest"
    DISMISSED = "dismissed"
    NOWHERE = "nowhere"

    @property
    def awaits_triage(self) -> bool:
        return self in (State.TRIAGE, State.DIGEST)


def episode_over(state: State, status: str, incident_status: str | None) -> bool:
    """Is this episode behind us, so that a new firing starts the next one? An incident's episode lasts while the
    incident is open (it is Firebell's one incident for the group); any other while the group fires."""
    if state is State.INCIDENT:
        return incident_status == "resolved"
    return status == RESOLVED


@dataclass(frozen=True)
class EpisodeView:
    """An episode as the triage message, the digest and `firebell alerts` show it."""

    episode_id: int
    source: Source
    title: str
    severity: Severity
    state: State
    status: str  # firing | resolved
    lines: tuple[str, ...]  # its first alerts (of ``total``), one line each, the firing ones first
    firing: int
    total: int
    incident_ref: str | None = None
    incident_channel: str | None = None
    handled_by: str | None = None  # who declared it from triage, or dismissed it
    previous: str | None = None  # "INC-12 (root cause: …)": the incident of its last episode

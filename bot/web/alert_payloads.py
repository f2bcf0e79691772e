"""The bodies monitoring sends, parsed at the door into the domain's types: Prometheus Alertmanager's webhook
(version 4, `notify/webhook` in its source), Grafana Alerting's webhook contact point (the same shape plus its own
fields), and a change event from a CI/CD pipeline. Unknown keys are accepted (newer senders add some); the keys
Firebell relies on are required and typed; a body that is not the shape gets a short reason naming the key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.domain import alerts
from bot.domain.alerts import Alert, AlertGroup, Source

ZERO_TIME_YEAR = 1  # Alertmanager's endsAt while an alert fires: 0001-01-01T00:00:00Z


class BadPayload(ValueError):
    """The body is not the documented shape; the message says where, in a line."""


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AwareTime = Annotated[datetime, AfterValidator(_aware)]
Labels = dict[str, str]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class WebhookAlert(_Body):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: AwareTime = Field(alias="startsAt")
    ends_at: AwareTime | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    fingerprint: str | None = Field(default=None, max_length=200)
    # Grafana's own
    dashboard_url: str | None = Field(default=None, alias="dashboardURL")
    panel_url: str | None = Field(default=None, alias="panelURL")
    silence_url: str | None = Field(default=None, alias="silenceURL")
    values: dict[str, float | None] | None = None

    def to_domain(self) -> Alert:
        ends = None if self.ends_at is None or self.ends_at.year <= ZERO_TIME_YEAR else self.ends_at
        values = {k: v for k, v in self.values.items() if v is not None} if self.values else None
        return Alert(status=self.status, labels=dict(self.labels), annotations=dict(self.annotations),
                     starts_at=self.starts_at, ends_at=ends,
                     fingerprint=self.fingerprint or alerts.label_fingerprint(self.labels),
                     generator_url=self.generator_url or None, dashboard_url=self.dashboard_url or None,
                     panel_url=self.panel_url or None, silence_url=self.silence_url or None, values=values)


class AlertmanagerBody(_Body):
    version: str
    group_key: str = Field(alias="groupKey", min_length=1, max_length=4000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: Labels = Field(default_factory=dict, alias="groupLabels")
    common_labels: Labels = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Labels = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str | None = Field(default=None, alias="externalURL")
    alerts: list[WebhookAlert] = Field(min_length=1)

    def to_domain(self, source: Source = Source.ALERTMANAGER) -> AlertGroup:
        return AlertGroup(source=source, group_key=self.group_key, status=self.status, receiver=self.receiver,
                          group_labels=dict(self.group_labels), common_labels=dict(self.common_labels),
                          common_annotations=dict(self.common_annotations),
                          alerts=tuple(a.to_domain() for a in self.alerts), external_url=self.external_url or None,
                          truncated_alerts=self.truncated_alerts)


class AlertmanagerV4(AlertmanagerBody):
    @field_validator("version")
    @classmethod
    def _version_4(cls, version: str) -> str:
        if version != "4":
            raise ValueError(f"version {version!r}: Firebell reads version 4 of Alertmanager's webhook")
        return version


class GrafanaBody(AlertmanagerBody):
    org_id: int | None = Field(default=None, alias="orgId")
    title: str | None = None
    state: str | None = None
    message: str | None = None

    def to_domain(self, source: Source = Source.GRAFANA) -> AlertGroup:
        group = super().to_domain(source)
        key = f"org{self.org_id}/{group.group_key}" if self.org_id is not None else group.group_key
        return AlertGroup(**{**group.__dict__, "group_key": key, "title": self.title or None,
                             "message": self.message or None})


class ChangeBody(_Body):
    """POST /changes: what a pipeline says it changed."""

    service: str = Field(min_length=1, max_length=120)
    summary: str = Field(min_length=1, max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    author: str | None = Field(default=None, max_length=120)
    at: AwareTime | None = None
    id: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("service", "summary")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("cannot be blank")
        return value.strip()


def notification(source: Source, raw: Any) -> AlertGroup:
    """A stored notification's body (a JSON object the door accepted) as the domain's group."""
    model = GrafanaBody if source is Source.GRAFANA else AlertmanagerV4
    return parse(model, raw).to_domain()


def parse(model: type[_Body], raw: Any) -> Any:
    """The body as ``model``, or BadPayload with the first problem, naming its key (``alerts.0.startsAt: …``)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is required"
        raise BadPayload(f"{where}: {message}" if where else message) from None

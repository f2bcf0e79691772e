"""Settings from the environment (and ``.env``) and the policy file ``firebell.yml``, both validated once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.alerts import DEFAULT_SEVERITY_MAP, AlertPolicy, Rate
from bot.domain.clocktime import BusinessHours
from bot.domain.incident import Severity
from bot.domain.oncall import Hours, Layer, Schedule
from bot.domain.sla import Policy
from bot.durations import format_duration, parse_duration
from bot.observability import logs
from bot.pagers.interface import PagerConfig
from bot.slack.pacing import SLACK_PER_MINUTE, Limits

DEFAULT_CONFIG_FILE = "firebell.yml"
SLACK_API_URL = "https://slack.com/api/"

Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]


def _slack_id(pattern: str, message: str) -> Any:
    """A Slack id, refused with ``message`` (which says what was expected and where to find it) when it is not one."""
    shape = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and not shape.fullmatch(value):
            raise ValueError(f"{value!r} is not {message}")
        return value

    return BeforeValidator(check)


ChannelId = Annotated[str, _slack_id(r"[CG][A-Z0-9]+", "a channel id; write the channel's id, e.g. C0123ABCD, found "
                                                       "in the channel's details")]
SlackUserId = Annotated[str, _slack_id(r"[UW][A-Z0-9]+", "a user id; write the person's member id, e.g. U0123ABCD, "
                                                         "found in their profile (⋮ → Copy member ID)")]
TierMember = Annotated[str, _slack_id(r"[UWS][A-Z0-9]+", "a user or user group id; write a person's member id, e.g. "
                                                         "U0123ABCD (their profile: ⋮ → Copy member ID), or a user "
                                                         "group's id, e.g. S0123ABCD")]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class BusinessHoursConfig(_Strict):
    """e.g. {timezone: Europe/Berlin, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00",
    holidays: [2026-12-25]}: the clocks of that severity count only these hours."""

    timezone: str
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
        return name

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHoursConfig:
        if self.start >= self.end:
            raise ValueError("business_hours: start must be before end")
        return self

    def to_domain(self) -> BusinessHours:
        return BusinessHours(timezone=self.timezone, days=frozenset(WEEKDAYS.index(d) for d in self.days),
                             start=self.start, end=self.end, holidays=frozenset(self.holidays))


class SeverityPolicy(_Strict):
    ack: Duration
    update_every: Duration
    resolve: Duration
    page: str | None = None
    business_hours: BusinessHoursConfig | None = None  # none: the clocks run around the clock

    def sla(self) -> Policy:
        hours = self.business_hours.to_domain() if self.business_hours else None
        return Policy(ack=self.ack, resolve=self.resolve, update_every=self.update_every, hours=hours)


class OnCallHours(_Strict):
    """e.g. {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}: the layer covers only these local hours."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    start: time
    end: time

    @model_validator(mode="after")
    def _start_before_end(self) -> OnCallHours:
        if self.start >= self.end:
            raise ValueError("start must be before end (a night shift is two layers' hours, or a layer without hours)")
        return self


class ScheduleLayer(_Strict):
    """One rotation, e.g. {users: [U01, U02], every: 1w, handoff: "2026-11-30T09:00", timezone: Europe/Berlin}."""

    users: list[SlackUserId] = Field(min_length=1)
    every: Duration
    handoff: datetime  # local wall-clock time in `timezone`
    timezone: TimeZoneName = "UTC"
    hours: OnCallHours | None = None

    @field_validator("handoff")
    @classmethod
    def _local(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("write the handoff as a local time without an offset (e.g. \"2026-11-30T09:00\"); "
                             "the layer's timezone key says where")
        return value

    def to_domain(self) -> Layer:
        hours = (Hours(frozenset(WEEKDAYS.index(d) for d in self.hours.days), self.hours.start, self.hours.end)
                 if self.hours else None)
        return Layer(tuple(self.users), self.every, self.handoff, self.timezone, hours)


class Tier(_Strict):
    name: str = Field(min_length=1, max_length=40)
    schedule: list[ScheduleLayer] | None = None  # layers, highest first: the on-call person is paged
    members: list[TierMember] = Field(default_factory=list)  # always paged (in addition to the on-call person)
    usergroup: Annotated[str, _slack_id(r"S[A-Z0-9]+", "a user group id; write the group's id, e.g. S0123ABCD")] | \
        None = None  # kept equal to the tier's current on-call
    ack_timeout: Duration | None = None
    pager: PagerConfig | None = None  # also send this tier's pages to PagerDuty or Opsgenie

    @field_validator("members")
    @classmethod
    def _has_members(cls, members: list[str], info: ValidationInfo) -> list[str]:
        if not members and not info.data.get("schedule"):
            raise ValueError("a tier needs at least one member (a Slack user id U… or user group id S…) or a schedule")
        return members

    @field_validator("schedule")
    @classmethod
    def _has_layers(cls, layers: list[ScheduleLayer] | None) -> list[ScheduleLayer] | None:
        if layers is not None and not layers:
            raise ValueError("a schedule needs at least one layer, e.g. [{users: [U01, U02], every: 1w, "
                             "handoff: \"2026-11-30T09:00\", timezone: Europe/Berlin}]")
        return layers

    @model_validator(mode="after")
    def _has_someone(self) -> Tier:
        if not self.members and not self.schedule:
            raise ValueError("a tier needs members (Slack user ids U… or user group ids S…), a schedule, or both")
        return self

    def rotation(self) -> Schedule:
        """The tier's schedule as the domain reads it (no layers: nobody is ever on call by rotation)."""
        return Schedule(tuple(layer.to_domain() for layer in self.schedule or ()))

class RateConfig(_Strict):
    """e.g. {count: 5, per: 10m}."""

    count: int = Field(ge=1, le=1000)
    per: Duration


class AlertsConfig(_Strict):
    """How alerts from Alertmanager and Grafana become incidents (POST /alerts/alertmanager, /alerts/grafana)."""

    severity_label: str = Field(default="severity", min_length=1, max_length=100)
    severities: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    default_severity: Severity = Severity.SEV3
    auto_declare: list[Severity] = Field(default_factory=lambda: [Severity.SEV1, Severity.SEV2, Severity.SEV3])
    triage_channel: ChannelId | None = None  # where L1 sees alerts that are not incidents yet
    max_new_incidents: RateConfig = Field(default_factory=lambda: RateConfig(count=5, per="10m"))

    @field_validator("severities")
    @classmethod
    def _lowercase_values(cls, given: dict[str, Severity]) -> dict[str, Severity]:
        return {value.strip().lower(): severity for value, severity in given.items()}

    def policy(self) -> AlertPolicy:
        return AlertPolicy(severity_label=self.severity_label, severities=dict(self.severities),
                           default_severity=self.default_severity, auto_declare=frozenset(self.auto_declare),
                           triage_channel=self.triage_channel,
                           max_new_incidents=Rate(self.max_new_incidents.count, self.max_new_incidents.per))


class ChangesConfig(_Strict):
    window: Duration = timedelta(hours=2)  # the changes shown when an incident starts


DEFAULT_SEVERITIES: dict[Severity, SeverityPolicy] = {
    Severity.SEV1: SeverityPolicy(ack="5m", update_every="30m", resolve="4h"),
    Severity.SEV2: SeverityPolicy(ack="15m", update_every="1h", resolve="8h"),
    Severity.SEV3: SeverityPolicy(ack="1h", update_every="4h", resolve="3d"),
    Severity.SEV4: SeverityPolicy(ack="4h", update_every="1d", resolve="7d"),
}
DEFAULT_ROOT_CAUSES = [
    "software-bug", "configuration", "hardware-failure", "data-corruption",
    "capacity", "dependency", "security", "human-error", "unknown",
]


class FirebellConfig(_Strict):
    """The policy a team writes in firebell.yml. Every key has a default."""

    broadcast_channel: ChannelId | None = None
    oncall_channel: ChannelId | None = None  # handoff notices at each shift change
    channel_prefix: str = Field(default="inc", pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$")
    severities: dict[Severity, SeverityPolicy] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    reminders_at: list[float] = Field(default_factory=lambda: [0.5, 0.8])
    tiers: list[Tier] = Field(default_factory=list)
    root_cause_categories: list[Annotated[str, Field(min_length=1, max_length=75)]] = Field(
        default_factory=lambda: list(DEFAULT_ROOT_CAUSES), min_length=1
    )
    admins: list[SlackUserId] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    changes: ChangesConfig = Field(default_factory=ChangesConfig)

    @field_validator("severities")
    @classmethod
    def _all_severities(cls, given: dict[Severity, SeverityPolicy]) -> dict[Severity, SeverityPolicy]:
        return {sev: given.get(sev, DEFAULT_SEVERITIES[sev]) for sev in Severity}

    @field_validator("reminders_at")
    @classmethod
    def _fractions(cls, fractions: list[float]) -> list[float]:
        for value in fractions:
            if not 0 < value < 1:
                raise ValueError(f"{value} is not a fraction between 0 and 1 (e.g. 0.5 for half-way)")
        return sorted(set(fractions))

    @field_validator("root_cause_categories")
    @classmethod
    def _unique_categories(cls, categories: list[str]) -> list[str]:
        if len(set(categories)) != len(categories):
            raise ValueError("categories must be unique")
        return categories

    @model_validator(mode="after")
    def _tier_references(self) -> FirebellConfig:
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("tiers: tier names must be unique")
        for sev, policy in self.severities.items():
            if policy.page is not None and policy.page not in names:
                known = ", ".join(names) or "none are configured"
                raise ValueError(f"severities.{sev}.page: no tier named {policy.page!r} (tiers: {known})")
        return self

    def tier(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name.lower() == name.lower()), None)


def load_config(path: Path | None) -> FirebellConfig:
    """Read and validate the YAML file; no file means the built-in defaults."""
    if path is None:
        return FirebellConfig()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({_one_line(str(exc))})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (broadcast_channel, tiers, …)")
    try:
        return FirebellConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc)}") from None


def describe_errors(exc: ValidationError) -> str:
    """One line per problem, each naming its key path (``severities.sev1.ack: …``)."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        elif error["type"] == "string_pattern_mismatch":
            message = f"{error.get('input')!r} is not valid here"
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


SlackTier = Annotated[int, Field(ge=1, le=4)]  # Slack's rate-limit tiers 1 (~1/min) to 4 (~100/min)


class SlackLimits(_Strict):
    """How fast Firebell calls Slack's Web API (SLACK_LIMITS, as JSON): Slack's documented tiers by default. Change it
    for a workspace whose limits differ, e.g. ``{"per_minute": {"2": 40}, "posts_per_second": 2}``; switch pacing
    off with ``{"pacing": false}`` (a 429's Retry-After is still waited out by every call of its method)."""

    pacing: bool = True
    per_minute: dict[SlackTier, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(SLACK_PER_MINUTE))  # calls a minute, by Slack's tier
    burst: dict[SlackTier, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict)  # calls at once, by tier; a tier not given: a minute's worth (at least 2)
    posts_per_second: float = Field(default=1.0, gt=0)  # chat.postMessage, per channel
    post_burst: int = Field(default=3, ge=1)  # chat.postMessage calls one channel takes at once
    methods: dict[str, SlackTier] = Field(default_factory=dict)  # a method's tier, where yours differs
    longest_sleep: float = Field(default=1.0, ge=0, le=60)  # seconds a delivery worker waits for a turn in place;
    # a turn further away puts the item back until then, and the worker delivers other incidents' work meanwhile
    headroom: float = Field(default=0.25, ge=0, le=10)  # intervals of margin on calls past a burst (jitter)

    @field_validator("per_minute")
    @classmethod
    def _every_tier(cls, given: dict[int, float]) -> dict[int, float]:
        return {**SLACK_PER_MINUTE, **given}

    def limits(self) -> Limits | None:
        """The pacer's limits; None when pacing is off."""
        if not self.pacing:
            return None
        return Limits(per_minute=dict(self.per_minute), burst=dict(self.burst),
                             posts_per_second=self.posts_per_second, post_burst=self.post_burst,
                             methods=dict(self.methods), longest_sleep=self.longest_sleep, headroom=self.headroom)

    @classmethod
    def of(cls, limits: Limits | None) -> SlackLimits:
        """The settings that give ``limits`` (None: pacing off): tests and benchmarks build them from `Limits`."""
        if limits is None:
            return cls(pacing=False)
        return cls.model_validate({"per_minute": dict(limits.per_minute), "burst": dict(limits.burst),
                                   "posts_per_second": limits.posts_per_second, "post_burst": limits.post_burst,
                                   "methods": dict(limits.methods), "longest_sleep": limits.longest_sleep,
                                   "headroom": limits.headroom})


class Settings(BaseSettings):
    """What the process reads from its environment (or ``.env``)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = Field(default=None, description="the app's bot token (xoxb-…); required")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="the app's signing secret; required, every request's signature is checked")
    slack_app_token: SecretStr | None = Field(
        default=None, description="the app-level token (xapp-…) for `serve --socket-mode`: Slack's requests over "
                                  "Socket Mode, no public URL")
    slack_api_url: str = Field(default=SLACK_API_URL, description="Slack's Web API base URL")
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'firebell.db'}",
                              description="sqlite:///./firebell.db (default) or postgresql://user:pass@host/db")
    firebell_config: Path | None = Field(default=None, description="the policy file; default ./firebell.yml when "
                                                                    "it exists, else the built-in defaults")
    port: int = Field(default=3000, description="the HTTP port (POST /slack/events, /alerts/…, /changes; GET "
                                                "/healthz, /metrics)")
    slack_timeout: int = Field(default=10, description="seconds a Web API call may take before it counts as failed")
    slack_retry_pause: float = Field(default=1.0, gt=0, le=60,
                                     description="seconds before retrying a Slack call that may heal (doubled each "
                                                 "time)")
    slack_limits: SlackLimits = Field(
        default_factory=SlackLimits, description="JSON: how fast to call Slack's Web API (default Slack's tiers; "
                                                 "README, \"Slack's rate limits\"); '{\"pacing\": false}' "
                                                 "switches pacing off")
    log_level: Annotated[str, AfterValidator(logs.parse_level_name)] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Annotated[str, AfterValidator(logs.parse_format)] = Field(
        default="text", description="text, or json: one JSON object per line")
    firebell_metrics_token: SecretStr | None = Field(
        default=None, description="when set, GET /metrics wants `Authorization: Bearer <token>`")
    firebell_safety_poll: float = Field(
        default=10.0, gt=0, le=600, description="seconds the scheduler and the outbox sleep at most without looking "
                                                "at the database (they are woken at once for their own work)")
    firebell_deadline_notify: bool = Field(
        default=True, description="on PostgreSQL, tell the other replicas of each new deadline with NOTIFY (off: "
                                  "they find it within FIREBELL_SAFETY_POLL seconds)")
    firebell_calendar_token: SecretStr | None = Field(
        default=None, description="when set, GET /oncall/<tier>.ics?token=<it> serves the tier's next 8 weeks of "
                                  "shifts as iCalendar; unset, there is no calendar feed")
    firebell_alert_token: SecretStr | None = Field(
        default=None, description="the bearer token of POST /alerts/alertmanager, /alerts/grafana and /changes; "
                                  "unset: those doors answer 404")
    firebell_grafana_secret: SecretStr | None = Field(
        default=None, description="when set, POST /alerts/grafana also wants Grafana's HMAC signature "
                                  "(X-Grafana-Alerting-Signature)")

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings of this process; a bad value is a ConfigError naming its variable."""
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']).upper()}: "
                                 f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
            raise ConfigError(f"the environment: {problems}") from None

    @classmethod
    def environment_help(cls) -> str:
        """Each environment variable with what it means and its default (`firebell serve --help`)."""
        lines = ["environment (or a .env file in the working directory):"]
        for name, info in cls.model_fields.items():
            default = info.get_default(call_default_factory=False)
            shown = f" (default {default})" if info.default_factory is None and default not in (None, "") else ""
            lines.append(f"  {name.upper():<24}{info.description or ''}{shown}")
        return "\n".join(lines)

    def calendar_token(self) -> str | None:
        return self.firebell_calendar_token.get_secret_value() if self.firebell_calendar_token else None

    def metrics_token(self) -> str | None:
        return self.firebell_metrics_token.get_secret_value() if self.firebell_metrics_token else None

    def alert_token(self) -> str | None:
        return self.firebell_alert_token.get_secret_value() if self.firebell_alert_token else None

    def grafana_secret(self) -> str | None:
        return self.firebell_grafana_secret.get_secret_value() if self.firebell_grafana_secret else None

    def config_path(self) -> Path | None:
        if self.firebell_config is not None:
            return self.firebell_config
        default = Path.cwd() / DEFAULT_CONFIG_FILE
        return default if default.exists() else None

    def require_slack(self, *, socket_mode: bool = False) -> tuple[str, str]:
        """The bot token and the signing secret (over Socket Mode: the app-level token, as no request is signed),
        or a ConfigError naming what is missing."""
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        secret = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
        app_token = self.slack_app_token.get_secret_value() if self.slack_app_token else ""
        second = ("SLACK_APP_TOKEN", app_token) if socket_mode else ("SLACK_SIGNING_SECRET", secret)
        missing = [name for name, value in (("SLACK_BOT_TOKEN", token), second) if not value]
        if missing:
            raise ConfigError(f"{' and '.join(missing)} must be set (in the environment or .env) to serve Slack"
                              + (" over Socket Mode" if socket_mode else ""))
        if socket_mode and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be the app-level token (xapp-…), with the connections:write "
                              "scope: api.slack.com/apps → your app → Basic Information → App-Level Tokens")
        return token, app_token if socket_mode else secret

    @staticmethod
    def pager_keys(config: FirebellConfig, environ: Mapping[str, str]) -> dict[str, str]:
        """The external pagers' keys: each tier's ``pager.key_env`` names the environment variable that holds it."""
        names = {tier.pager.key_env for tier in config.tiers if tier.pager is not None}
        return {name: environ[name] for name in names if name in environ}


def api_url_with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, FirebellConfig, Settings, load_config
from bot.domain.incident import Severity

FULL = """\
broadcast_channel: C0INCIDENTS
channel_prefix: inc
severities:
  sev1: {ack: 5m, update_every: 30m, resolve: 4h, page: L1}
  sev2: {ack: 15m, update_every: 1h, resolve: 8h, page: L1}
  sev3: {ack: 1h, update_every: 4h, resolve: 3d}
  sev4: {ack: 4h, update_every: 1d, resolve: 7d}
reminders_at: [0.5, 0.8]
tiers:
  - {name: L1, members: [U01, U02], ack_timeout: 10m}
  - {name: L2, members: [U03], ack_timeout: 15m}
  - {name: L3, members: [U04]}
root_cause_categories: [software-bug, configuration, hardware-failure, data-corruption,
                        capacity, dependency, security, human-error, unknown]
admins: [U09]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "firebell.yml"
    path.write_text(text)
    return path


def test_the_documented_file_loads(tmp_path):
    config = load_config(write(tmp_path, FULL))
    assert config.broadcast_channel == "C0INCIDENTS"
    assert config.severities[Severity.SEV1].ack == timedelta(minutes=5)
    assert config.severities[Severity.SEV1].page == "L1"
    assert [t.name for t in config.tiers] == ["L1", "L2", "L3"]
    assert config.tiers[0].ack_timeout == timedelta(minutes=10)
    assert config.tiers[2].ack_timeout is None
    assert config.admins == ["U09"]
    assert "capacity" in config.root_cause_categories


def test_no_file_means_defaults_for_every_key():
    config = load_config(None)
    assert config == FirebellConfig()
    assert set(config.severities) == set(Severity)
    assert config.reminders_at == [0.5, 0.8]
    assert config.channel_prefix == "inc"


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    config = load_config(write(tmp_path, "severities:\n  sev1: {ack: PT2M, update_every: 10m, resolve: 1h}\n"))
    assert config.severities[Severity.SEV1].ack == timedelta(minutes=2)
    assert config.severities[Severity.SEV4].resolve == timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("severities:\n  sev1: {ack: 5x, update_every: 1h, resolve: 2h}\n", "severities.sev1.ack: '5x' is not a duration"),
        ("tiers:\n  - {name: L1, members: []}\n", "tiers.0.members: a tier needs at least one member"),
        ("severities:\n  sev2: {ack: 5m, update_every: 1h, resolve: 2h, page: L7}\n", "no tier named 'L7'"),
        ("broadcats_channel: C1\n", "broadcats_channel: unknown key"),
        ("reminders_at: [0.5, 1.5]\n", "reminders_at: 1.5 is not a fraction"),
        ("channel_prefix: Inc!\n", "channel_prefix: 'Inc!' is not valid here"),
        ("severities:\n  sev9: {ack: 5m, update_every: 1h, resolve: 2h}\n", "severities.sev9"),
        ("admins: [bob]\n", "admins.0: 'bob' is not a user id; write the person's member id, e.g. U0123ABCD, found in "
                             "their profile"),
        ("broadcast_channel: '#incidents'\n", "broadcast_channel: '#incidents' is not a channel id; write the channel's "
                                             "id, e.g. C0123ABCD, found in the channel's details"),
        ("tiers:\n  - {name: L1, members: [alice]}\n", "tiers.0.members.0: 'alice' is not a user or user group id; "
                                                     "write a person's member id, e.g. U0123ABCD"),
        ("- just a list\n", "the top level must be a mapping"),
        ("tiers: [\n", "not valid YAML"),
    ],
)
def test_bad_files_name_the_key_and_the_problem(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert message.replace("Value error, ", "") in str(info.value)
    assert "\n" not in str(info.value)


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    settings = Settings()
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.database_url == f"sqlite:///{tmp_path / 'firebell.db'}"
    assert settings.config_path() is None
    write(tmp_path, FULL)
    assert settings.config_path() == tmp_path / "firebell.yml"
    with pytest.raises(ConfigError, match="^SLACK_SIGNING_SECRET must be set"):
        settings.require_slack()


ONCALL = """\
tiers:
  - name: L1
    ack_timeout: 10m
    schedule:
      - {users: [U01, U02, U03], every: 1w, handoff: "2026-11-30T09:00", timezone: Europe/Berlin}
      - {users: [U07, U08], every: 1d, handoff: "2026-11-30T17:00", timezone: America/New_York,
         hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
  - name: L2
    members: [U04, S0DBAS]
  - name: L3
    schedule: [{users: [U05, U06], every: 2w, handoff: "2026-12-07T10:00", timezone: UTC}]
    usergroup: S0L3ONCALL
oncall_channel: C0ONCALL
"""


def test_the_issue_s_schedules_load_as_written(tmp_path):
    from datetime import UTC, datetime

    config = load_config(write(tmp_path, ONCALL))
    assert config.oncall_channel == "C0ONCALL"
    l1, l2, l3 = config.tiers
    assert [layer.every for layer in l1.schedule] == [timedelta(weeks=1), timedelta(days=1)]
    assert l1.members == [] and l2.schedule is None and l3.usergroup == "S0L3ONCALL"
    assert l1.rotation().at(datetime(2026, 12, 1, 12, tzinfo=UTC)).user == "U01"
    assert l3.rotation().at(datetime(2026, 12, 7, 10, tzinfo=UTC)).user == "U05"
    assert l2.rotation().at(datetime(2026, 12, 7, 10, tzinfo=UTC)).user is None


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ('{users: [U1], every: 1w, handoff: "2026-11-30T09:00", timezone: Mars/Base}',
         "tiers.0.schedule.0.timezone: 'Mars/Base' is not an IANA time zone"),
        ('{users: [U1], every: 1x, handoff: "2026-11-30T09:00"}', "tiers.0.schedule.0.every: '1x' is not a duration"),
        ('{users: [U1], every: 1d, handoff: "2026-11-30T09:00+01:00"}',
         "tiers.0.schedule.0.handoff: write the handoff as a local time without an offset"),
        ('{users: [U1], every: 1d, handoff: "soon"}', "tiers.0.schedule.0.handoff: "),
        ('{users: [], every: 1d, handoff: "2026-11-30T09:00"}', "tiers.0.schedule.0.users: "),
        ('{users: [bob], every: 1d, handoff: "2026-11-30T09:00"}', "tiers.0.schedule.0.users.0: 'bob' is not a user id"),
        ('{users: [U1], every: 1d, handoff: "2026-11-30T09:00", hours: {start: "17:00", end: "09:00"}}',
         "tiers.0.schedule.0.hours: start must be before end"),
        ('{users: [U1], every: 1d, handoff: "2026-11-30T09:00", hours: {days: [someday], start: "9:00", end: "17:00"}}',
         "tiers.0.schedule.0.hours.days.0"),
        ('{users: [U1], evry: 1d, handoff: "2026-11-30T09:00"}', "tiers.0.schedule.0.evry: unknown key"),
    ],
)
def test_bad_schedules_name_the_key(tmp_path, layer, message):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"tiers:\n  - name: L1\n    schedule: [{layer}]\n"))
    assert message in str(info.value)


def test_a_tier_without_members_or_schedule_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="tiers.0: a tier needs members"):
        load_config(write(tmp_path, "tiers: [{name: L1}]\n"))
    with pytest.raises(ConfigError, match="tiers.0.schedule: a schedule needs at least one layer"):
        load_config(write(tmp_path, "tiers: [{name: L1, schedule: []}]\n"))
    with pytest.raises(ConfigError, match="oncall_channel: 'oncall' is not a channel id"):
        load_config(write(tmp_path, "oncall_channel: oncall\n"))
ALERTS = """\
alerts:
  severity_label: severity                     # which label carries the alert's severity
  severities: {critical: sev1, error: sev2, warning: sev3, info: sev4}
  default_severity: sev3
  auto_declare: [sev1, sev2, sev3]             # other severities go to triage_channel
  triage_channel: C0ALERTS                     # where L1 sees alerts that are not incidents yet
  max_new_incidents: {count: 5, per: 10m}      # an alert storm beyond this goes to triage as one digest
changes:
  window: 2h
"""


def test_the_alerts_section_as_the_issue_writes_it_loads(tmp_path):
    config = load_config(write(tmp_path, ALERTS))
    policy = config.alerts.policy()
    assert policy.severity_label == "severity" and policy.triage_channel == "C0ALERTS"
    assert policy.severities["critical"] is Severity.SEV1 and policy.default_severity is Severity.SEV3
    assert policy.auto_declare == {Severity.SEV1, Severity.SEV2, Severity.SEV3}
    assert (policy.max_new_incidents.count, policy.max_new_incidents.per) == (5, timedelta(minutes=10))
    assert config.changes.window == timedelta(hours=2)


def test_the_alerts_section_is_optional():
    policy = FirebellConfig().alerts.policy()
    assert policy.triage_channel is None and policy.max_new_incidents.count == 5
    assert FirebellConfig().changes.window == timedelta(hours=2)


@pytest.mark.parametrize(("text", "named"), [
    ("alerts: {severities: {critical: sev9}}", "alerts.severities.critical"),
    ("alerts: {triage_channel: alerts}", "alerts.triage_channel: 'alerts' is not a channel id"),
    ("alerts: {max_new_incidents: {count: 0, per: 10m}}", "alerts.max_new_incidents.count"),
    ("alerts: {max_new_incidents: {count: 5, per: soon}}", "alerts.max_new_incidents.per"),
    ("alerts: {auto_declare: [sev1, major]}", "alerts.auto_declare.1"),
    ("alerts: {severity_lable: severity}", "alerts.severity_lable: unknown key"),
    ("changes: {window: 0s}", "changes.window"),
])
def test_a_bad_alerts_key_is_named(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(write(tmp_path, text))

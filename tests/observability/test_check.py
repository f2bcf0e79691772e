"""`firebell check`'s logic: what each answer of the probes makes of the checklist, and how it reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from bot.observability.check import (
    AuthFacts,
    ChannelFacts,
    Finding,
    GroupFacts,
    PolicyFacts,
    ProbeFailed,
    SchemaFacts,
    Status,
    TierFacts,
    UserFacts,
    checklist,
    failed,
    log_findings,
    run,
)

SCOPES = frozenset({"commands", "chat:write", "users:read"})
KNOWN = frozenset({"0001", "0002", "0003"})


@dataclass
class World:
    """A workspace, a policy, a database and an environment, as the probes would find them."""

    policy_facts: PolicyFacts | ProbeFailed = field(default_factory=lambda: PolicyFacts(
        "/etc/firebell.yml", "C0INC",
        (TierFacts("L1", ("U0ALICE", "S0DBAS"), "pagerduty", "FIREBELL_PD_KEY"), TierFacts("L2", ("U0BOB",))),
        ("U0ALICE",)))
    schema_facts: SchemaFacts | ProbeFailed = field(default_factory=lambda: SchemaFacts(
        "postgresql://fb:***@db/fb", "0003", "0003", KNOWN))
    auth_facts: AuthFacts | ProbeFailed = field(default_factory=lambda: AuthFacts("T0", "acme", "U0BOT", SCOPES))
    channels: dict[str, ChannelFacts] = field(default_factory=lambda: {
        "C0INC": ChannelFacts("C0INC", "incidents", is_private=False, is_member=True)})
    users: dict[str, UserFacts] = field(default_factory=lambda: {
        "U0ALICE": UserFacts("U0ALICE", "alice"), "U0BOB": UserFacts("U0BOB", "bob")})
    groups: dict[str, GroupFacts] = field(default_factory=lambda: {"S0DBAS": GroupFacts("S0DBAS", 3)})
    environ: dict[str, str] = field(default_factory=lambda: {"FIREBELL_PD_KEY": "R0123"})
    asked: list[str] = field(default_factory=list)

    def _give(self, value):  # noqa: ANN001, ANN202
        if isinstance(value, ProbeFailed):
            raise value
        return value

    def policy(self) -> PolicyFacts:
        return self._give(self.policy_facts)

    def schema(self) -> SchemaFacts:
        return self._give(self.schema_facts)

    def auth(self) -> AuthFacts:
        return self._give(self.auth_facts)

    def channel(self, channel_id: str) -> ChannelFacts | None:
        self.asked.append(channel_id)
        return self.channels.get(channel_id)

    def user(self, user_id: str) -> UserFacts | None:
        self.asked.append(user_id)
        return self.users.get(user_id)

    def usergroup(self, group_id: str) -> GroupFacts | None:
        self.asked.append(group_id)
        return self.groups.get(group_id)

    def env(self, name: str) -> str | None:
        return self.environ.get(name)


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


def test_a_healthy_setup_passes_every_check_and_asks_each_id_once():
    world = World()
    findings = run(world, SCOPES)
    assert [(f.name, f.status) for f in findings] == [
        ("policy file", Status.OK), ("database", Status.OK), ("Slack token", Status.OK), ("Slack scopes", Status.OK),
        ("broadcast channel", Status.OK), ("tier L1", Status.OK), ("tier L2", Status.OK), ("admins", Status.OK),
        ("tier L1 pager", Status.OK)]
    assert not failed(findings)
    assert sorted(world.asked) == ["C0INC", "S0DBAS", "U0ALICE", "U0BOB"]  # alice is in L1 and an admin: once
    found = by_name(findings)
    assert found["tier L1"].detail == "alice, S0DBAS (3 people)"
    assert found["database"].detail == "postgresql://fb:***@db/fb answers, at revision 0003 (current)"
    assert found["tier L1 pager"].detail == "PagerDuty: FIREBELL_PD_KEY is set"
    assert "R0123" not in checklist(findings)  # a key's value is never printed
    assert checklist(findings).endswith("All checks passed.\n")


def test_the_checklist_reads_as_a_list_with_each_fix_under_its_failure():
    world = World(environ={}, users={"U0ALICE": UserFacts("U0ALICE", "alice")})
    text = checklist(run(world, SCOPES))
    assert text.splitlines()[0] == "Firebell check"
    assert "  [ ok ] policy file        /etc/firebell.yml: 2 tiers, broadcast channel C0INC" in text
    assert "  [FAIL] tier L2            U0BOB is not a user in this workspace" in text
    assert "fix: correct firebell.yml tiers → L2 → members: a person's member id (U…) is in their Slack profile" in text
    assert "  [FAIL] tier L1 pager      PagerDuty: FIREBELL_PD_KEY is not set, so its pages cannot be sent" in text
    assert text.endswith("2 checks failed: Firebell will not work as configured until they are fixed.\n")


def test_missing_scopes_fail_and_extra_ones_warn():
    world = World(auth_facts=AuthFacts("T0", "acme", "U0BOT", frozenset({"commands", "users:read", "admin"})))
    scopes = by_name(run(world, SCOPES))["Slack scopes"]
    assert scopes.status is Status.FAIL
    assert scopes.detail.startswith("the token lacks chat:write, which manifest.yml asks for")
    assert "Reinstall to Workspace" in scopes.fix
    world.auth_facts = AuthFacts("T0", "acme", "U0BOT", SCOPES | {"admin"})
    scopes = by_name(run(world, SCOPES))["Slack scopes"]
    assert (scopes.status, scopes.detail) == (Status.WARN, "all 3 of manifest.yml's granted, and also admin, which "
                                                           "Firebell does not use")


def test_scopes_unknown_when_slack_does_not_say():
    world = World(auth_facts=AuthFacts("T0", "acme", "U0BOT", None))
    scopes = by_name(run(world, SCOPES))["Slack scopes"]
    assert scopes.status is Status.WARN and "no x-oauth-scopes header" in scopes.detail


def test_a_refused_token_skips_what_needs_slack_and_fails():
    world = World(auth_facts=ProbeFailed("Slack refused SLACK_BOT_TOKEN: invalid_auth"))
    findings = run(world, SCOPES)
    found = by_name(findings)
    assert found["Slack token"].status is Status.FAIL
    assert found["Slack token"].detail == "Slack refused SLACK_BOT_TOKEN: invalid_auth"
    assert "Bot User OAuth Token" in found["Slack token"].fix
    assert {found[n].status for n in ("Slack scopes", "broadcast channel", "tier L1", "tier L2", "admins")} == {
        Status.SKIP}
    assert found["tier L1 pager"].status is Status.OK  # the environment needs no Slack
    assert world.asked == [] and failed(findings)


def test_a_policy_that_does_not_load_fails_and_nothing_else_is_read_from_it():
    world = World(policy_facts=ProbeFailed("firebell.yml: tiers.0.members.0: 'alice' is not valid here"))
    findings = run(world, SCOPES)
    assert [f.name for f in findings] == ["policy file", "database", "Slack token", "Slack scopes"]
    assert findings[0].status is Status.FAIL and "tiers.0.members.0" in findings[0].detail


def test_the_defaults_warn_but_do_not_fail():
    world = World(policy_facts=PolicyFacts(None, None))
    findings = run(world, SCOPES)
    found = by_name(findings)
    assert found["policy file"].status is Status.WARN
    assert found["policy file"].detail == "none found: the built-in defaults (0 tiers, no broadcast channel)"
    assert found["broadcast channel"].status is Status.WARN
    assert not failed(findings)
    assert checklist(findings).endswith("All checks passed (2 warnings).\n")


def test_database_behind_warns_ahead_fails_down_fails():
    behind = World(schema_facts=SchemaFacts("sqlite:///f.db", "0002", "0003", KNOWN))
    found = by_name(run(behind, SCOPES))["database"]
    assert found.status is Status.WARN and "at revision 0002; this Firebell needs 0003" in found.detail
    assert "`firebell db upgrade`" in found.fix
    ahead = World(schema_facts=SchemaFacts("sqlite:///f.db", "0009", "0003", KNOWN))
    found = by_name(run(ahead, SCOPES))["database"]
    assert found.status is Status.FAIL and "newer than this Firebell (revision 0003)" in found.detail
    down = World(schema_facts=ProbeFailed("postgresql://fb:***@db/fb does not answer (connection refused)"))
    found = by_name(run(down, SCOPES))["database"]
    assert found.status is Status.FAIL and "DATABASE_URL" in found.fix


def test_what_a_read_only_command_says_about_the_schema():
    assert SchemaFacts("sqlite:///f.db", "0003", "0003", KNOWN).problem() is None
    assert SchemaFacts("sqlite:///f.db", "0002", "0003", KNOWN).problem() == (
        "the database is at revision 0002, this Firebell needs 0003; run `firebell db upgrade`")
    assert SchemaFacts("sqlite:///f.db", "0009", "0003", KNOWN).problem() == (
        "the database is at revision 0009, which this Firebell does not know: this Firebell (revision 0003) is "
        "older than the database; run the newer Firebell that upgraded it")
    assert "has no Firebell tables yet" in SchemaFacts("sqlite:///f.db", None, "0003", KNOWN).problem()


def test_broadcast_channel_cases():
    def broadcast(channel: ChannelFacts | None) -> Finding:
        world = World(channels={"C0INC": channel} if channel else {})
        return by_name(run(world, SCOPES))["broadcast channel"]

    missing = broadcast(None)
    assert missing.status is Status.FAIL and "no such channel, or it is private" in missing.detail
    public = broadcast(ChannelFacts("C0INC", "incidents", is_private=False, is_member=False))
    assert public.status is Status.OK and "joins it" in public.detail
    private = broadcast(ChannelFacts("C0INC", "sec", is_private=True, is_member=False))
    assert private.status is Status.FAIL and private.fix == "/invite @Firebell in #sec"
    archived = broadcast(ChannelFacts("C0INC", "old", is_private=False, is_member=True, is_archived=True))
    assert archived.status is Status.FAIL and "archived" in archived.detail


def test_people_who_cannot_be_paged():
    world = World(users={"U0ALICE": UserFacts("U0ALICE", "alice", deleted=True),
                         "U0BOB": UserFacts("U0BOB", "bob-bot", is_bot=True)}, groups={"S0DBAS": GroupFacts("S0DBAS", 0)})
    found = by_name(run(world, SCOPES))
    assert found["tier L1"].status is Status.FAIL
    assert found["tier L1"].detail == ("U0ALICE (alice) is deactivated; user group S0DBAS has no members, so paging it "
                                       "reaches nobody")
    assert found["tier L2"].status is Status.WARN and "is a bot" in found["tier L2"].detail
    world = World(groups={})
    assert "user group S0DBAS not found" in by_name(run(world, SCOPES))["tier L1"].detail


def test_a_slack_error_on_one_lookup_fails_that_check_only():
    class Refusing(World):
        def user(self, user_id: str) -> UserFacts | None:
            if user_id == "U0BOB":
                raise ProbeFailed("users.info: missing_scope")
            return super().user(user_id)

    found = by_name(run(Refusing(), SCOPES))
    assert found["tier L2"].status is Status.FAIL and found["tier L2"].detail == "U0BOB: users.info: missing_scope"
    assert found["tier L1"].status is Status.OK


def test_serve_logs_each_failure_and_warning(caplog):
    world = World(environ={}, policy_facts=replace(World().policy_facts, broadcast_channel=None))
    with caplog.at_level(logging.WARNING):
        log_findings(logging.getLogger("firebell"), run(world, SCOPES))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all(r.levelno == logging.WARNING for r in caplog.records)
    assert messages[0].startswith("check broadcast channel: none set")
    assert messages[1].startswith("check tier L1 pager: PagerDuty: FIREBELL_PD_KEY is not set")


def test_a_schedule_s_people_are_checked_and_its_gaps_in_the_next_14_days_warned_about():
    from datetime import UTC, datetime

    gap = (datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 12, 7, 8, tzinfo=UTC))
    world = World(policy_facts=PolicyFacts("/etc/firebell.yml", "C0INC", (
        TierFacts("L1", (), schedule_users=("U0ALICE", "U0NOBODY"), gaps=(gap,)),
        TierFacts("L2", ("U0BOB",), schedule_users=("U0BOB",)))))
    found = by_name(run(world, SCOPES))
    assert "tier L1" not in found  # no members: only its schedule's people are looked up
    assert found["tier L1 schedule"].status is Status.FAIL
    assert "U0NOBODY is not a user" in found["tier L1 schedule"].detail
    assert "tiers → L1 → schedule → users" in found["tier L1 schedule"].fix
    assert found["tier L1 on-call"].status is Status.WARN
    assert found["tier L1 on-call"].detail == ("nobody on call in the next 14 days: 2026-12-05 00:00 → 2026-12-07 08:00 "
                                               "UTC; a page goes on to L2 at once then")
    assert "/incident oncall override" in found["tier L1 on-call"].fix
    assert (found["tier L2 on-call"].status, found["tier L2"].status) == (Status.OK, Status.OK)


def test_the_live_probe_finds_the_gaps_of_a_schedule_with_hours(tmp_path):
    from bot.config import FirebellConfig, Settings
    from bot.observability.probes import LiveProbes

    config = FirebellConfig.model_validate({"tiers": [{"name": "L1", "schedule": [
        {"users": ["U01"], "every": "1d", "handoff": "2026-11-30T09:00", "hours": {"start": "09:00", "end": "17:00"}}]}]})
    facts = LiveProbes(Settings(_env_file=None), {}, config=config).policy()
    [tier] = facts.tiers
    assert tier.schedule_users == ("U01",) and len(tier.gaps) >= 10  # nights and weekends
    assert all(end > start for start, end in tier.gaps)


def test_a_layer_below_one_without_hours_is_never_on_call_and_check_says_so():
    from bot.config import FirebellConfig, Settings
    from bot.observability.probes import LiveProbes

    config = FirebellConfig.model_validate({"tiers": [{"name": "L1", "schedule": [
        {"users": ["U0ALICE"], "every": "1w", "handoff": "2026-11-30T09:00", "timezone": "Europe/Berlin"},
        {"users": ["U0BOB"], "every": "1d", "handoff": "2026-11-30T17:00", "timezone": "America/New_York",
         "hours": {"start": "09:00", "end": "17:00"}}]}]})
    world = World(policy_facts=LiveProbes(Settings(_env_file=None), {}, config=config).policy())
    found = by_name(run(world, SCOPES))
    assert found["tier L1 layers"].status is Status.WARN
    assert found["tier L1 layers"].detail.startswith("layer 2 is never on call: layer 1 above it has no hours")
    assert "move layer 2 above it" in found["tier L1 layers"].fix
    assert found["tier L1 on-call"].status is Status.OK
def test_the_alerts_triage_channel_is_checked_like_the_broadcast_channel():
    world = World(policy_facts=PolicyFacts("/etc/firebell.yml", "C0INC", triage_channel="C0ALERTS"))
    found = by_name(run(world, SCOPES))
    assert found["triage channel"].status is Status.FAIL and "C0ALERTS" in found["triage channel"].detail
    world.channels["C0ALERTS"] = ChannelFacts("C0ALERTS", "alerts", is_private=False, is_member=True)
    assert by_name(run(world, SCOPES))["triage channel"].status is Status.OK
    assert "triage channel" not in by_name(run(World(), SCOPES))

"""`firebell check`: is this Firebell set up to work? A checklist in which every failure says how to fix it.

The checks ask their questions through `Probes` (the policy file, the database, Slack, the environment), so the
logic here is the same for `firebell check`, for `serve` at start (failures become warnings in the log), and for
tests. A probe answers with facts, ``None`` for "no such thing", or raises `ProbeFailed` with what went wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

T = TypeVar("T")

SCOPES_HEADER = "x-oauth-scopes"
REINSTALL = ("update the app's scopes from manifest.yml (api.slack.com/apps → your app → App Manifest), then "
             "reinstall it (OAuth & Permissions → Reinstall to Workspace)")
PAGER_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}
USER_ID_HELP = "a person's member id (U…) is in their Slack profile: ⋮ → Copy member ID"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    name: str
    status: Status
    detail: str
    fix: str = ""


class ProbeFailed(Exception):
    """A probe could not get its answer; the message says what happened (Slack's error, the database's)."""


@dataclass(frozen=True)
class TierFacts:
    name: str
    members: tuple[str, ...]
    pager_type: str | None = None
    pager_key_env: str | None = None
    schedule_users: tuple[str, ...] = ()  # the people of its schedule's layers (none: no schedule)
    gaps: tuple[tuple[datetime, datetime], ...] = ()  # stretches of the next GAP_DAYS with nobody on call
    shadowed: tuple[tuple[int, int], ...] = ()  # (layer, the layer above without hours that always wins), from 1


GAP_DAYS = 14


@dataclass(frozen=True)
class PolicyFacts:
    source: str | None  # the file read; None: the built-in defaults
    broadcast_channel: str | None
    tiers: tuple[TierFacts, ...] = ()
    admins: tuple[str, ...] = ()
    triage_channel: str | None = None  # alerts.triage_channel


@dataclass(frozen=True)
class SchemaFacts:
    database: str  # the URL without its password
    current: str | None  # None: no Firebell tables yet
    head: str
    known: frozenset[str] = field(default_factory=frozenset)  # every revision this Firebell ships

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def ahead(self) -> bool:
        """The database was upgraded by a newer Firebell than this one."""
        return self.current is not None and self.current not in self.known

    def problem(self) -> str | None:
        """Why a command that only reads cannot use this database (None when it can)."""
        if self.up_to_date:
            return None
        if self.current is None:
            return (f"the database {self.database} has no Firebell tables yet, this Firebell needs revision "
                    f"{self.head}; run `firebell db upgrade` (or check DATABASE_URL)")
        if self.ahead:
            return (f"the database is at revision {self.current}, which this Firebell does not know: this Firebell "
                    f"(revision {self.head}) is older than the database; run the newer Firebell that upgraded it")
        return (f"the database is at revision {self.current}, this Firebell needs {self.head}; "
                "run `firebell db upgrade`")


@dataclass(frozen=True)
class AuthFacts:
    team_id: str
    team: str
    bot_user_id: str
    scopes: frozenset[str] | None  # None: Slack's answer did not say (no x-oauth-scopes header)


@dataclass(frozen=True)
class ChannelFacts:
    id: str
    name: str
    is_private: bool
    is_member: bool
    is_archived: bool = False


@dataclass(frozen=True)
class UserFacts:
    id: str
    name: str
    deleted: bool = False
    is_bot: bool = False


@dataclass(frozen=True)
class GroupFacts:
    id: str
    members: int


class Probes(Protocol):
    def policy(self) -> PolicyFacts: ...
    def schema(self) -> SchemaFacts: ...
    def auth(self) -> AuthFacts: ...
    def channel(self, channel_id: str) -> ChannelFacts | None: ...
    def user(self, user_id: str) -> UserFacts | None: ...
    def usergroup(self, group_id: str) -> GroupFacts | None: ...
    def env(self, name: str) -> str | None: ...


def run(probes: Probes, required_scopes: Collection[str]) -> list[Finding]:
    """Every check, in the order a person would fix things."""
    findings: list[Finding] = []
    policy = _attempt(findings, "policy file", probes.policy, _policy,
                      "correct that key in the file (README: firebell.yml); `firebell check` tells when it is right")
    _attempt(findings, "database", probes.schema, _schema,
             "check DATABASE_URL and that the database server runs and lets Firebell in")
    auth = _attempt(findings, "Slack token", probes.auth, _auth,
                    "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, on its OAuth & Permissions page)")
    if auth is None:
        findings.append(Finding("Slack scopes", Status.SKIP, "needs a token Slack accepts"))
    else:
        findings.append(_scopes(auth.scopes, frozenset(required_scopes)))
    if policy is None:
        return findings
    slack = _Cached(probes) if auth is not None else None
    findings.append(_broadcast(policy.broadcast_channel, slack))
    if policy.triage_channel:
        findings.append(_broadcast(policy.triage_channel, slack, name="triage channel"))
    for tier in policy.tiers:
        if tier.members or not tier.schedule_users:
            findings.append(_people(f"tier {tier.name}", tier.members, slack,
                                    f"firebell.yml tiers → {tier.name} → members"))
        if tier.schedule_users:
            findings.append(_people(f"tier {tier.name} schedule", tier.schedule_users, slack,
                                    f"firebell.yml tiers → {tier.name} → schedule → users"))
            findings.append(_gaps(tier, policy.tiers))
            if tier.shadowed:
                findings.append(_shadowed(tier))
    if policy.admins:
        findings.append(_people("admins", policy.admins, slack, "firebell.yml admins"))
    for tier in policy.tiers:
        if tier.pager_key_env:
            findings.append(_pager(tier, probes.env(tier.pager_key_env)))
    return findings


def failed(findings: Iterable[Finding]) -> bool:
    return any(f.status is Status.FAIL for f in findings)


def checklist(findings: Sequence[Finding]) -> str:
    """The checklist a person reads: one line per check, the fix under each failure and warning."""
    width = max((len(f.name) for f in findings), default=0)
    lines = ["Firebell check"]
    for f in findings:
        lines.append(f"  [{f.status.value:^4}] {f.name:<{width}}  {f.detail}")
        if f.fix and f.status in (Status.FAIL, Status.WARN):
            lines.append(f"  {'':6} {'':<{width}}  fix: {f.fix}")
    failures = sum(f.status is Status.FAIL for f in findings)
    warnings = sum(f.status is Status.WARN for f in findings)
    also = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
    if failures:
        lines.append(f"{failures} check{'s' * (failures != 1)} failed{also}: Firebell will not work as configured "
                     "until they are fixed.")
    else:
        lines.append(f"All checks passed{also}.")
    return "\n".join(lines) + "\n"


def log_findings(logger: logging.Logger, findings: Iterable[Finding]) -> None:
    """What `serve` does with the checks at start: each failure and warning as one WARNING line."""
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN):
            logger.warning("check %s: %s%s", f.name, f.detail, f"; fix: {f.fix}" if f.fix else "")


# --- the checks ------------------------------------------------------------------------------------------------


def _attempt(findings: list[Finding], name: str, probe: Callable[[], T], judge: Callable[[T], Finding],
             fix: str) -> T | None:
    try:
        facts = probe()
    except ProbeFailed as exc:
        findings.append(Finding(name, Status.FAIL, str(exc), fix))
        return None
    findings.append(judge(facts))
    return facts


def _policy(policy: PolicyFacts) -> Finding:
    tiers = f"{len(policy.tiers)} tier{'s' * (len(policy.tiers) != 1)}"
    broadcast = f"broadcast channel {policy.broadcast_channel}" if policy.broadcast_channel else "no broadcast channel"
    if policy.source is None:
        return Finding("policy file", Status.WARN, f"none found: the built-in defaults ({tiers}, {broadcast})",
                       "write firebell.yml in the working directory, or point FIREBELL_CONFIG at one (README)")
    if not policy.tiers:
        return Finding("policy file", Status.WARN, f"{policy.source}: no tiers, so nobody is paged ({broadcast})",
                       "add `tiers:` with the on-call people's member ids")
    return Finding("policy file", Status.OK, f"{policy.source}: {tiers}, {broadcast}")


def _schema(schema: SchemaFacts) -> Finding:
    if schema.up_to_date:
        return Finding("database", Status.OK, f"{schema.database} answers, at revision {schema.current} (current)")
    if schema.ahead:
        return Finding("database", Status.FAIL, f"{schema.database} answers, at revision {schema.current}, newer "
                       f"than this Firebell (revision {schema.head})",
                       "run the Firebell version that upgraded this database, or a newer one")
    at = f"at revision {schema.current}" if schema.current else "with no Firebell tables yet"
    return Finding("database", Status.WARN, f"{schema.database} answers, {at}; this Firebell needs {schema.head}",
                   "`firebell serve` upgrades it at start; or run `firebell db upgrade` now")


def _auth(auth: AuthFacts) -> Finding:
    return Finding("Slack token", Status.OK, f"accepted: bot {auth.bot_user_id} in workspace {auth.team} "
                   f"({auth.team_id})")


def _scopes(granted: frozenset[str] | None, required: frozenset[str]) -> Finding:
    if granted is None:
        return Finding("Slack scopes", Status.WARN, f"Slack's answer to auth.test had no {SCOPES_HEADER} header, so "
                       "the granted scopes could not be compared with manifest.yml's",
                       "compare the app's OAuth & Permissions page with manifest.yml by hand")
    missing, extra = sorted(required - granted), sorted(granted - required)
    if missing:
        return Finding("Slack scopes", Status.FAIL, f"the token lacks {', '.join(missing)}, which manifest.yml asks "
                       "for (README: which feature needs which scope)", REINSTALL)
    if extra:
        return Finding("Slack scopes", Status.WARN, f"all {len(required)} of manifest.yml's granted, and also "
                       f"{', '.join(extra)}, which Firebell does not use", "remove them: " + REINSTALL)
    return Finding("Slack scopes", Status.OK, f"all {len(required)} of manifest.yml's granted, no others")


class _Cached:
    """Each Slack id is looked up once, however many tiers name it."""

    def __init__(self, probes: Probes) -> None:
        self.probes = probes
        self._seen: dict[str, object] = {}

    def look(self, key: str, probe: Callable[[str], T]) -> T:
        if key not in self._seen:
            try:
                self._seen[key] = probe(key)
            except ProbeFailed as exc:
                self._seen[key] = exc
        found = self._seen[key]
        if isinstance(found, ProbeFailed):
            raise found
        return found  # type: ignore[return-value]


def _broadcast(channel_id: str | None, slack: _Cached | None, name: str = "broadcast channel") -> Finding:
    """A channel Firebell posts to (the broadcast channel; the alerts' triage channel)."""
    key = "broadcast_channel" if name == "broadcast channel" else "alerts.triage_channel"
    if channel_id is None:
        return Finding(name, Status.WARN, "none set: new incidents are announced nowhere",
                       "set broadcast_channel in firebell.yml to the channel's id (C…, in its details)")
    if slack is None:
        return Finding(name, Status.SKIP, f"{channel_id}: needs a token Slack accepts")
    try:
        channel = slack.look(channel_id, slack.probes.channel)
    except ProbeFailed as exc:
        return Finding(name, Status.FAIL, f"{channel_id}: {exc}", REINSTALL)
    if channel is None:
        return Finding(name, Status.FAIL, f"{channel_id}: Slack knows no such channel, or it is private and Firebell "
                       "is not in it", "check the id (the channel's details, at the bottom); for a private channel, "
                       "/invite @Firebell in it")
    if channel.is_archived:
        return Finding(name, Status.FAIL, f"#{channel.name} ({channel_id}) is archived",
                       f"unarchive it, or set {key} to another channel")
    if channel.is_member:
        return Finding(name, Status.OK, f"#{channel.name} ({channel_id}), Firebell is in it")
    if channel.is_private:
        return Finding(name, Status.FAIL, f"#{channel.name} ({channel_id}) is private and Firebell is not in it",
                       f"/invite @Firebell in #{channel.name}")
    return Finding(name, Status.OK, f"#{channel.name} ({channel_id}), public: Firebell posts there and joins it "
                   "when it needs to read it")


def _people(name: str, ids: Sequence[str], slack: _Cached | None, where: str) -> Finding:
    if slack is None:
        return Finding(name, Status.SKIP, f"{len(ids)} id(s): needs a token Slack accepts")
    problems: list[str] = []
    warnings: list[str] = []
    named: list[str] = []
    for member in ids:
        try:
            if member.startswith("S"):
                group = slack.look(member, slack.probes.usergroup)
                if group is None:
                    problems.append(f"user group {member} not found (or disabled)")
                elif group.members == 0:
                    warnings.append(f"user group {member} has no members, so paging it reaches nobody")
                else:
                    named.append(f"{member} ({group.members} people)")
                continue
            user = slack.look(member, slack.probes.user)
        except ProbeFailed as exc:
            problems.append(f"{member}: {exc}")
            continue
        if user is None:
            problems.append(f"{member} is not a user in this workspace")
        elif user.deleted:
            problems.append(f"{member} ({user.name}) is deactivated")
        elif user.is_bot:
            warnings.append(f"{member} ({user.name}) is a bot and cannot acknowledge a page")
        else:
            named.append(f"{user.name}")
    if problems:
        groups = "; a user group's id (S…) is in Slack's usergroups.list" if any("group" in p for p in problems) else ""
        return Finding(name, Status.FAIL, "; ".join(problems + warnings), f"correct {where}: {USER_ID_HELP}{groups}")
    if warnings:
        return Finding(name, Status.WARN, "; ".join(warnings), f"replace them in {where}")
    return Finding(name, Status.OK, ", ".join(named) or "nobody")


def _gaps(tier: TierFacts, tiers: Sequence[TierFacts]) -> Finding:
    name = f"tier {tier.name} on-call"
    if not tier.gaps:
        return Finding(name, Status.OK, f"someone is on call at every moment of the next {GAP_DAYS} days")
    first = "; ".join(f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" for start, end in tier.gaps[:3])
    more = f" (and {len(tier.gaps) - 3} more)" if len(tier.gaps) > 3 else ""
    position = [t.name for t in tiers].index(tier.name)
    then = ("its members are paged then" if tier.members else
            f"a page goes on to {tiers[position + 1].name} at once then" if position + 1 < len(tiers) else
            "nobody is paged then (it is the last tier and has no members)")
    return Finding(name, Status.WARN, f"nobody on call in the next {GAP_DAYS} days: {first}{more}; {then}",
                   f"add a layer or widen the hours in firebell.yml tiers → {tier.name} → schedule, or cover it "
                   "with `/incident oncall override`")


def _shadowed(tier: TierFacts) -> Finding:
    layer, above = tier.shadowed[0]
    others = f" (and {len(tier.shadowed) - 1} more below it)" if len(tier.shadowed) > 1 else ""
    return Finding(f"tier {tier.name} layers", Status.WARN,
                   f"layer {layer}{others} is never on call: layer {above} above it has no hours, so it always has "
                   "someone (layers are highest first)",
                   f"give layer {above} `hours`, or move layer {layer} above it, in firebell.yml tiers → {tier.name} "
                   "→ schedule")


def _pager(tier: TierFacts, value: str | None) -> Finding:
    name = f"tier {tier.name} pager"
    kind = PAGER_NAMES.get(tier.pager_type or "", tier.pager_type or "external pager")
    if value:
        return Finding(name, Status.OK, f"{kind}: {tier.pager_key_env} is set")
    return Finding(name, Status.FAIL, f"{kind}: {tier.pager_key_env} is not set, so its pages cannot be sent",
                   f"set {tier.pager_key_env} in Firebell's environment to the {kind} integration's key")

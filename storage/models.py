"""The tables. Times are set in Python (the injected clock), never by the database's own clock."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.incident import incident_ref
from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IncidentCounter(Base):
    """The last incident number given out per Slack team; its row is locked while a number is taken."""

    __tablename__ = "incident_counters"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        # Open incidents are a handful among years of resolved ones: `/incident list` reads only this.
        Index("ix_incidents_open", "team_id", "number", postgresql_where=text("status <> 'resolved'"),
              sqlite_where=text("status <> 'resolved'")),
        Index("ix_incidents_declared_at", "declared_at"),
        Index("uq_incidents_declare_key", "declare_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    declared_by: Mapped[str] = mapped_column(String(32))
    commander: Mapped[str] = mapped_column(String(32))
    comms: Mapped[str | None] = mapped_column(String(32))
    scribe: Mapped[str | None] = mapped_column(String(32))
    declared_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    root_cause_category: Mapped[str | None] = mapped_column(String(75))
    root_cause: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    last_update_at: Mapped[datetime | None]  # the last status update: the update-cadence clock restarts there
    reopened_at: Mapped[datetime | None]  # the resolve and update clocks restart there
    declare_key: Mapped[str | None] = mapped_column(String(80))  # the accepted declare it came from (unique)
    # a private channel: left out of lists, search, App Home and similar posts for anyone not in it (migration 0013).
    # The database's default only, so that an insert that does not name it (a test's row in an older schema) omits it
    private: Mapped[bool] = mapped_column(Boolean, server_default=false())
    detected_at: Mapped[datetime | None]  # when the trouble began: an alert group's earliest startsAt

    timeline: Mapped[list[TimelineEventRow]] = relationship(
        back_populates="incident", order_by="(TimelineEventRow.at, TimelineEventRow.id)",
        cascade="all, delete-orphan",
    )
    follow_ups: Mapped[list[FollowUpRow]] = relationship(
        order_by="FollowUpRow.id", cascade="all, delete-orphan",
    )
    pages: Mapped[list[PageRow]] = relationship(order_by="(PageRow.paged_at, PageRow.id)", viewonly=True)
    clock_runs: Mapped[list[SlaClockRow]] = relationship(
        order_by="(SlaClockRow.started_at, SlaClockRow.id)", viewonly=True)
    severity_changes: Mapped[list[SeverityChangeRow]] = relationship(
        order_by="(SeverityChangeRow.at, SeverityChangeRow.id)", viewonly=True)

    @property
    def ref(self) -> str:
        return incident_ref(self.number)


class TimelineEventRow(Base):
    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    permalink: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[IncidentRow] = relationship(back_populates="timeline")


class FollowUpRow(Base):
    """An action an incident leaves behind (a line of the resolve form, or `/incident followup add`): its owner, its
    due date, open until done. Its id is the N of `/incident followup done N`."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_open", "owner", postgresql_where=text("done_at IS NULL"),
                            sqlite_where=text("done_at IS NULL")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    owner: Mapped[str | None] = mapped_column(String(32))  # a Slack user id
    owner_name: Mapped[str | None] = mapped_column(String(80))  # "@name" as typed, until it is matched to a user
    due_on: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))


class PageRow(Base):
    """One page of one tier for one incident; an escalation is a new page that points at the one before."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    paged_at: Mapped[datetime]
    paged_by: Mapped[str | None] = mapped_column(String(32))  # None: Firebell (policy or escalation)
    status: Mapped[str] = mapped_column(String(16))  # active, acknowledged, escalated, stopped
    oncall_user: Mapped[str | None] = mapped_column(String(32))  # whom the tier's schedule had on call then
    oncall_source: Mapped[str | None] = mapped_column(String(40))  # why: "layer 1", "override #3", "gap"
    escalated_from: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    escalated_at: Mapped[datetime | None]
    renotified_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]

    notices: Mapped[list[PageNoticeRow]] = relationship(order_by="PageNoticeRow.id", cascade="all, delete-orphan")


class PageNoticeRow(Base):
    """The DM a paged person got: kept so it can be edited to show who acknowledged."""

    __tablename__ = "page_notices"
    __table_args__ = (UniqueConstraint("page_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class SlaPauseRow(Base):
    __tablename__ = "sla_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))


class SlaClockRow(Base):
    """One run of one SLA clock (ack, resolve, or one update-cadence cycle): when it was due and when it stopped."""

    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("incident_id", "clock", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    clock: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    target_seconds: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime | None]  # None while paused
    stopped_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # once stopped: "met" or "breached" (kept as it stopped)
    by_seconds: Mapped[int | None] = mapped_column(Integer)  # by how much it was met (margin) or breached (overrun)


class FeedbackRow(Base):
    """One person's answer to "How did the response to INC-N go?": a score of 1 to 5 and an optional comment."""

    __tablename__ = "feedback"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class PersonRow(Base):
    """A Slack user's name as Slack gave it (users.info), kept so reports show names without asking again."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    looked_up_at: Mapped[datetime]


class HomeViewerRow(Base):
    """Who opened Firebell's App Home, and when last: their home is refreshed when incidents change."""

    __tablename__ = "home_viewers"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(index=True)


class SeverityChangeRow(Base):
    """One change of an incident's severity: from, to, by whom, when (the incident's severity history)."""

    __tablename__ = "severity_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(32))
    from_severity: Mapped[str] = mapped_column(String(8))
    to_severity: Mapped[str] = mapped_column(String(8))


class DeadlineRow(Base):
    """Scheduled work with a due time: an SLA reminder or breach notice, or a page's escalation.

    The database is the source of truth. A tick claims due rows (claimed_at/claimed_by, a lease), does the
    work, then sets sent_at; a claim that was never completed is visible and is taken again when its lease runs
    out. A row is never done twice once sent_at is set."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("incident_id", "key"),
        Index("ix_deadlines_pending_due", "due_at",
              postgresql_where=text("sent_at IS NULL AND cancelled_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND cancelled_at IS NULL")),
        # A handoff belongs to no incident: its key alone is unique, so replicas planning it plan it once.
        Index("uq_deadlines_handoff_key", "key", unique=True, postgresql_where=text("kind = 'handoff'"),
              sqlite_where=text("kind = 'handoff'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))  # e.g. "sla:ack:2026-11-24T10:00:00+00:00:0.5", "page:12"
    kind: Mapped[str] = mapped_column(String(16))  # "sla", "page", "followup" or "handoff"
    tier: Mapped[str | None] = mapped_column(String(40))  # a handoff's tier
    clock: Mapped[str | None] = mapped_column(String(16))
    fraction: Mapped[float | None] = mapped_column(Float)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    follow_up_id: Mapped[int | None] = mapped_column(Integer)  # a follow-up's reminder (deleted with its incident)
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class OnCallOverrideRow(Base):
    """Someone on call in a tier for a while, above every layer of its schedule (``/incident oncall override``)."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_team_id_ends_at", "team_id", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(32))


class OutboxRow(Base):
    """Slack work a committed change implies (a post, a card edit, an invite, a DM…), written in the change's own
    transaction and delivered from here: in order per lane (one lane per incident), retried with backoff, marked
    delivered or failed for good."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending_lane", "lane", "id",
              postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL")),
        Index("ix_outbox_failed", "id", postgresql_where=text("failed_at IS NOT NULL"),
              sqlite_where=text("failed_at IS NOT NULL")),  # counted by /healthz, listed by `firebell outbox`
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lane: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class RequestClaim(Base):
    """One row per request that must take effect once (a modal's view id, an event id, a click)."""

    __tablename__ = "request_claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime]


class ProblemCounter(Base):
    """The last problem number given out per Slack team (PRB-1, PRB-2, …); locked while a number is taken."""

    __tablename__ = "problem_counters"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ProblemRow(Base):
    """A problem record: the cause behind recurring incidents (open → known-error → resolved)."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("team_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    workaround: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class ProblemLinkRow(Base):
    """Which problem an incident belongs to: at most one (the incident is the key)."""

    __tablename__ = "problem_incidents"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[str] = mapped_column(String(32))
    linked_at: Mapped[datetime]


class AlertTeamRow(Base):
    """A team's alert intake: its row is locked while a new episode's route is decided, so that two replicas never
    both take the last incident the storm limit allows; it names the storm digest being filled."""

    __tablename__ = "alert_teams"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("alert_digests.id", ondelete="SET NULL"))


class AlertGroupRow(Base):
    """An alert group as its sender keys it (Alertmanager's groupKey, per team and source): one row for ever, whose
    current episode is ``generation``."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("team_id", "source", "key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # alertmanager | grafana
    key_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of group_key
    group_key: Mapped[str] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(Integer, default=0)  # the current episode's (0: none yet)
    first_seen_at: Mapped[datetime]


class AlertEpisodeRow(Base):
    """One episode of a group: from its first firing alert until it resolved (and its incident, if it became one,
    was resolved). Its route was decided once, when it began: an incident, triage, a line of a storm digest."""

    __tablename__ = "alert_episodes"
    __table_args__ = (
        UniqueConstraint("group_id", "generation"),
        Index("ix_alert_episodes_team_decided", "team_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"), index=True)
    generation: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[str] = mapped_column(String(32))
    route: Mapped[str] = mapped_column(String(16))  # incident | triage | digest | nowhere (as decided)
    state: Mapped[str] = mapped_column(String(16))  # incident | triage | digest | dismissed | nowhere (as it is now)
    status: Mapped[str] = mapped_column(String(16))  # firing | resolved: the group's, by its latest notification
    severity: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    receiver: Mapped[str] = mapped_column(Text, default="")
    common_labels: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    decided_at: Mapped[datetime]
    auto_declared: Mapped[bool] = mapped_column(Boolean, default=False)  # counts against max_new_incidents
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    previous_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    handled_by: Mapped[str | None] = mapped_column(String(32))  # who declared it from triage, or dismissed it
    handled_at: Mapped[datetime | None]
    triage_channel: Mapped[str | None] = mapped_column(String(32))
    triage_ts: Mapped[str | None] = mapped_column(String(32))
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("alert_digests.id", ondelete="SET NULL"), index=True)
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]  # when a notification said the whole group resolved
    notifications: Mapped[int] = mapped_column(Integer, default=1)
    truncated_alerts: Mapped[int] = mapped_column(Integer, default=0)


class AlertRow(Base):
    """One firing of one alert (fingerprint + startsAt): stored once, however often it is sent."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("group_id", "fingerprint", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("alert_episodes.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    labels: Mapped[str] = mapped_column(Text)  # JSON
    annotations: Mapped[str] = mapped_column(Text)  # JSON
    links: Mapped[str] = mapped_column(Text, default="{}")  # JSON: generator, dashboard, panel, silence
    received_at: Mapped[datetime]
    resolved_seen_at: Mapped[datetime | None]


class AlertNotificationRow(Base):
    """A notification as its sender posted it (the body, verbatim), stored at the door before the 200; routed a
    moment later from the outbox (one lane per team, in arrival order), which sets ``routed_at`` in the routing's own
    transaction: a notification is routed once, however often its outbox item is delivered."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # alertmanager | grafana
    body: Mapped[str] = mapped_column(Text)  # the JSON body, as received
    received_at: Mapped[datetime]
    routed_at: Mapped[datetime | None]


class AlertDigestRow(Base):
    """The triage message of a storm: the groups beyond max_new_incidents, one line each, edited as more arrive."""

    __tablename__ = "alert_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    opened_at: Mapped[datetime]
    edit_queued: Mapped[bool] = mapped_column(Boolean, default=False)  # one edit waits in the outbox: no more


class ChangeEventRow(Base):
    """A change to a service (a deploy, a config push), from a pipeline or by hand."""

    __tablename__ = "change_events"
    __table_args__ = (
        UniqueConstraint("team_id", "external_id"),
        Index("ix_change_events_team_at", "team_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime]
    external_id: Mapped[str | None] = mapped_column(String(200))  # the sender's idempotency key
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(32))  # the Slack user, for /incident change


class IncidentChangeRow(Base):
    """The change an incident was caused by (picked when it was resolved): at most one per incident."""

    __tablename__ = "incident_changes"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_events.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[str] = mapped_column(String(32))
    linked_at: Mapped[datetime]

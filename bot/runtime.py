"""The composition root: settings in, a wired Firebell out. Nothing here runs at import.

It is the one place that sees every part: it builds the Slack gateway, the database, the external pagers and the
dependencies, registers each outbox kind's executor and each deadline kind's handler, and assembles the HTTP doors.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy.exc import DBAPIError

from bot.bolt_app import build_bolt_app, slack_events
from bot.config import ConfigError, FirebellConfig, Settings, api_url_with_slash, load_config
from bot.delivery import LEASE as OUTBOX_LEASE
from bot.delivery import Delivery
from bot.deps import Clock, Deps, utc_now
from bot.domain.changes import Change
from bot.http_server import HttpServer
from bot.observability import logs
from bot.observability.metrics import Metrics
from bot.pagers import Pagers
from bot.scheduling import LEASE as DEADLINE_LEASE
from bot.scheduling import SAFETY_POLL_SECONDS, Deadlines, Scheduler
from bot.services import (
    alert_delivery,
    alert_intake,
    change_events,
    declare,
    escalation,
    feedback,
    followups,
    handoffs,
    oncall,
    page_notices,
    people,
    postmortems,
    reports,
    sla_notices,
    slack_effects,
)
from bot.services.effects import Executors
from bot.slack.gateway import SlackCallFailed, SlackGateway, make_client
from bot.slack.pacing import Pacer
from bot.web import WSGIApp, build_wsgi, calendar, health, route
from bot.web import metrics as metrics_door
from bot.web.alert_payloads import ChangeBody
from bot.web.alerts import alert_doors
from storage import claims, migrate, outbox, schedule, wakeups
from storage import followups as follow_up_rows
from storage import oncall as oncall_rows
from storage.db import Database, DatabaseUnavailable

log = logging.getLogger(__name__)


@dataclass
class Firebell:
    deps: Deps
    bolt: App
    wsgi: WSGIApp
    delivery: Delivery
    deadlines: Deadlines
    due: wakeups.DueSignal | None = field(default=None)  # commits that wrote deadlines (or queued outbox items)
    settings: Settings | None = field(default=None)
    scheduler: Scheduler | None = field(default=None)
    listener: wakeups.Listener | None = field(default=None)  # PostgreSQL: other replicas' new deadlines
    socket_mode: SocketModeHandler | None = field(default=None)  # Slack's requests over Socket Mode, when chosen

    def server(self, host: str, port: int) -> HttpServer:
        return HttpServer(self.wsgi, host, port)

    def start_scheduler(self) -> Scheduler:
        """Run the deadlines when due: woken by this process's commits, and on PostgreSQL (unless
        FIREBELL_DEADLINE_NOTIFY is off) by the other replicas' NOTIFY; at least every safety poll."""
        settings = self.settings
        poll = settings.firebell_safety_poll if settings else SAFETY_POLL_SECONDS
        self.scheduler = Scheduler(self.deadlines, self.deps.clock, safety_poll=poll, ticked=self.deps.metrics.ticked,
                                   look=self._look)
        self.delivery.polled_by_scheduler()
        if self.due is not None:
            self.due.subscribe(self.scheduler.due_at)
        if self.deps.db.dialect == "postgresql" and (settings is None or settings.firebell_deadline_notify):
            self.listener = wakeups.Listener(self.deps.db.engine.url, self.scheduler.due_at).start()
            self.listener.wait_listening(timeout=5)  # its NOTIFYs count from here (the first pass looks anyway)
        self.scheduler.start()
        return self.scheduler

    def _look(self, now: datetime) -> datetime | None:
        """The scheduler's read when it does not know what is due (its safety poll): when the next deadline is,
        and in the same query whether the outbox has work (queued by another process, or a dead one's claim that
        ran out), which wakes the delivery. An idle Firebell reads nothing else."""
        at = outbox.now()
        with self.deps.db.read() as session:
            due, attempt = schedule.next_work(session, now, lease=DEADLINE_LEASE, outbox_now=at,
                                              outbox_lease=OUTBOX_LEASE)
        if attempt is not None and attempt <= at:
            self.delivery.wake()
        return due

    def run_due(self, owner: str, now: datetime | None = None) -> int:
        """One tick by hand (tests): everything due at ``now``."""
        return self.deadlines.run_due(owner, now or self.deps.clock())

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until the work after the acks and the outbox are both done (tests, the demo)."""
        return self.deps.background.wait_idle(timeout=timeout) and self.delivery.wait_idle(timeout=timeout)

    def connect(self) -> None:
        """Over Socket Mode: open the WebSocket (slack_sdk reconnects by itself) and take Slack's requests."""
        if self.socket_mode is not None:
            self.socket_mode.connect()

    def close(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.close()  # no new requests; the ones in hand finish on Bolt's threads
        if self.listener is not None:
            self.listener.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.deps.background.wait_idle(timeout=30)
        self.delivery.stop()
        self.deps.background.shutdown()
        self.deps.db.dispose()


def open_database(settings: Settings) -> Database:
    """The database, upgraded to this Firebell's schema (only `serve` and `db upgrade` upgrade it). Raises
    DatabaseUnavailable when it does not answer, SchemaNewer when a newer Firebell upgraded it."""
    db = Database.from_url(settings.database_url)
    try:
        migrate.upgrade(db.engine)
    except (DBAPIError, migrate.SchemaNewer) as exc:
        db.dispose()
        if isinstance(exc, DBAPIError):
            raise DatabaseUnavailable(settings.database_url, exc) from None
        raise
    return db


def outbox_executors() -> Executors:
    """Every kind of outbox item, with the executor that carries it out."""
    executors = Executors()
    slack_effects.register(executors)
    page_notices.register(executors)
    declare.register(executors)
    reports.register(executors)
    followups.register(executors)
    postmortems.register(executors)
    feedback.register(executors)
    handoffs.register(executors)
    alert_intake.register(executors)
    alert_delivery.register(executors)
    return executors


def deadline_handlers(deps: Deps) -> Deadlines:
    """Every kind of deadline, with the handler that acts when it is due."""
    deadlines = Deadlines(deps, deps.db)
    deadlines.register(schedule.SLA_NOTICE, sla_notices.send_due)
    deadlines.register(schedule.ESCALATION, escalation.escalate_due)
    deadlines.register(follow_up_rows.REMINDER, followups.remind_due)
    deadlines.register(oncall_rows.HANDOFF, handoffs.send_due)
    return deadlines


def record_change(deps: Deps, body: ChangeBody) -> tuple[bool, dict[str, object]]:
    """POST /changes: the pipeline's change, stored once per id."""
    change, stored = change_events.record(deps, Change(service=body.service, summary=body.summary,
                                                       at=body.at or deps.clock(), url=body.url,
                                                       author=body.author, key=body.id))
    return stored, {"status": "stored" if stored else "already stored", "change": change_events.change_json(change)}


def build(settings: Settings, config: FirebellConfig | None = None, *, clock: Clock = utc_now,
          socket_mode: bool = False) -> Firebell:
    """Check settings, migrate the database, learn who we are from Slack, wire the app. With ``socket_mode``, Slack's
    requests come over a WebSocket (`Firebell.connect`) and the HTTP server answers only the other doors."""
    token, secret = settings.require_slack(socket_mode=socket_mode)
    given = config is not None
    policy_file = None if given else settings.config_path()
    config = config if config is not None else load_config(policy_file)
    metrics = Metrics()
    counter = metrics.slack_counter()
    client = make_client(token, api_url_with_slash(settings.slack_api_url), timeout=settings.slack_timeout,
                         retry_pause=settings.slack_retry_pause, observer=counter,
                         pacer=Pacer(settings.slack_limits.limits()))
    gateway = SlackGateway(client, retry_pause=settings.slack_retry_pause, observer=counter)
    try:
        identity = gateway.identity()
    except SlackCallFailed as exc:
        where = settings.slack_api_url
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN (auth.test at {where}: {exc.error})") from None
    db = open_database(settings)
    pagers = Pagers.build(((tier.name, tier.pager) for tier in config.tiers), settings.pager_keys(config, os.environ))
    metrics.watch_database(lambda: health.read_figures(db))
    deps = Deps(config=config, db=db, slack=gateway, team_id=identity.team_id, bot_user_id=identity.bot_user_id,
                pagers=pagers, clock=clock, metrics=metrics)
    bolt = build_bolt_app(deps, signing_secret="" if socket_mode else secret, client=client)
    with db.transaction() as session:  # a predecessor on this host killed midway: take its claims over now
        if dead := claims.release_dead_here(session):
            log.warning("took over the claims of %s (no longer running)", ", ".join(dead))
    delivery = Delivery(deps, outbox_executors(), safety_poll=settings.firebell_safety_poll)
    due = wakeups.DueSignal(db, notify=settings.firebell_deadline_notify)
    due.on_outbox(delivery.wake)  # every commit that queued items wakes the delivery
    deps.outbox.deliver_with(delivery.wake)
    deps.alert_doors.when_quiet(lambda: alert_intake.resume_routing(deps))
    delivery.start()  # delivers what an earlier run left in the outbox, then what comes
    oncall.plan_handoffs(deps)  # each tier's next shift change (the schedule may have changed while we were down)
    handoffs.sync_usergroups(deps, deps.clock())
    doors = [route(["GET", "HEAD"], health.PATH, health.health_check(db)),
             route(["GET"], metrics_door.PATH, metrics_door.metrics_door(metrics, settings.metrics_token())),
             *alert_doors(lambda source, body: alert_intake.accept(deps, source, body),
                          lambda change: record_change(deps, change), settings.alert_token(),
                          settings.grafana_secret(), busy=deps.alert_doors.request)]
    if calendar_token := settings.calendar_token():  # no token, no feed: /oncall/… is unknown (404)
        doors.append(route(["GET", "HEAD"], calendar.PATH, calendar.calendar_door(
            calendar_token, lambda tier, start, end: oncall.shifts(deps, tier, start, end),
            lambda users: people.names_for(deps, users), deps.clock), prefix=True))
    wsgi = build_wsgi(doors if socket_mode else [slack_events(bolt, metrics), *doors])
    source = "(the policy its caller built)" if given else str(policy_file) if policy_file else None
    logs.log_startup(log, policy_file=source, tiers=len(config.tiers), broadcast_channel=config.broadcast_channel,
                     database_url=settings.database_url)
    log.info("Firebell ready for team %s", identity.team_id)
    return Firebell(deps=deps, bolt=bolt, wsgi=wsgi, delivery=delivery, deadlines=deadline_handlers(deps), due=due,
                    settings=settings,
                    socket_mode=SocketModeHandler(bolt, secret) if socket_mode else None)

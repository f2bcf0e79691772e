"""The composition root: settings in, a wired Firebell out. Nothing here runs at import."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import App

from bot.app import WSGIApp, build_bolt_app, build_wsgi
from bot.background import Background
from bot.config import ConfigError, FirebellConfig, Settings, api_url_with_slash, load_config
from bot.delivery import Delivery
from bot.deps import Clock, Deps, utc_now
from bot.scheduling import Scheduler
from bot.server import HttpServer
from bot.slack.gateway import SlackCallFailed, SlackGateway, make_client
from storage import migrate
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Firebell:
    deps: Deps
    bolt: App
    wsgi: WSGIApp
    delivery: Delivery
    scheduler: Scheduler | None = None

    def server(self, host: str, port: int) -> HttpServer:
        return HttpServer(self.wsgi, host, port)

    def start_scheduler(self) -> Scheduler:
        self.scheduler = Scheduler(self.deps)
        self.scheduler.start()
        return self.scheduler

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until the work after the acks and the outbox are both done (tests, the demo)."""
        return self.deps.background.wait_idle(timeout=timeout) and self.delivery.wait_idle(timeout=timeout)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.deps.background.wait_idle(timeout=30)
        self.delivery.stop()
        self.deps.background.shutdown()
        self.deps.db.dispose()


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    db = Database.from_url(settings.database_url)
    if upgrade:
        migrate.upgrade(db.engine)
    return db


def build(settings: Settings, config: FirebellConfig | None = None, *, clock: Clock = utc_now) -> Firebell:
    """Check settings, migrate the database, learn who we are from Slack, wire the app."""
    settings.require_slack()
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    config = config if config is not None else load_config(settings.config_path())
    token = settings.slack_bot_token.get_secret_value()
    client = make_client(token, api_url_with_slash(settings.slack_api_url), timeout=settings.slack_timeout)
    gateway = SlackGateway(client)
    try:
        identity = gateway.identity()
    except SlackCallFailed as exc:
        where = settings.slack_api_url
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN (auth.test at {where}: {exc.error})") from None
    db = open_database(settings)
    deps = Deps(config=config, db=db, slack=gateway, background=Background(), team_id=identity.team_id,
                bot_user_id=identity.bot_user_id, clock=clock)
    bolt = build_bolt_app(deps, signing_secret=settings.slack_signing_secret.get_secret_value(),
                          client=client)
    delivery = Delivery(deps).start()  # delivers what an earlier run left in the outbox, then what comes
    deps.wake = delivery.wake
    log.info("Firebell ready for team %s (database: %s)", identity.team_id, db.dialect)
    return Firebell(deps=deps, bolt=bolt, wsgi=build_wsgi(bolt, db), delivery=delivery)

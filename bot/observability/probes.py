"""`firebell check`'s probes against the real things: the policy file, the database, Slack (through the gateway), the
environment. `serve` hands over what it already built, so that the checks at start look at what it runs with."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError

from bot.config import ConfigError, FirebellConfig, Settings, Tier, api_url_with_slash, load_config
from bot.observability.check import (
    GAP_DAYS,
    AuthFacts,
    ChannelFacts,
    GroupFacts,
    PolicyFacts,
    ProbeFailed,
    SchemaFacts,
    TierFacts,
    UserFacts,
)
from bot.slack.gateway import SlackCallFailed, SlackGateway, make_client
from storage import migrate
from storage.db import Database, DatabaseUnavailable, missing_sqlite_file, shown_url


def _schedule_facts(tier: Tier, now: datetime) -> tuple[
        tuple[str, ...], tuple[tuple[datetime, datetime], ...], tuple[tuple[int, int], ...]]:
    """The people of the tier's schedule, the gaps of its next GAP_DAYS (overrides aside: they can fill one), and
    the layers below one without hours (which always wins)."""
    if not tier.schedule:
        return (), (), ()
    users = tuple(dict.fromkeys(u for layer in tier.schedule for u in layer.users))
    gaps = tier.rotation().gaps(now, now + timedelta(days=GAP_DAYS))
    always = next((i for i, layer in enumerate(tier.schedule, 1) if layer.hours is None), None)
    shadowed = tuple((i, always) for i in range(always + 1, len(tier.schedule) + 1)) if always else ()
    return users, tuple((g.start, g.end) for g in gaps), shadowed


class LiveProbes:
    def __init__(self, settings: Settings, environ: Mapping[str, str], *, config: FirebellConfig | None = None,
                 db: Database | None = None, slack: SlackGateway | None = None) -> None:
        self.settings = settings
        self.environ = environ
        self._config = config
        self._db = db
        self._own_db = db is None
        self._slack = slack

    def close(self) -> None:
        if self._own_db and self._db is not None:
            self._db.dispose()

    def policy(self) -> PolicyFacts:
        path = self.settings.config_path()
        if self._config is None:
            try:
                self._config = load_config(path)
            except ConfigError as exc:
                raise ProbeFailed(str(exc)) from None
        config = self._config
        return PolicyFacts(
            source=str(path) if path else None, broadcast_channel=config.broadcast_channel,
            tiers=tuple(TierFacts(t.name, tuple(t.members), t.pager.type if t.pager else None,
                                  t.pager.key_env if t.pager else None, *_schedule_facts(t, self.now()))
                        for t in config.tiers),
            admins=tuple(config.admins), triage_channel=config.alerts.triage_channel)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def schema(self) -> SchemaFacts:
        url = self.settings.database_url
        if self._db is None and missing_sqlite_file(url) is not None:  # looking must not create it
            return SchemaFacts(shown_url(url), None, migrate.head_revision() or "", migrate.known_revisions())
        try:
            if self._db is None:
                self._db = Database.from_url(url)
            engine = self._db.engine
            current = migrate.current_revision(engine)
        except DBAPIError as exc:
            raise ProbeFailed(str(DatabaseUnavailable(url, exc)).removeprefix("the database ")) from None
        return SchemaFacts(shown_url(url), current, migrate.head_revision(engine) or "",
                           migrate.known_revisions(engine))

    def _gateway(self) -> SlackGateway:
        if self._slack is None:
            token = self.settings.slack_bot_token.get_secret_value() if self.settings.slack_bot_token else ""
            if not token:
                raise ProbeFailed("SLACK_BOT_TOKEN is not set")
            self._slack = SlackGateway(make_client(token, api_url_with_slash(self.settings.slack_api_url),
                                                   timeout=self.settings.slack_timeout,
                                                   retry_pause=self.settings.slack_retry_pause),
                                       retry_pause=self.settings.slack_retry_pause)
        return self._slack

    def auth(self) -> AuthFacts:
        try:
            data, scopes = self._gateway().granted_scopes()
        except SlackCallFailed as exc:
            raise ProbeFailed(f"Slack refused SLACK_BOT_TOKEN at {self.settings.slack_api_url} ({exc.error})"
                              ) from None
        return AuthFacts(data.get("team_id", "?"), data.get("team", "?"), data.get("user_id", "?"), scopes)

    def channel(self, channel_id: str) -> ChannelFacts | None:
        found = self._ask(lambda slack: slack.channel_info(channel_id), "conversations.info")
        return None if found is None else ChannelFacts(found.id, found.name, found.is_private, found.is_member,
                                                       found.is_archived)

    def user(self, user_id: str) -> UserFacts | None:
        found = self._ask(lambda slack: slack.user_info(user_id), "users.info")
        return None if found is None else UserFacts(found.id, found.name, found.deleted, found.is_bot)

    def usergroup(self, group_id: str) -> GroupFacts | None:
        size = self._ask(lambda slack: slack.usergroup_size(group_id), "usergroups.users.list")
        return None if size is None else GroupFacts(group_id, size)

    def env(self, name: str) -> str | None:
        return self.environ.get(name)

    def _ask(self, call, method: str):  # noqa: ANN001, ANN202 - a gateway lookup, its Slack error as a ProbeFailed
        try:
            return call(self._gateway())
        except SlackCallFailed as exc:
            raise ProbeFailed(f"{method} failed: {exc.error}") from None

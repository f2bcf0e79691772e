"""Declare an incident: a number, a channel, the incident row, then the card and the announcement."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import naming, rules
from bot.domain.errors import FirebellError, SlackFailure
from bot.domain.incident import Incident, Severity, Status
from bot.observability.logs import Event, incident_event
from bot.services import change_events, clock_plan, knowledge, paging, slack_effects
from bot.services.effects import Attempt, Executors, Failure, Queued, broadcast_lane, incident_lane
from bot.slack import render
from bot.slack.gateway import NameTaken, SlackCallFailed, will_heal
from storage import repositories as repo

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
CREATE_TRIES = 5  # per name, when Slack's answer is lost or it fails in a way that may heal: over about 15 s
RECENT_CHANNEL_SECONDS = 600

DECLARE = "declare"  # the outbox kind of an accepted declare
LOOK_BACK = "look_back"  # outbox kind: the changes before a new incident and the past incidents like it
LOOKED_APART = ("similar", "changes_before")  # its two halves' kinds, queued apart by declares before it


def register(executors: Executors) -> None:
    executors.register(DECLARE, carry_out, describe="declare the incident", gave_up=gave_up)
    # An item of either old kind does the whole look; each post is claimed once, so the other item queues nothing
    for kind in (LOOK_BACK, *LOOKED_APART):
        executors.register(kind, look_back, describe="look for the changes before the incident and similar ones")


@dataclass(frozen=True)
class DeclareRequest:
    team_id: str
    user_id: str
    title: str
    severity: Severity
    description: str = ""
    origin_channel: str | None = None  # the message a message shortcut was used on
    origin_ts: str | None = None
    private: bool = False  # a private channel; the broadcast channel is told only that it exists and who commands it


@dataclass(frozen=True)
class Declared:
    incident: Incident


def validate(request: DeclareRequest) -> DeclareRequest:
    """Raise InvalidInput for a bad title or description, before anything is created."""
    rules.clean_title(request.title)
    rules.clean_description(request.description)
    return request


def accept(deps: Deps, request: DeclareRequest, *, response_url: str | None = None, once: str | None = None) -> bool:
    """Before the ack: write the declare down (an outbox item, carried out at once by the delivery worker), so that
    once the person has been told "Declaring…" no stop of this process can lose it. The outcome is told through
    ``response_url``, else by DM when it failed. ``once`` (a form's view id) is claimed in the same transaction:
    False when it was claimed before. A database that does not answer raises here, before the ack."""
    payload = {"request": {**asdict(request), "severity": request.severity.value}, "response_url": response_url}
    with deps.db.transaction() as session:
        if once is not None and not repo.claim_request(session, once, deps.clock()):
            return False
        deps.outbox.enqueue_in(session, f"declare:{uuid.uuid4().hex}", DECLARE, payload)
    deps.outbox.wake()
    return True


def carry_out(deps: Deps, *, attempt: Attempt, request: dict[str, Any], response_url: str | None) -> None:
    """Outbox executor of an accepted declare. It declares once: the incident keeps the item's key, so a try after
    one that committed finds it (and still pages by policy, which is skipped when already done)."""
    wanted = DeclareRequest(**{**request, "severity": Severity(request["severity"])})
    key = attempt.marker()
    try:
        incident = _declared_before(deps, key) if attempt.unsure else None  # only an earlier try can have committed
        if incident is None:
            incident = declare(deps, wanted, key=key, unsure=attempt.unsure).incident
        else:
            paging.page_by_policy(deps, incident.id, f"{incident.severity.label} policy")
        message = render.declared_message(incident) if response_url else None
    except FirebellError as exc:
        message = exc.message
    if message is not None:
        answer_declarer(deps, wanted.user_id, response_url, message)


def gave_up(deps: Deps, failure: Failure) -> None:
    """The declare's outbox item failed for good. It may have got as far as the incident, so say what to check."""
    request = failure.payload["request"]
    answer_declarer(deps, request["user_id"], failure.payload.get("response_url"),
                    f"⚠️ Firebell could not finish declaring “{request['title']}” ({failure.error}). "
                    "Check `/incident list` before you declare it again.")


def answer_declarer(deps: Deps, user_id: str, response_url: str | None, message: str) -> None:
    """Tell the person how their declare went: through the command's response_url, which lasts 30 minutes (a declare
    carried out later, or one from a form, is told by DM)."""
    try:
        if response_url:
            try:
                deps.slack.respond(response_url, message)
                return
            except SlackCallFailed as exc:
                log.warning("response_url failed (%s); telling %s by DM", exc.error, user_id)
        deps.slack.post(user_id, message)
    except SlackCallFailed as exc:
        log.error("could not tell %s how their declare went: %s", user_id, exc.error)


def _declared_before(deps: Deps, key: str) -> Incident | None:
    with deps.db.read() as session:
        found = repo.find_by_declare_key(session, key)
        return repo.to_domain(found) if found is not None else None


def declare(deps: Deps, request: DeclareRequest, *, key: str | None = None, unsure: bool = False) -> Declared:
    """Create the incident and its channel together: if either fails, neither remains, and no number is used up.
    ``key`` marks the incident with the accepted declare it comes from; ``unsure`` says an earlier try of it may
    have created the channel before it stopped."""
    title = rules.clean_title(request.title)
    description = rules.clean_description(request.description)
    permalink = (deps.slack.permalink(request.origin_channel, request.origin_ts)
                 if request.origin_channel and request.origin_ts else None)
    made: list[str] = []  # the channel, once Slack created it (archived again if the declare fails)

    def store(session: Session, number: int) -> Incident:
        channel_id, channel_name = made if made else _create_channel(deps, number, title, unsure, request.private)
        made[:] = [channel_id, channel_name]
        now = deps.clock()
        row = repo.add_incident(
            session, team_id=request.team_id, number=number, title=title, description=description,
            severity=request.severity.value, status=Status.DECLARED.value, channel_id=channel_id,
            channel_name=channel_name, declared_by=request.user_id, commander=request.user_id, declared_at=now,
            declare_key=key, private=request.private,
        )
        note = f"Declared {request.severity.label}: {title}"
        repo.add_timeline_event(session, row, at=now, kind="declared", actor=request.user_id,
                                text=note + (f" (from a message: {permalink})" if permalink else ""),
                                permalink=permalink)
        clock_plan.refresh(deps, session, row)
        incident = repo.to_domain(row)
        _open_channel(deps, session, incident)
        return incident

    try:
        if deps.db.dialect == "sqlite":
            incident = _declare_on_sqlite(deps, request, store, made, title, unsure)
        else:
            # PostgreSQL: the team's counter row stays locked (FOR UPDATE) while Slack creates the channel. Only
            # this team's declares wait on it, across every replica; a failure rolls the number back.
            with deps.db.transaction() as session:
                incident = store(session, repo.take_incident_number(session, request.team_id))
    except BaseException:
        if made:
            _archive_unused_channel(deps, made[0])
        raise
    deps.cache.changed()
    deps.outbox.wake()
    incident_event(Event.DECLARED, incident.ref, incident.team_id,
                   f"{incident.severity.label}{' (private)' if incident.private else ''} by {incident.declared_by} "
                   f"in #{incident.channel_name}")
    paging.page_by_policy(deps, incident.id, f"{request.severity.label} policy", severity=incident.severity)
    return Declared(incident=incident)


def _declare_on_sqlite(deps: Deps, request: DeclareRequest, store: Callable[[Session, int], Incident],
                       made: list[str], title: str, unsure: bool) -> Incident:
    """SQLite has one writer for the whole database, so its lock is not held across the Slack call. One process
    serves a SQLite database: a lock per team in this process orders declares, the channel is created first, and
    the number is taken (and checked still free) in the short transaction that stores the incident."""
    with deps.declare_locks.hold(request.team_id):
        with deps.db.read() as session:
            number = repo.next_incident_number(session, request.team_id)
        made[:] = list(_create_channel(deps, number, title, unsure, request.private))
        with deps.db.transaction() as session:
            taken = repo.take_incident_number(session, request.team_id)
            if taken != number:  # another process declared meanwhile: not how SQLite is meant to be run
                raise SlackFailure("Another Firebell process declared an incident at the same moment; try again. "
                                   "(Several replicas need PostgreSQL.)")
            return store(session, number)


def _create_channel(deps: Deps, number: int, title: str, unsure: bool = False,
                    private: bool = False) -> tuple[str, str]:
    """Create the channel, trying the next name when one is taken. When Slack's answer was lost (a timeout, a 5xx)
    or an earlier try stopped midway (``unsure``), the channel may exist anyway: the same name is tried again, and
    if it is taken by a channel the bot made moments ago that no incident holds, that channel is this declare's."""
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = naming.channel_name(deps.config.channel_prefix, number, title, attempt)
        for tried in range(CREATE_TRIES):
            try:
                return deps.slack.create_channel(name, private=private), name
            except NameTaken:
                if unsure and (made := _made_by_us(deps, name)) is not None:
                    return made, name
                unsure = False  # the next name is new
                break
            except SlackCallFailed as exc:
                if not will_heal(exc.error):
                    raise _not_created(exc) from None
                log.warning("conversations.create %s failed (%s); trying again", name, exc.error)
                unsure, error = True, exc
                if tried + 1 < CREATE_TRIES:
                    time.sleep(deps.slack.retry_pause * 2 ** tried)  # doubled before each next try
        else:
            if (stray := _made_by_us(deps, name)) is not None:  # the last try may have made it after all
                _archive_unused_channel(deps, stray)
            raise _not_created(error)
    raise SlackFailure(f"Channel names like `{name}` are all taken; no incident was declared.")


def _not_created(exc: SlackCallFailed) -> SlackFailure:
    return SlackFailure(f"Slack could not create the incident channel ({exc.error}); no incident was declared. "
                        "Try again.")


def _made_by_us(deps: Deps, name: str) -> str | None:
    """The id of the channel ``name`` if the bot created it in the last few minutes and no incident holds it."""
    for _ in range(CREATE_TRIES):
        try:
            channel = deps.slack.find_channel(name)
            break
        except SlackCallFailed as exc:
            log.warning("could not look for channel %s: %s", name, exc.error)
            if not will_heal(exc.error):
                return None
    else:
        return None
    if (channel is None or channel.get("creator") != deps.bot_user_id
            or float(channel.get("created") or 0) < time.time() - RECENT_CHANNEL_SECONDS):
        return None
    with deps.db.read() as session:
        return None if repo.find_by_channel(session, channel["id"]) is not None else channel["id"]


def _archive_unused_channel(deps: Deps, channel_id: str) -> None:
    try:
        deps.slack.archive_channel(channel_id)
    except SlackCallFailed as exc:
        log.error("could not archive channel %s of a declare that failed: %s", channel_id, exc.error)


def _open_channel(deps: Deps, session: Session, incident: Incident) -> None:
    """In the declare transaction: the topic (first, before anyone can act in the channel), the reporter's invite,
    the card; the announcement in the incident's broadcast lane (it goes out as soon as the broadcast channel's limit
    allows, neither waiting for the card nor holding it up); and, in a lane of its own, the look for the changes
    before it and for similar past incidents (posted after the card), all written in one statement.
    Delivered from the outbox; a step Slack refuses for good is said in the channel."""
    channel = incident.channel_id
    assert channel is not None
    lane = incident_lane(incident.id)
    items = [Queued(lane, slack_effects.TOPIC, {"channel": channel, "topic": render.channel_topic(incident)}),
             Queued(lane, slack_effects.INVITE, {"channel": channel, "users": [incident.declared_by]}),
             Queued(lane, slack_effects.POST_CARD, {"incident_id": incident.id})]
    if deps.config.broadcast_channel:  # of a private incident, only that it exists and who commands it
        text, blocks = ((render.private_announcement_text(incident), render.private_announcement(incident))
                        if incident.private else (render.incident_summary(incident), render.announcement(incident)))
        items.append(Queued(broadcast_lane(incident.id), slack_effects.POST, {
            "channel": deps.config.broadcast_channel, "text": text, "blocks": slack_effects.serialised(blocks)}))
    items.append(Queued(f"look-back:{incident.id}", LOOK_BACK, {"incident_id": incident.id}))
    deps.outbox.enqueue_items(session, items)  # one statement: a declare's share of the database's work


def look_back(deps: Deps, *, attempt: Attempt, incident_id: int) -> None:
    """Outbox executor, in a lane of its own once the declare has committed (a long look through the past never
    holds up the channel's work): the changes before the incident and the resolved incidents like it, read
    together; what was found is queued behind the card in the incident's lane, each post once (claimed in the
    transaction that queues it, so a second run of this item queues nothing)."""
    with deps.db.read() as session:
        incident = repo.incident_alone(session, incident_id)
        if incident is None or incident.channel_id is None:
            return
        changes = change_events.before(deps, session, incident)
        similar = knowledge.similar_to(session, incident)
    if not changes and not similar:
        return
    with deps.db.transaction() as session:
        if changes:
            change_events.queue_changes_before(deps, session, incident, changes)
        if similar:
            knowledge.queue_similar(deps, session, incident, similar)
    deps.outbox.wake()

"""`/incident …`: parse, call one use case, answer (ephemerally)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.domain.changes import Change
from bot.domain.errors import FirebellError
from bot.services import (
    change_events,
    clocks,
    followups,
    incidents,
    knowledge,
    lifecycle,
    oncall,
    paging,
    problems,
    reports,
)
from bot.services import declare as declaring
from bot.services.change import Target
from bot.slack import changes as changes_render
from bot.slack import followups as follow_up_lists
from bot.slack import knowledge as learnt
from bot.slack import modals, render
from bot.slack import oncall as rota
from bot.slack.command_parser import (
    Acknowledge,
    AddFollowUp,
    AddNote,
    AddOverride,
    AssignRole,
    CancelOverride,
    ChangeProblem,
    Command,
    Declare,
    Describe,
    FollowUpDone,
    Help,
    LinkProblem,
    ListFollowUps,
    ListOpen,
    ListOverrides,
    ListProblems,
    NewProblem,
    OnIncident,
    PageTier,
    PauseSla,
    PostUpdate,
    RecordChange,
    Reopen,
    Resolve,
    ResumeSla,
    Search,
    SetSeverity,
    SetStatus,
    ShowChanges,
    ShowOnCall,
    ShowProblem,
    ShowReport,
    ShowSla,
    ShowTimeline,
    UnlinkProblem,
    parse_command,
)
from bot.slack.ids import COMMAND, DeclareMetadata
from handlers.common import open_form, reply_to_command


def register(app: App) -> None:
    app.command(COMMAND)(handle_incident_command)


def handle_incident_command(ack: Ack, command: dict[str, Any], deps: Deps) -> None:
    try:
        parsed = parse_command(command.get("text", ""))
        dispatch(ack, command, deps, parsed)
    except FirebellError as exc:  # raised before the ack: the answer is the ack
        ack(text=exc.message)


def dispatch(ack: Ack, command: dict[str, Any], deps: Deps, parsed: Command) -> None:
    """One parsed command to its use case; the answer is the ack (or a form, or what comes after)."""
    if isinstance(parsed, OnIncident):
        on_incident(ack, command, deps, parsed, Target(deps.team_id, command.get("channel_id"), parsed.number))
        return
    user = command["user_id"]
    reply = reply_to_command(deps, command)
    match parsed:
        case Help():
            ack(text=render.HELP)
        case ListOpen():
            ack(text="Open incidents", blocks=incidents.open_list_blocks(deps, deps.team_id, user))
        case Declare(title=""):
            ack()
            metadata = DeclareMetadata(origin="command", channel_id=command.get("channel_id"))
            open_form(deps, command["trigger_id"],
                      modals.declare_modal(metadata, severity=parsed.severity, private=parsed.private), reply)
        case Declare():
            request = declaring.validate(declaring.DeclareRequest(
                team_id=deps.team_id, user_id=user, title=parsed.title, severity=parsed.severity,
                private=parsed.private))
            declaring.accept(deps, request, response_url=command.get("response_url"))
            ack(text=f"Declaring a {'private ' if parsed.private else ''}{parsed.severity.label} incident…")
        case Search(text=words):
            text, blocks = learnt.search_results(words, knowledge.search(deps, words, viewer=user))
            ack(text=text, blocks=blocks)
        case ListProblems():
            text, blocks = learnt.problem_list(problems.unresolved(deps))
            ack(text=text, blocks=blocks)
        case ListFollowUps(mine=mine):
            text, blocks = follow_up_lists.listing(followups.listing(deps, user if mine else None), deps.clock(),
                                                   mine=mine)
            ack(text=text, blocks=blocks)
        case FollowUpDone(follow_up=number):
            followups.done(deps, deps.team_id, user, number)
            ack(text=f"Follow-up #{number} is done.")
        case ShowReport(period=period):
            answer, rendered = reports.headline(deps, user, period)
            ack(text=answer, blocks=rendered)
        case ShowProblem(problem=number):
            text, blocks = learnt.problem_view(problems.show(deps, number, user))
            ack(text=text, blocks=blocks)
        case ShowOnCall(tier=tier):
            text, blocks = rota.oncall_view(oncall.who_is_on_call(deps, tier))
            ack(text=text, blocks=blocks)
        case AddOverride(tier=tier, user_id=person, duration=length, start=start, end=end):
            added, zone = oncall.add_override(deps, user, tier, person, duration=length, start=start, end=end)
            ack(text=rota.override_added(added, zone))
        case ListOverrides():
            text, blocks = rota.overrides_view(oncall.list_overrides(deps))
            ack(text=text, blocks=blocks)
        case CancelOverride(number=number):
            ack(text=rota.override_cancelled(oncall.cancel_override(deps, user, number)))
        case RecordChange(service=service, summary=summary):
            change, stored = change_events.record(deps, Change(service=service, summary=summary, at=deps.clock(),
                                                               recorded_by=user))
            ack(text=changes_render.recorded(change, stored))
        case ShowChanges(window=window):
            shown = window or deps.config.changes.window
            text, blocks = changes_render.changes_message(change_events.recent(deps, shown), shown,
                                                          before_incident=False)
            ack(text=text, blocks=blocks)
        case ChangeProblem(problem=number, status=status, workaround=workaround, cause=cause):
            changed = problems.change(deps, user, number, status=status, workaround=workaround, cause=cause)
            text, blocks = learnt.problem_view(changed)
            ack(text=text, blocks=blocks)


def on_incident(ack: Ack, command: dict[str, Any], deps: Deps, parsed: OnIncident, target: Target) -> None:
    """A command about one incident (the channel's, or the one it names)."""
    user = command["user_id"]
    reply = reply_to_command(deps, command)
    if parsed.number is not None:  # named from elsewhere: a private incident is only for its channel's members
        incidents.get(deps, target, viewer=user)
    match parsed:
        case Acknowledge():
            lifecycle.acknowledge(deps, target, user)
            ack()
        case SetStatus(status=status, text=text):
            lifecycle.set_status(deps, target, user, status, text)
            ack()
        case SetSeverity(severity=severity):
            lifecycle.set_severity(deps, target, user, severity)
            ack()
        case AssignRole(role=role, user_id=assignee):
            lifecycle.assign_role(deps, target, user, role, assignee)
            ack()
        case PostUpdate(text=""):
            incident = incidents.get(deps, target)
            ack()
            open_form(deps, command["trigger_id"], modals.update_modal(incident), reply)
        case PostUpdate(text=text):
            lifecycle.post_update(deps, target, user, text)
            ack()
        case AddNote(text=text):
            incident = lifecycle.add_note(deps, target, user, text)
            ack(text=f"Noted on {incident.ref}'s timeline.")
        case ShowTimeline():
            incident = incidents.get(deps, target)
            ack(text=f"{incident.ref} timeline", blocks=render.timeline(incident))
        case Resolve():
            incident = lifecycle.check_can_resolve(deps, target, user)
            ack()
            form = modals.resolve_modal(incident, deps.config.root_cause_categories,
                                        change_events.candidates(deps, incident))
            open_form(deps, command["trigger_id"], form, reply)
        case Reopen(reason=reason):
            lifecycle.reopen(deps, target, user, reason)
            ack()
        case PageTier(tier=tier, message=message):
            paging.page(deps, target, user, tier, message)
            ack()
        case ShowSla():
            incident = incidents.get(deps, target)
            ack(text=f"{incident.ref} SLA clocks", blocks=render.sla_view(incident, deps.clock()))
        case PauseSla(reason=reason):
            clocks.pause_clock(deps, target, user, reason)
            ack()
        case ResumeSla():
            clocks.resume_clock(deps, target, user)
            ack()
        case NewProblem(title=title):
            problems.open_problem(deps, target, user, title)
            ack()
        case LinkProblem(problem=number):
            problems.link(deps, target, user, number)
            ack()
        case UnlinkProblem():
            problems.unlink(deps, target, user)
            ack()
        case AddFollowUp(text=text):
            item = followups.add(deps, target, user, text)
            ack(text=f"Added follow-up {item.ref}.")
        case Describe(text=text):
            lifecycle.describe(deps, target, user, text)
            ack()


"""Parse `/incident …` text into a typed command, or a UsageError that says how to write it.

The manifest sets `should_escape: true`, so Slack sends mentions as `<@U123|name>` and a typed `<`, `>`
or `&` as `&lt;`, `&gt;`, `&amp;`; free text is unescaped back to what the person typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.errors import InvalidInput, UsageError
from bot.domain.incident import DEFAULT_SEVERITY, Role, Severity, Status, incident_ref, parse_ref
from bot.domain.problems import ProblemStatus
from bot.domain.problems import parse_ref as parse_problem_ref
from bot.domain.problems import parse_status as parse_problem_status
from bot.domain.rules import parse_severity
from bot.domain.transitions import SETTABLE
from bot.durations import parse_duration

_SEVERITY_LIKE = re.compile(r"^sev\w{0,2}$", re.IGNORECASE)  # sev2, sev9, sevv; not "Severity"
_PRIVATE = re.compile(r"^(--|—|–)private$", re.IGNORECASE)  # a client may turn the typed -- into a dash
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListOpen:
    pass


@dataclass(frozen=True)
class Declare:
    severity: Severity
    title: str  # empty: open the declare form
    private: bool = False  # `--private`: a private channel, and the broadcast channel told only who commands it


@dataclass(frozen=True)
class OnIncident:
    """A command about one incident; ``number`` None means the incident of the channel it was typed in."""

    number: int | None


@dataclass(frozen=True)
class Acknowledge(OnIncident):
    pass


@dataclass(frozen=True)
class SetStatus(OnIncident):
    status: Status
    text: str


@dataclass(frozen=True)
class SetSeverity(OnIncident):
    severity: Severity


@dataclass(frozen=True)
class AssignRole(OnIncident):
    role: Role
    user_id: str


@dataclass(frozen=True)
class PostUpdate(OnIncident):
    text: str  # empty: open the update form


@dataclass(frozen=True)
class AddNote(OnIncident):
    text: str


@dataclass(frozen=True)
class ShowTimeline(OnIncident):
    pass


@dataclass(frozen=True)
class Resolve(OnIncident):
    pass


@dataclass(frozen=True)
class Reopen(OnIncident):
    reason: str


@dataclass(frozen=True)
class PageTier(OnIncident):
    tier: str
    message: str


@dataclass(frozen=True)
class ShowSla(OnIncident):
    pass


@dataclass(frozen=True)
class PauseSla(OnIncident):
    reason: str


@dataclass(frozen=True)
class ResumeSla(OnIncident):
    pass


@dataclass(frozen=True)
class Search:
    text: str


@dataclass(frozen=True)
class ListProblems:
    pass


@dataclass(frozen=True)
class ListFollowUps:
    mine: bool


@dataclass(frozen=True)
class FollowUpDone:
    follow_up: int


@dataclass(frozen=True)
class AddFollowUp(OnIncident):
    text: str


@dataclass(frozen=True)
class Describe(OnIncident):
    text: str


@dataclass(frozen=True)
class ShowReport:
    period: str  # "" for the default (30d); checked by the report use case


@dataclass(frozen=True)
class RecordChange:
    service: str
    summary: str


@dataclass(frozen=True)
class ShowChanges:
    window: timedelta | None  # None: changes.window of firebell.yml


@dataclass(frozen=True)
class ShowProblem:
    problem: int


@dataclass(frozen=True)
class ChangeProblem:
    """One change to a problem: exactly one of its fields is set."""

    problem: int
    status: ProblemStatus | None = None
    workaround: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class NewProblem(OnIncident):
    title: str


@dataclass(frozen=True)
class LinkProblem(OnIncident):
    problem: int


@dataclass(frozen=True)
class UnlinkProblem(OnIncident):
    pass


@dataclass(frozen=True)
class ShowOnCall:
    tier: str | None  # None: every tier


@dataclass(frozen=True)
class AddOverride:
    """``user_id`` on call in ``tier``: for ``duration`` from now, or until ``end``, or from ``start`` until ``end``
    (naive local times, read in the person's own Slack time zone)."""

    tier: str
    user_id: str
    duration: timedelta | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ListOverrides:
    pass


@dataclass(frozen=True)
class CancelOverride:
    number: int


OnCallCommand = ShowOnCall | AddOverride | ListOverrides | CancelOverride
Command = (OnCallCommand | Help | ListOpen | Declare | Search | ListProblems | ShowProblem | ChangeProblem
           | ShowReport | ListFollowUps | FollowUpDone | RecordChange | ShowChanges | OnIncident)

USAGE = {
    "declare": "`/incident declare [--private] [sev1…sev4] <title>`",
    "list": "`/incident list`",
    "ack": "`/incident ack`",
    "status": "`/incident status investigating|identified|monitoring [text]`",
    "sev": "`/incident sev 1…4`",
    "role": "`/incident role commander|comms|scribe @person`",
    "update": "`/incident update [text]`",
    "note": "`/incident note <text>`",
    "timeline": "`/incident timeline`",
    "resolve": "`/incident resolve`",
    "reopen": "`/incident reopen <why>`",
    "page": "`/incident page <tier> [message]`",
    "sla": "`/incident sla`, `/incident sla pause <why>`, `/incident sla resume`",
    "search": "`/incident search <words>`",
    "problem": "`/incident problem new <title>`, `problem link PRB-N`, `problem unlink`, `problem PRB-N`, "
               "`problem PRB-N status open|known-error|resolved`, `problem PRB-N workaround <text>`, "
               "`problem PRB-N cause <text>`",
    "problems": "`/incident problems`",
    "report": "`/incident report [7d|30d|90d]`",
    "followups": "`/incident followups [mine]`",
    "followup": "`/incident followup add <text> [@owner] [due YYYY-MM-DD]`, `/incident followup done <N>`",
    "describe": "`/incident describe <text>`",
    "oncall": "`/incident oncall [tier]`, `oncall override <tier> @person <8h | until YYYY-MM-DD HH:MM>`, "
              "`oncall override <tier> @person from YYYY-MM-DD HH:MM until YYYY-MM-DD HH:MM` (your time zone), "
              "`oncall overrides`, `oncall cancel <N>`",
    "change": "`/incident change <service> <summary>`",
    "changes": "`/incident changes [6h]`",
    "help": "`/incident help`",
}


def parse_command(text: str) -> Command:
    words = text.split()
    number = None
    if words and (found := parse_ref(words[0])) is not None:
        number, words = found, words[1:]
    if not words:
        if number is not None:
            ref = incident_ref(number)
            raise UsageError(f"What should happen to {ref}? For example `/incident {ref} ack`.")
        return Help()
    verb, rest = words[0].lower(), words[1:]
    if re.fullmatch(r"sev[1-4]", verb):  # `/incident sev2` is `/incident sev 2`
        verb, rest = "sev", [verb[-1], *rest]
    if verb in ("help", "?"):
        return Help()
    if verb in _TEAM_WIDE:
        if number is not None:
            raise UsageError(f"`{verb}` does not take an incident number: {USAGE[verb]}.")
        return _TEAM_WIDE[verb](rest)
    if verb == "problem":
        return _problem(number, rest)
    if verb == "followup":
        return _followup(number, rest)
    parse = _ON_INCIDENT.get(verb)
    if parse is None:
        raise UsageError(f"`{verb}` is not an incident command. Commands: {', '.join(USAGE)}; "
                         "`/incident help` shows how to write each.")
    return parse(number, rest)


def _usage(verb: str, problem: str) -> UsageError:
    return UsageError(f"{problem} Write it as {USAGE[verb]}.")


def _declare(words: list[str]) -> Declare:
    """`--private` and the severity come before the title, in either order."""
    severity, private, severity_given = DEFAULT_SEVERITY, False, False
    while words:
        if _PRIVATE.match(words[0]) and not private:
            private, words = True, words[1:]
        elif _SEVERITY_LIKE.match(words[0]) and not severity_given:
            try:
                severity = parse_severity(words[0])
            except InvalidInput as exc:
                raise _usage("declare", exc.message) from None
            severity_given, words = True, words[1:]
        else:
            break
    if words and words[0].startswith(("--", "—")):  # a misspelt flag must not become the title
        raise _usage("declare", f"`{unescape(words[0])}` is not something declare knows; it knows `--private`.")
    return Declare(severity=severity, title=unescape(" ".join(words)), private=private)


def _search(words: list[str]) -> Search:
    if not words:
        raise _usage("search", "Say what to look for.")
    return Search(unescape(" ".join(words)))


def _problems(words: list[str]) -> ListProblems:
    if words:
        raise _usage("problems", "`problems` takes nothing more; `/incident problem PRB-N` shows one.")
    return ListProblems()


def _followups(words: list[str]) -> ListFollowUps:
    if words and [w.lower() for w in words] != ["mine"]:
        raise _usage("followups", "`followups` takes `mine` or nothing.")
    return ListFollowUps(mine=bool(words))


def _followup(number: int | None, rest: list[str]) -> Command:
    action = rest[0].lower() if rest else ""
    if action == "add":
        text = unescape(" ".join(rest[1:]))
        if not text:
            raise _usage("followup", "Say what should be done.")
        return AddFollowUp(number, text)
    if action == "done":
        if number is not None:
            raise _usage("followup", "`followup done` takes the follow-up's number, not an incident's.")
        if len(rest) != 2 or not rest[1].lstrip("#").isdigit():
            raise _usage("followup", "Give the follow-up's number, e.g. `/incident followup done 12`.")
        return FollowUpDone(int(rest[1].lstrip("#")))
    raise _usage("followup", "Add one or mark one done.")


def _report(words: list[str]) -> ShowReport:
    if len(words) > 1:
        raise _usage("report", "`report` takes one period at most.")
    return ShowReport(words[0] if words else "")


def _list(words: list[str]) -> ListOpen:
    return ListOpen()


def _change(words: list[str]) -> RecordChange:
    if len(words) < 2:
        raise _usage("change", "Name the service, then say what changed.")
    return RecordChange(unescape(words[0]), unescape(" ".join(words[1:])))


def _changes(words: list[str]) -> ShowChanges:
    if not words:
        return ShowChanges(None)
    if len(words) != 1:
        raise _usage("changes", "Give at most one window, like `6h` or `2d`.")
    try:
        return ShowChanges(parse_duration(words[0]))
    except ValueError as exc:
        raise _usage("changes", f"{exc}.") from None




def _oncall(words: list[str]) -> OnCallCommand:
    action = words[0].lower() if words else ""
    if not words:
        return ShowOnCall(None)
    if action == "overrides":
        if len(words) != 1:
            raise _usage("oncall", "`oncall overrides` takes nothing more.")
        return ListOverrides()
    if action == "cancel":
        if len(words) != 2 or not words[1].lstrip("#").isdigit():
            raise _usage("oncall", "Say which override to cancel by its number (`/incident oncall overrides` lists "
                                   "them).")
        return CancelOverride(int(words[1].lstrip("#")))
    if action == "override":
        return _override(words[1:])
    if len(words) != 1:
        raise _usage("oncall", f"`{unescape(' '.join(words))}` is not an on-call command.")
    return ShowOnCall(unescape(words[0]))


def _override(words: list[str]) -> AddOverride:
    if len(words) < 3:
        raise _usage("oncall", "Name the tier, the person and how long.")
    tier, who, rest = unescape(words[0]), words[1], [w.lower() for w in words[2:]]
    mention = _MENTION.match(who)
    if not mention:
        raise _usage("oncall", f"`{unescape(who)}` is not a mention of a person; type @ and pick them.")
    user = mention.group(1)
    if rest[0] == "until":
        return AddOverride(tier, user, end=_local_time(rest[1:]))
    if rest[0] == "from":
        if "until" not in rest:
            raise _usage("oncall", "Say when it ends: `from YYYY-MM-DD HH:MM until YYYY-MM-DD HH:MM`.")
        split = rest.index("until")
        return AddOverride(tier, user, start=_local_time(rest[1:split]), end=_local_time(rest[split + 1:]))
    if len(rest) != 1:
        raise _usage("oncall", "Give one duration (like `8h` or `2d`), or `until YYYY-MM-DD HH:MM`.")
    try:
        return AddOverride(tier, user, duration=parse_duration(rest[0]))
    except ValueError:
        raise _usage("oncall", f"`{unescape(rest[0])}` is not a duration; write it like 30m, 8h or 2d.") from None


def _local_time(words: list[str]) -> datetime:
    text = " ".join(words)
    try:
        if len(words) != 2:
            raise ValueError
        return datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise _usage("oncall", f"`{unescape(text) or 'nothing'}` is not a time; write it as YYYY-MM-DD HH:MM, "
                               "e.g. 2026-12-24 18:00 (in your Slack time zone).") from None


_TEAM_WIDE: dict[str, Callable[[list[str]], Command]] = {"list": _list, "declare": _declare, "search": _search,
                                                         "problems": _problems, "report": _report,
                                                         "followups": _followups, "oncall": _oncall,
                                                         "change": _change, "changes": _changes}


def _problem(number: int | None, rest: list[str]) -> Command:
    """`problem new|link|unlink …` is about the incident; `problem PRB-N …` about the problem."""
    action = rest[0].lower() if rest else ""
    if action == "new":
        title = unescape(" ".join(rest[1:]))
        if not title.strip():
            raise _usage("problem", "Give the new problem a title.")
        return NewProblem(number, title)
    if action == "link":
        if len(rest) != 2:
            raise _usage("problem", "Name the problem to link to, like `PRB-3`.")
        return LinkProblem(number, parse_problem_ref(rest[1]))
    if action == "unlink":
        if len(rest) != 1:
            raise _usage("problem", "`unlink` takes nothing more.")
        return UnlinkProblem(number)
    if not rest:
        raise _usage("problem", "Say what to do with a problem.")
    if number is not None:
        raise _usage("problem", f"`problem {unescape(rest[0])}` is about a problem, not an incident.")
    problem = parse_problem_ref(rest[0])
    if len(rest) == 1:
        return ShowProblem(problem)
    field, value = rest[1].lower(), unescape(" ".join(rest[2:]))
    if field == "status":
        try:
            return ChangeProblem(problem, status=parse_problem_status(value))
        except InvalidInput as exc:
            raise _usage("problem", exc.message) from None
    if field in ("workaround", "cause"):
        if not value.strip():
            raise _usage("problem", f"Say what the {'workaround' if field == 'workaround' else 'root cause'} is.")
        return (ChangeProblem(problem, workaround=value) if field == "workaround"
                else ChangeProblem(problem, cause=value))
    raise _usage("problem", f"`{unescape(rest[1])}` is not something a problem has; use status, workaround or cause.")


def _no_args(verb: str, make: type[OnIncident]):  # noqa: ANN202
    def parse(number: int | None, rest: list[str]) -> OnIncident:
        if rest:
            raise _usage(verb, f"`{verb}` takes nothing more (name an incident before it: `/incident INC-7 {verb}`).")
        return make(number)
    return parse


def _status(number: int | None, rest: list[str]) -> SetStatus:
    names = ", ".join(s.value for s in SETTABLE)
    if rest and rest[0].lower() == Status.RESOLVED.value:  # resolving asks for the root cause: it has its own form
        raise UsageError("To resolve an incident, use `/incident resolve`: it asks for the root cause and the "
                         "follow-ups.")
    if not rest or rest[0].lower() not in [s.value for s in SETTABLE]:
        raise _usage("status", f"The status must be one of: {names}.")
    return SetStatus(number, Status(rest[0].lower()), unescape(" ".join(rest[1:])))


def _severity(number: int | None, rest: list[str]) -> SetSeverity:
    if len(rest) != 1:
        raise _usage("sev", "Give one severity.")
    try:
        return SetSeverity(number, parse_severity(rest[0]))
    except InvalidInput as exc:
        raise _usage("sev", exc.message) from None


def _role(number: int | None, rest: list[str]) -> AssignRole:
    roles = [r.value for r in Role]
    if len(rest) != 2 or rest[0].lower() not in roles:
        raise _usage("role", f"Name a role ({', '.join(roles)}) and one person.")
    mention = _MENTION.match(rest[1])
    if not mention:
        raise _usage("role", f"`{unescape(rest[1])}` is not a mention of a person; type @ and pick them.")
    return AssignRole(number, Role(rest[0].lower()), mention.group(1))


def _text(verb: str, make: type[OnIncident], *, required: bool):  # noqa: ANN202
    def parse(number: int | None, rest: list[str]) -> OnIncident:
        text = unescape(" ".join(rest))
        if required and not text:
            raise _usage(verb, "Say what to record.")
        return make(number, text)  # type: ignore[call-arg]
    return parse


def _page(number: int | None, rest: list[str]) -> PageTier:
    if not rest:
        raise _usage("page", "Name the tier to page.")
    return PageTier(number, rest[0], unescape(" ".join(rest[1:])))


def _sla(number: int | None, rest: list[str]) -> OnIncident:
    if not rest:
        return ShowSla(number)
    action = rest[0].lower()
    if action == "pause":
        if len(rest) < 2:
            raise _usage("sla", "Say why the clock is paused.")
        return PauseSla(number, unescape(" ".join(rest[1:])))
    if action == "resume" and len(rest) == 1:
        return ResumeSla(number)
    raise _usage("sla", f"`{unescape(rest[0])}` is not an SLA action.")


_ON_INCIDENT = {
    "page": _page,
    "sla": _sla,
    "ack": _no_args("ack", Acknowledge),
    "timeline": _no_args("timeline", ShowTimeline),
    "resolve": _no_args("resolve", Resolve),
    "status": _status,
    "sev": _severity,
    "severity": _severity,
    "role": _role,
    "update": _text("update", PostUpdate, required=False),
    "note": _text("note", AddNote, required=True),
    "reopen": _text("reopen", Reopen, required=True),
    "describe": _text("describe", Describe, required=True),
}

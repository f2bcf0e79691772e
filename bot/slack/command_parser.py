"""Parse `/incident …` text into a typed command, or a UsageError that says how to write it.

The manifest sets `should_escape: true`, so Slack sends mentions as `<@U123|name>` and a typed `<`, `>`
or `&` as `&lt;`, `&gt;`, `&amp;`; free text is unescaped back to what the person typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import InvalidInput, UsageError
from bot.domain.incident import DEFAULT_SEVERITY, Role, Severity, Status, incident_ref, parse_ref
from bot.domain.problems import ProblemStatus
from bot.domain.problems import parse_ref as parse_problem_ref
from bot.domain.problems import parse_status as parse_problem_status
from bot.domain.rules import parse_severity
from bot.domain.transitions import SETTABLE
from bot.durations import parse_duration

_SEVERITY_LIKE = re.compile(r"^sev\w{0,2}$", re.IGNORECASE)  # sev2, sev9, sevv; not "Severity"
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


Command = (Help | ListOpen | Declare | Search | ListProblems | ShowProblem | ChangeProblem | RecordChange | ShowChanges
           | OnIncident)

USAGE = {
    "declare": "`/incident declare [sev1…sev4] <title>`",
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
    parse = _ON_INCIDENT.get(verb)
    if parse is None:
        raise UsageError(f"`{verb}` is not an incident command. Commands: {', '.join(USAGE)}; "
                         "`/incident help` shows how to write each.")
    return parse(number, rest)


def _usage(verb: str, problem: str) -> UsageError:
    return UsageError(f"{problem} Write it as {USAGE[verb]}.")


def _declare(words: list[str]) -> Declare:
    severity = DEFAULT_SEVERITY
    if words and _SEVERITY_LIKE.match(words[0]):
        try:
            severity = parse_severity(words[0])
        except InvalidInput as exc:
            raise _usage("declare", exc.message) from None
        words = words[1:]
    return Declare(severity=severity, title=unescape(" ".join(words)))


def _search(words: list[str]) -> Search:
    if not words:
        raise _usage("search", "Say what to look for.")
    return Search(unescape(" ".join(words)))


def _problems(words: list[str]) -> ListProblems:
    if words:
        raise _usage("problems", "`problems` takes nothing more; `/incident problem PRB-N` shows one.")
    return ListProblems()


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


_TEAM_WIDE: dict[str, Callable[[list[str]], Command]] = {"list": _list, "declare": _declare, "search": _search,
                                                         "problems": _problems, "change": _change,
                                                         "changes": _changes}


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
}

"""Search hits, similar incidents and problem records as Slack receives them (`to_dict()`), and their commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import UsageError
from bot.domain.incident import Status
from bot.domain.problems import LinkedIncident, Problem, ProblemCount, ProblemStatus, ProblemSummary
from bot.domain.search import MARK_END, MARK_START, FoundIncident, SearchHit, SearchResults, SimilarIncident
from bot.slack import knowledge as render
from bot.slack.command_parser import (
    ChangeProblem,
    LinkProblem,
    ListProblems,
    NewProblem,
    Search,
    ShowProblem,
    UnlinkProblem,
    parse_command,
)

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def found(number: int = 4, status: Status = Status.RESOLVED, **fields) -> FoundIncident:
    values = {"incident_id": number, "team_id": "T0", "number": number, "title": "Checkout <!channel> & 502s",
              "status": status, "severity": "sev2", "declared_at": T0, "resolved_at": T0 + timedelta(hours=2),
              "channel_id": f"C0INC{number}", "root_cause_category": "capacity",
              "root_cause": "The <@U0BOB> pool was too small", "resolution": "Raised the pool"}
    values.update(fields)
    if status is not Status.RESOLVED:
        values.update(resolved_at=None, root_cause=None, resolution=None, root_cause_category=None)
    return FoundIncident(**values)


def dicts(blocks) -> list[dict]:
    return [b.to_dict() for b in blocks]


def test_a_hit_shows_id_title_status_when_snippet_outcome_and_channel_escaped():
    hit = SearchHit(found(), 1.0, f"gateway {MARK_START}timeouts{MARK_END} & <resets>", "updates")
    text, blocks = render.search_results("timeouts", SearchResults(("timeouts",), (hit,), True))
    shown = json.dumps(dicts(blocks), ensure_ascii=False)
    assert text == "🔎 1 incident match “timeouts”, the best first"
    for expected in ("*INC-4*", "Checkout &lt;!channel&gt; &amp; 502s", "Resolved", "<!date^", "<#C0INC4>",
                     "gateway *timeouts* &amp; &lt;resets&gt;", "(on the timeline)", "*Root cause* (capacity)",
                     "The &lt;@U0BOB&gt; pool was too small", "*What fixed it*: Raised the pool"):
        assert expected in shown, expected
    assert "<!channel>" not in shown and "<@U0BOB>" not in shown


def test_an_open_hit_has_no_outcome_and_no_match_is_said_plainly():
    open_hit = SearchHit(found(5, Status.INVESTIGATING), 1.0, None, None)
    _, blocks = render.search_results("checkout", SearchResults(("checkout",), (open_hit,), True))
    shown = json.dumps(dicts(blocks), ensure_ascii=False)
    assert "Investigating" in shown and "Root cause" not in shown and "resolved" not in shown
    assert render.search_results("kafka", SearchResults(("kafka",), (), True))[0] == (
        "No match: no incident mentions “kafka”.")
    assert "No words to search for" in render.search_results("🔥 *", SearchResults((), (), True))[0]
    partial, _ = render.search_results("kafka lag", SearchResults(("kafka", "lag"), (open_hit,), False))
    assert "No incident mentions all of “kafka lag”; 1 mention some of it" in partial


def test_ten_hits_with_long_text_stay_within_slacks_limits():
    long = found(title="x" * 150, root_cause="y" * 3000, resolution="z" * 3000)
    hits = tuple(SearchHit(long, 1.0, "w " * 40, "description") for _ in range(10))
    _, blocks = render.search_results("x", SearchResults(("x",), hits, True))
    assert len(blocks) <= 50 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in dicts(blocks))


def test_similar_incidents_show_cause_fix_and_their_problem_with_its_workaround():
    problem = ProblemSummary(3, "Pools sized for last year", ProblemStatus.KNOWN_ERROR, "Raise the pool by hand")
    similar = [SimilarIncident(found(4), 0.8, frozenset({"checkout", "502s"}), problem),
               SimilarIncident(found(2), 0.6, frozenset({"checkout"}), None)]
    text, blocks = render.similar_incidents("INC-9", similar)
    shown = json.dumps(dicts(blocks), ensure_ascii=False)
    assert text == "🔎 INC-9 looks like 2 past incidents: INC-4, INC-2"
    assert shown.index("*INC-4*") < shown.index("*INC-2*")
    for expected in ("Similar past incidents", "(capacity)", "Raised the pool", "🧩 *PRB-3* (Known error): Pools "
                     "sized for last year", "*Workaround*: Raise the pool by hand", "502s, checkout"):
        assert expected in shown, expected


def test_a_problem_shows_status_workaround_cause_and_its_incidents():
    problem = Problem(id=1, team_id="T0", number=3, title="Pools <small>", status=ProblemStatus.OPEN,
                      workaround=None, root_cause=None, created_by="U0ALICE", created_at=T0, updated_at=T0,
                      resolved_at=None, incidents=(LinkedIncident(4, 4, "Checkout 502s", "resolved", T0, "U0ALICE",
                                                                  "C0INC4"),))
    text, blocks = render.problem_view(problem)
    shown = json.dumps(dicts(blocks), ensure_ascii=False)
    assert text == "🧩 PRB-3: Pools <small>"
    for expected in ("*PRB-3*: Pools &lt;small&gt;", "*Status*: Open", "opened by <@U0ALICE>",
                     "`/incident problem PRB-3 workaround <text>`", "*Incidents (1)*", "*INC-4* Checkout 502s",
                     "Resolved", "<#C0INC4>"):
        assert expected in shown, expected
    listed = json.dumps(dicts(render.problem_list([ProblemCount(problem.summary(), 2, T0)])[1]), ensure_ascii=False)
    assert "*PRB-3* (Open) Pools &lt;small&gt; · 2 incidents, the last declared <!date^" in listed
    assert "No open problems" in render.problem_list([])[0]


@pytest.mark.parametrize(("text", "command"), [
    ("search checkout <timeouts>", Search("checkout <timeouts>")),
    ("search \"OR\" NEAR( *", Search('"OR" NEAR( *')),
    ("problems", ListProblems()),
    ("problem new Pool &amp; queue", NewProblem(None, "Pool & queue")),
    ("INC-4 problem link prb3", LinkProblem(4, 3)),
    ("problem unlink", UnlinkProblem(None)),
    ("problem PRB-3", ShowProblem(3)),
    ("problem PRB-3 status Known error", ChangeProblem(3, status=ProblemStatus.KNOWN_ERROR)),
    ("problem PRB-3 workaround restart it", ChangeProblem(3, workaround="restart it")),
    ("problem PRB-3 cause too small", ChangeProblem(3, cause="too small")),
])
def test_knowledge_commands(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(("text", "message"), [
    ("search", "Say what to look for"), ("INC-2 search x", "does not take an incident number"),
    ("problem", "Say what to do with a problem"), ("problem new", "Give the new problem a title"),
    ("problem link", "Name the problem to link to"), ("problem PRB-x", "is not a problem"),
    ("problem PRB-3 status closed", "`closed` is not a problem status"), ("problem PRB-3 owner x", "`owner` is not"),
    ("INC-2 problem PRB-3", "is about a problem, not an incident"), ("problem PRB-3 workaround", "Say what the"),
])
def test_knowledge_commands_explain_mistakes(text, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        parse_command(text)

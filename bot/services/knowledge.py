"""What past incidents know: search them, and show a new incident the resolved ones like it.

The words and the verdicts come from ``bot.domain.search``, the matching from ``storage.search`` (full-text indexes
kept by the database's own triggers). The similar-incident lookup runs from the outbox in a lane of its own, after
the declare has committed (``declare.look_back``, with the changes before the incident): it never delays the declare,
the card or the pages, and what it finds is queued behind the card in the incident's lane, so it is posted after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import search as words
from bot.domain.incident import Incident
from bot.domain.search import SearchHit, SearchResults, SimilarIncident
from bot.services import slack_effects, visibility
from bot.slack import knowledge as render
from storage import problems as problem_rows
from storage import repositories as repo
from storage import search as index

CANDIDATES = 100  # resolved incidents looked at per new incident, newest first



def search(deps: Deps, typed: str, *, viewer: str) -> SearchResults:
    """`/incident search`: the team's incidents, open and past, that ``viewer`` may be shown (a private incident
    only to its channel's members). Hidden hits are read past, so that up to a full page of visible ones is shown."""
    with deps.db.read() as session:
        results = find(session, typed, team_id=deps.team_id, limit=index.MAX_HITS * 2)
    shown = visibility.visible_to(deps, viewer, [hit.incident for hit in results.hits])
    kept = [hit for hit in results.hits if hit.incident in shown][:index.MAX_HITS]
    return SearchResults(results.terms, tuple(kept), results.every_term)


def find(session: Session, typed: str, *, team_id: str | None = None, limit: int = index.MAX_HITS) -> SearchResults:
    """Incidents holding every word typed; when none does, those holding any of them."""
    terms = words.query_terms(typed)
    hits = index.search(session, terms, team_id=team_id, limit=limit)
    if hits or len(terms) < 2:
        return SearchResults(terms, tuple(hits), True)
    return SearchResults(terms, tuple(index.search(session, terms, team_id=team_id, any_term=True, limit=limit)),
                         False)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _plain(snippet: str | None) -> str | None:
    """A snippet for the shell: the matched words between ** (as Markdown bold)."""
    return None if snippet is None else snippet.replace(words.MARK_START, "**").replace(words.MARK_END, "**")


def hit_json(hit: SearchHit) -> dict[str, Any]:
    found = hit.incident
    return {"id": found.ref, "team_id": found.team_id, "title": found.title, "status": found.status.value,
            "severity": found.severity, "declared_at": _iso(found.declared_at), "resolved_at": _iso(found.resolved_at),
            "channel_id": found.channel_id, "root_cause_category": found.root_cause_category,
            "root_cause": found.root_cause, "resolution": found.resolution, "snippet": _plain(hit.snippet),
            "matched_in": hit.snippet_field or "title", "score": round(hit.score, 6)}


def results_json(typed: str, results: SearchResults) -> dict[str, Any]:
    """`firebell search --json`."""
    return {"query": typed, "terms": list(results.terms), "every_term": results.every_term,
            "hits": [hit_json(hit) for hit in results.hits]}


def results_text(typed: str, results: SearchResults) -> str:
    """`firebell search`: the same hits as `/incident search`, as lines for a terminal."""
    if not results.terms:
        return f"no words to search for in {typed!r}"
    if not results.hits:
        return f"no match: no incident mentions {typed!r}"
    lines = [] if results.every_term else [f"no incident mentions all of {typed!r}; these mention some of it:"]
    for hit in results.hits:
        found = hit.incident
        lines.append(f"{found.ref}  {found.status.value}  declared {found.declared_at:%Y-%m-%d %H:%M} UTC  "
                     f"{found.title}  (channel {found.channel_id or '-'})")
        if hit.snippet and hit.snippet_field in ("description", "updates"):
            lines.append(f"    {_plain(hit.snippet)}")
        if found.root_cause:
            lines.append(f"    root cause ({found.root_cause_category or '-'}): {found.root_cause}")
        if found.resolution:
            lines.append(f"    fixed by: {found.resolution}")
    return "\n".join(lines)


def similar(session: Session, *, incident_id: int, team_id: str, title: str, description: str,
            limit: int = words.MAX_SIMILAR) -> list[SimilarIncident]:
    """The team's resolved incidents similar to this one (bot.domain.search says how that is decided), each with
    the problem record it belongs to."""
    terms = words.similar_terms(title, description)
    if not terms:
        return []
    total = index.incident_count(session)
    frequencies = index.document_counts(session, [t.word for t in terms], words.document_frequency_cap(total))
    weights = words.weights(terms, frequencies, total)
    candidates = index.similar_candidates(session, words.deciding_terms(weights), exclude=incident_id,
                                          team_id=team_id, limit=CANDIDATES)
    shared = index.shared_terms(session, [candidate for candidate, _ in candidates], list(weights))
    verdicts = words.choose_similar(weights, (words.Candidate(candidate, declared_at, frozenset(shared[candidate]))
                                              for candidate, declared_at in candidates), limit=limit)
    ids = [verdict.incident_id for verdict in verdicts]
    found, problems = index.incidents(session, ids), problem_rows.summaries_of(session, ids)
    return [SimilarIncident(found[v.incident_id], v.score, v.shared, problems.get(v.incident_id)) for v in verdicts]


def similar_to(session: Session, incident: Incident) -> list[SimilarIncident]:
    """The resolved incidents similar to a new one."""
    return similar(session, incident_id=incident.id, team_id=incident.team_id, title=incident.title,
                   description=incident.description)


def queue_similar(deps: Deps, session: Session, incident: Incident, found: Sequence[SimilarIncident]) -> None:
    """Queue the post of ``found`` in the incident's lane (behind its card), once: it is claimed in ``session``."""
    if incident.channel_id is None or not repo.claim_request(session, f"similar:{incident.id}", deps.clock()):
        return
    text, blocks = render.similar_incidents(incident.ref, found)
    deps.outbox.enqueue(session, incident.id, slack_effects.POST, channel=incident.channel_id, text=text,
                        blocks=slack_effects.serialised(blocks))

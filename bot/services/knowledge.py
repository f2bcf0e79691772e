"""What past incidents know: search them, and find the resolved ones like a new incident.

These take the caller's Session (the use case that calls them owns the transaction); the words and the verdicts
come from ``bot.domain.search``, the matching from ``storage.search``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.domain import search as words
from storage import search as index

CANDIDATES = 100  # resolved incidents looked at per new incident, newest first


@dataclass(frozen=True)
class SearchResults:
    terms: tuple[str, ...]  # the words searched for; empty when the text held none
    hits: tuple[index.Hit, ...]
    every_term: bool  # False: no incident holds all the words, and these hold some of them


def search(session: Session, typed: str, *, team_id: str | None = None) -> SearchResults:
    """Incidents holding every word typed; when none does, those holding any of them."""
    terms = words.query_terms(typed)
    hits = index.search(session, terms, team_id=team_id)
    if hits or len(terms) < 2:
        return SearchResults(terms, tuple(hits), True)
    return SearchResults(terms, tuple(index.search(session, terms, team_id=team_id, any_term=True)), False)


@dataclass(frozen=True)
class Similar:
    incident: index.Found
    score: float  # the share of the new incident's weight it holds, 0.0 to 1.0
    shared: frozenset[str]


def similar(session: Session, *, incident_id: int, team_id: str, title: str, description: str,
            limit: int = words.MAX_SIMILAR) -> list[Similar]:
    """The team's resolved incidents similar to this one (see bot.domain.search for how that is decided)."""
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
    found = index.incidents(session, [verdict.incident_id for verdict in verdicts])
    return [Similar(found[v.incident_id], v.score, v.shared) for v in verdicts]

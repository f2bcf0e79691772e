"""What a person typed, as search terms; and when a past incident counts as similar to a new one.

Pure: no SQL, no Slack. The databases do the matching (SQLite FTS5, PostgreSQL tsvector, both stemming words so
``timeouts`` finds ``timeout``); this module decides which words go to them and how to judge what comes back.

Typed text is never query syntax. It is cut into words (runs of letters and digits, as the full-text tokenisers
cut it); quotes, ``OR``, ``NEAR(``, ``*``, ``-``, ``:``, SQL and emoji are separators or plain words, and the
storage layer passes each word on as a literal. A word is matched by its stem, so ``OR`` is the word "or".

**Similar incidents.** A new incident's title and description give up to ``MAX_SIMILAR_TERMS`` significant words
(stop words and one-letter words left out; title words first). Each word weighs its rarity among all stored
incidents, ``idf = ln(1 + N / df)`` (``N`` incidents, ``df`` of them mention it), doubled for a word of the title.
A resolved incident is similar when its title, description, root cause or resolution (not its status chatter)
contains words holding at least ``SIMILAR_THRESHOLD`` of the new incident's total weight, and at least two of them
(one, when the new incident has one word). Rare shared words count for much, common ones ("error", "api") for
little, so two incidents that share only generic words are not similar. The most similar come first, the newest
among equals; at most ``MAX_SIMILAR`` are shown.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.incident import Status, incident_ref
from bot.domain.problems import ProblemSummary

MAX_QUERY_TERMS = 32  # a pasted paragraph is searched by its first 32 distinct words
MAX_SIMILAR_TERMS = 12
MAX_SIMILAR = 3
SIMILAR_THRESHOLD = 0.5
TITLE_WEIGHT = 2.0

# Function words that say nothing about an incident. Words like "down", "not" or "out" are kept: "site down".
STOP_WORDS = frozenset([
    "a", "about", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because",
    "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
    "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers",
    "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
    "more", "most", "my", "myself", "no", "nor", "of", "on", "once", "only", "or", "other", "our", "ours",
    "ourselves", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "until", "very",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "yourself", "yourselves",
])

_WORD_CATEGORIES = ("L", "N", "M")  # letters, numbers, and the marks that belong to them (decomposed accents)


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in _WORD_CATEGORIES or category == "Co"


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order: runs of letters and digits (with their accents). Everything
    else (punctuation, quotes, operators, emoji, control characters) separates words. A run of marks alone is
    not a word."""
    found: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_word_char(char):
            current.append(char)
            continue
        if current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return [word.casefold() for word in found if any(unicodedata.category(c)[0] in "LN" for c in word)]


def _distinct(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def query_terms(text: str) -> tuple[str, ...]:
    """The terms to search for: the distinct words of ``text`` without stop words (all of them when every word is
    a stop word), at most ``MAX_QUERY_TERMS``. Empty when ``text`` holds no word at all."""
    found = _distinct(words(text))
    significant = [word for word in found if word not in STOP_WORDS]
    return tuple((significant or found)[:MAX_QUERY_TERMS])


@dataclass(frozen=True)
class Term:
    word: str
    in_title: bool


def similar_terms(title: str, description: str) -> tuple[Term, ...]:
    """The significant words of a new incident, title words first, at most ``MAX_SIMILAR_TERMS``."""
    title_words = _significant(words(title))
    description_words = [w for w in _significant(words(description)) if w not in title_words]
    chosen = [Term(w, True) for w in title_words] + [Term(w, False) for w in description_words]
    return tuple(chosen[:MAX_SIMILAR_TERMS])


def _significant(found: Sequence[str]) -> list[str]:
    return _distinct(w for w in found if w not in STOP_WORDS and len(w) > 1)


def document_frequency_cap(total: int) -> int:
    """Counting how many incidents mention a word stops here: a word in more than one incident in twenty is common,
    and its exact count would not change the verdict (its weight is already near the floor)."""
    return max(100, total // 20)


def weights(terms: Sequence[Term], frequencies: Mapping[str, int], total: int) -> dict[str, float]:
    """Each term's weight: its rarity (``ln(1 + N / df)``), doubled in the title. A term no incident holds (the
    database drops it as a stop word of its own, say) can match nothing and is left out."""
    result: dict[str, float] = {}
    for term in terms:
        df = frequencies.get(term.word, 0)
        if df <= 0:
            continue
        idf = math.log(1 + max(total, df) / df)
        result[term.word] = idf * (TITLE_WEIGHT if term.in_title else 1.0)
    return result


def deciding_terms(term_weights: Mapping[str, float], threshold: float = SIMILAR_THRESHOLD) -> list[str]:
    """The heaviest terms, just enough of them that an incident holding none of them cannot reach ``threshold``:
    every similar incident holds at least one, so only incidents holding one need to be looked at."""
    ordered = sorted(term_weights, key=lambda word: (-term_weights[word], word))
    chosen: list[str] = []
    while ordered and coverage(term_weights, ordered) >= threshold:  # the rest alone could still be enough
        chosen.append(ordered.pop(0))
    return chosen


def coverage(term_weights: Mapping[str, float], shared: Iterable[str]) -> float:
    """How much of the new incident's weight a past incident holds: 0.0 to 1.0."""
    total = math.fsum(term_weights.values())  # fsum: exactly rounded, so the order of the words cannot matter
    if total <= 0:
        return 0.0
    return math.fsum(term_weights.get(word, 0.0) for word in set(shared)) / total


@dataclass(frozen=True)
class Candidate:
    incident_id: int
    declared_at: datetime
    shared: frozenset[str]  # the new incident's terms this one holds in its title, description, root cause, fix


@dataclass(frozen=True)
class Verdict:
    incident_id: int
    score: float
    shared: frozenset[str]


def choose_similar(term_weights: Mapping[str, float], candidates: Iterable[Candidate], *,
                   limit: int = MAX_SIMILAR, threshold: float = SIMILAR_THRESHOLD) -> list[Verdict]:
    """The candidates similar enough, most similar first, newest first among equals."""
    needed = min(2, len(term_weights))
    if needed == 0:
        return []
    similar = []
    for candidate in candidates:
        shared = frozenset(candidate.shared) & term_weights.keys()
        score = coverage(term_weights, shared)
        if len(shared) >= needed and score >= threshold:
            similar.append((candidate, Verdict(candidate.incident_id, score, shared)))
    similar.sort(key=lambda pair: (-round(pair[1].score, 9), -pair[0].declared_at.timestamp(),
                                   -pair[0].incident_id))
    return [verdict for _, verdict in similar[:limit]]


# --- what a search or a similar-incident lookup gives back ----------------------------------------------------------

MARK_START, MARK_END = "\x02", "\x03"  # around each matched word of a snippet; renderers turn them into bold
SNIPPET_FIELDS = ("description", "updates", "root_cause", "resolution")  # where a snippet can come from


@dataclass(frozen=True)
class FoundIncident:
    """An incident as a search hit or a similar incident shows it."""

    incident_id: int
    team_id: str
    number: int
    title: str
    status: Status
    severity: str
    declared_at: datetime
    resolved_at: datetime | None
    channel_id: str | None
    root_cause_category: str | None
    root_cause: str | None
    resolution: str | None
    private: bool = False

    @property
    def ref(self) -> str:
        return incident_ref(self.number)


@dataclass(frozen=True)
class SearchHit:
    incident: FoundIncident
    score: float  # higher is more relevant; comparable only within one search
    snippet: str | None  # where it matched, MARK_START/MARK_END around the matched words; None: in the title only
    snippet_field: str | None  # one of SNIPPET_FIELDS


@dataclass(frozen=True)
class SearchResults:
    terms: tuple[str, ...]  # the words searched for; empty when the text held none
    hits: tuple[SearchHit, ...]
    every_term: bool  # False: no incident holds all the words, and these hold some of them


@dataclass(frozen=True)
class SimilarIncident:
    incident: FoundIncident
    score: float  # the share of the new incident's weight it holds, 0.0 to 1.0
    shared: frozenset[str]
    problem: ProblemSummary | None
